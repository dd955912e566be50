"""Reviewer records and evaluation metrics on small hand-made workspaces with known answers."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from digestkit import evaluation as ev
from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit.cli import main
from digestkit.evaluation import latency, metrics
from digestkit.exceptions import RevisionError, ScopeError, UsageError, WorkspaceError

RB, OTHER = "premium-s1-escalation", "standard-s2-triage"
REPO = Path(__file__).resolve().parents[1]


def src(system, ident, locator):
    return {"system": system, "id": ident, "locator": locator}


def claim(cid, part, kind, text, *sources):
    return {
        "id": cid,
        "part": part,
        "kind": kind,
        "text": text,
        "sources": list(sources),
        "details": {},
    }


def make_digest(runbook, rev, baseline, published_at, *, changed=(), carried=(), oq=(), flags=()):
    ref = f"{runbook}@{rev}"
    return {
        "schema_version": 1,
        "digest_id": ref,
        "header": {
            "runbook_id": runbook,
            "title": "Severity-1 Escalation Runbook",
            "revision": rev,
            "revision_ref": ref,
            "baseline": baseline,
            "baseline_ref": f"{runbook}@{baseline}" if baseline else None,
            "published_at": published_at,
            "publisher": "j.doe",
            "change_reason": f"Update {rev}",
            "as_of": published_at,
        },
        "changed_steps": list(changed),
        "carried_forward": list(carried),
        "open_questions": list(oq),
        "flags": list(flags),
        "sources": [],
        "audit": {
            "revision_ref": ref,
            "as_of": published_at,
            "approved_by": "j.doe",
            "snapshots": {"products": "0" * 64},
        },
    }


def post(root: Path, digest: dict, *, event_id: str, created_at: str) -> None:
    folder = root / "digests" / digest["digest_id"]
    folder.mkdir(parents=True)
    (folder / "digest.json").write_text(json.dumps(digest))
    audit = {
        "digest_id": digest["digest_id"],
        "event_id": event_id,
        "created_at": created_at,
        "state": "draft",
    }
    (folder / "audit.json").write_text(json.dumps(audit))


CF_TEXT = "Premium: initial update within 15 minutes."
CF_FIXED = "Premium: initial update within 30 minutes."
CHG_TEXT = "Step 2 was changed."
CHG_FIXED = "Step 2 was changed!"

D1 = make_digest(
    RB,
    "r1",
    None,
    "2024-01-10T09:00:00Z",
    carried=[
        claim(
            "CF-01",
            "carried_forward",
            "ownership",
            "Payments API is owned by Payments Engineering, as in the registry.",
            src("registry", "PRD-PAYAPI", "owning_team"),
        ),
        claim(
            "CF-02",
            "carried_forward",
            "entitlement_assumption",
            CF_TEXT,
            src("crm", "entitlements", "tier=Premium;record_status=approved;active_on=2024-01-10"),
        ),
    ],
    flags=[
        claim(
            "FLG-01",
            "flags",
            "ownership_conflict",
            "The runbook assigns Payments API to Ledger Engineering; the registry differs.",
            src("runbook", f"{RB}@r1", "L15-L15"),
            src("registry", "PRD-PAYAPI", "owning_team"),
        ),
        claim(
            "FLG-02",
            "flags",
            "exception_not_approved",
            "The runbook references exception EXC-1042, whose register status is pending.",
            src("exceptions", "EXC-1042", "status"),
        ),
    ],
)
D2 = make_digest(
    RB,
    "r2",
    "r1",
    "2024-03-01T10:00:00Z",
    changed=[
        claim(
            "CHG-01",
            "changed_steps",
            "added",
            "Item “2. Page payments-oncall.” added.",
            src("runbook", f"{RB}@r2", "L16-L16"),
        ),
        claim(
            "CHG-02", "changed_steps", "modified", CHG_TEXT, src("runbook", f"{RB}@r2", "L99-L99")
        ),  # beyond the 17-line file: unresolved
    ],
    carried=[
        claim(
            "CF-01",
            "carried_forward",
            "ownership",
            "Payments API is owned as registered.",
            src("registry", "PRD-PAYAPI", "owning_team"),
        ),
    ],
    oq=[
        claim(
            "OQ-01",
            "open_questions",
            "open_question",
            "Open question in Steps, marked 'TBD'.",
            src("runbook", f"{RB}@r2", "L17-L17"),
        ),
    ],
    flags=[
        claim(
            "FLG-01",
            "flags",
            "stale_ownership",
            "Ownership of Ledger (PRD-LEDGER) is stale.",
            src("runbook", f"{RB}@r2", "L15-L15"),
            src("registry", "PRD-LEDGER", "last_verified_at"),
        ),
        claim(
            "FLG-02",
            "flags",
            "unsupported_impact_assumption",
            "Offer the customer a service credit.",  # a scope violation, planted
            src(
                "crm",
                "entitlements",
                "tier=Premium;record_status=approved;active_on=2024-03-01;deviating",
            ),
        ),
    ],
)
D3 = make_digest(  # first published revision: nothing to carry forward, still complete
    OTHER,
    "r1",
    None,
    "2024-01-20T12:00:00Z",
    flags=[
        claim(
            "FLG-01",
            "flags",
            "exception_expired",
            "Exception EXC-1043 expired.",
            src("exceptions", "EXC-1043", "valid_to"),
        ),
    ],
)

GOLD = {
    f"{RB}@r1": {
        "runbook_id": RB,
        "revision": "r1",
        "baseline": None,
        "changes": [],
        "issues": [
            {"kind": "ownership_conflict", "ref": "PRD-PAYAPI", "section": [], "lines": [15, 15]},
            {"kind": "exception_not_approved", "ref": "EXC-1042", "section": [], "lines": None},
            {
                "kind": "ambiguous_carve_out",
                "refs": ["EXC-1042", "EXC-1043"],
                "section": [],
                "lines": None,
            },
        ],
        "unchanged_sections": [],
    },
    f"{RB}@r2": {
        "runbook_id": RB,
        "revision": "r2",
        "baseline": "r1",
        "changes": [
            {
                "class": "step_added",
                "kind": "added",
                "unit": "list_item",
                "section": ["Steps"],
                "old_lines": None,
                "new_lines": [16, 16],
                "ref": None,
            },
            {
                "class": "reworded",
                "kind": "modified",
                "unit": "list_item",
                "section": ["Steps"],
                "old_lines": [15, 15],
                "new_lines": [15, 15],
                "ref": None,
            },
            {
                "class": "whitespace",
                "kind": None,
                "unit": "list_item",
                "section": ["Steps"],
                "old_lines": [16, 16],
                "new_lines": [17, 17],
                "ref": None,
            },
        ],
        "issues": [
            {"kind": "open_question", "section": ["Steps"], "lines": [17, 17]},
            {"kind": "stale_ownership", "ref": "PRD-LEDGER", "section": [], "lines": [15, 15]},
        ],
        "unchanged_sections": [],
    },
}


@pytest.fixture
def world(tiny_world):
    return src_mod.open_sources(tiny_world)


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    post(root, D1, event_id="EVT-000001", created_at="2024-01-10T09:05:00Z")
    post(root, D2, event_id="EVT-000004", created_at="2024-03-01T10:10:00Z")
    post(root, D3, event_id="EVT-000002", created_at="2024-01-20T12:01:00Z")
    return root


def write_reviews(root: Path) -> None:
    r1, r2, s1 = f"{RB}@r1", f"{RB}@r2", f"{OTHER}@r1"
    for digest_id, claim_id, verdict, text in [
        (r1, "CF-01", "accepted", None),
        (r1, "CF-02", "accepted", None),
        (r1, "CF-02", "corrected", CF_FIXED),  # the later verdict wins
        (r1, "FLG-01", "accepted", None),
        (r1, "FLG-02", "accepted", None),
        (r2, "CHG-01", "accepted", None),
        (r2, "CHG-02", "corrected", CHG_FIXED),
        (r2, "CF-01", "accepted", None),
        (r2, "OQ-01", "accepted", None),
        (r2, "FLG-01", "accepted", None),
        (r2, "FLG-02", "accepted", None),
        (s1, "FLG-01", "rejected", "The register says it was extended."),
    ]:
        rv.add_review(
            root, digest_id, claim_id=claim_id, verdict=verdict, text=text, reviewer="m.ross"
        )
    rv.add_missed(
        root,
        r2,
        text="Ledger ownership conflict not flagged.",
        part="flags",
        kind="ownership_conflict",
        source="registry:PRD-LEDGER:owning_team",
        reviewer="m.ross",
    )
    rv.add_missed(
        root,
        r2,
        text="Step 1 was reworded.",
        part="changed_steps",
        source=f"runbook:{RB}@r2:L15-L15",
        reviewer="m.ross",
    )


# --- review records ----------------------------------------------------------------------------


def test_review_records_are_validated_and_appended(workspace):
    path = workspace / "digests" / f"{RB}@r1" / "reviews.jsonl"
    first = rv.add_review(
        workspace,
        f"{RB}@r1",
        claim_id="FLG-01",
        verdict="accepted",
        reviewer="m.ross",
        at="2024-01-10T10:00:00Z",
    )
    assert first == {
        "review_id": f"{RB}@r1#R001",
        "digest_id": f"{RB}@r1",
        "claim_id": "FLG-01",
        "verdict": "accepted",
        "text": None,
        "rating": None,
        "part": "flags",
        "kind": "ownership_conflict",
        "source": None,
        "reviewer": "m.ross",
        "at": "2024-01-10T10:00:00Z",
    }
    missed = rv.add_missed(
        workspace,
        f"{RB}@r1",
        text="Carve-out conflict missed.",
        part="flags",
        source="exceptions:EXC-1043:handling",
        reviewer="a.lee",
    )
    assert missed["review_id"].endswith("#R002")
    assert missed["source"] == {"system": "exceptions", "id": "EXC-1043", "locator": "handling"}
    lines = path.read_text().splitlines()
    assert [json.loads(line)["verdict"] for line in lines] == ["accepted", "missed"]
    frame = rv.load_reviews(workspace)
    assert list(frame.columns) == list(rv.COLUMNS)
    assert list(frame["reviewer"]) == ["m.ross", "a.lee"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"digest_id": f"{RB}@r9", "claim_id": "FLG-01", "verdict": "accepted"},
            WorkspaceError,
            "no digest",
        ),
        (
            {"claim_id": "FLG-99", "verdict": "accepted"},
            WorkspaceError,
            "has no claim 'FLG-99'.*FLG-01",
        ),
        ({"claim_id": "FLG-01", "verdict": "approved"}, UsageError, "unknown verdict 'approved'"),
        ({"claim_id": "FLG-01", "verdict": "missed"}, UsageError, "unknown verdict 'missed'"),
        ({"claim_id": "FLG-01", "verdict": "corrected"}, UsageError, "needs --text"),
        ({"claim_id": "FLG-01", "verdict": "accepted", "text": "x"}, UsageError, "takes no --text"),
        (
            {"claim_id": "FLG-01", "verdict": "accepted", "reviewer": " "},
            WorkspaceError,
            "--reviewer must be",
        ),
        (
            {"claim_id": "FLG-01", "verdict": "accepted", "reviewer": "Dana Ross"},
            WorkspaceError,
            "a user id",
        ),
        (
            {"claim_id": "FLG-01", "verdict": "accepted", "reviewer": "d@x.example"},
            WorkspaceError,
            "a user id",
        ),
        (
            {"claim_id": "Dana Ross", "verdict": "accepted"},
            WorkspaceError,
            "has no claim with that id",
        ),
    ],
)
def test_bad_review_is_an_error_and_writes_nothing(workspace, kwargs, error, message):
    args = {"digest_id": f"{RB}@r1", "reviewer": "m.ross", **kwargs}
    with pytest.raises(error, match=message):
        rv.add_review(workspace, args.pop("digest_id"), **args)
    assert not list(workspace.glob("digests/*/reviews.jsonl"))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"part": "summary"}, UsageError, "unknown part 'summary'"),
        ({"source": "wiki:page"}, UsageError, "SYSTEM:ID"),
        ({"text": "  "}, UsageError, "needs --missed TEXT"),
        ({"kind": "Dana Ross"}, UsageError, "unknown --kind for a missed item; use one of added"),
        (
            {"source": "crm:dana@x.example"},
            ScopeError,
            "refusing the --source: it contains an e-mail",
        ),
    ],
)
def test_bad_missed_item_is_an_error_and_writes_nothing(workspace, kwargs, error, message):
    args = {
        "text": "x",
        "part": "flags",
        "source": "registry:PRD-PAYAPI",
        "reviewer": "r",
        **kwargs,
    }
    with pytest.raises(error, match=message):
        rv.add_missed(workspace, f"{RB}@r1", **args)
    assert not list(workspace.glob("digests/*/reviews.jsonl"))


def test_not_a_workspace_and_corrupt_records_are_clear_errors(tmp_path, workspace):
    with pytest.raises(WorkspaceError, match="not a handoff workspace"):
        rv.load_reviews(tmp_path / "nowhere")
    (workspace / "digests" / f"{RB}@r1" / "reviews.jsonl").write_text('{"verdict": "maybe"}\n')
    with pytest.raises(WorkspaceError, match="line 1, field 'verdict'"):
        rv.load_reviews(workspace)


# --- source resolution and gold matching -------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (src("runbook", f"{RB}@r1", "L1-L16"), True),
        (src("runbook", f"{RB}@r1", "L16-L17"), False),  # r1 has 16 lines
        (src("runbook", f"{RB}@r2", "L17-L17"), True),
        (src("runbook", f"{RB}@r3", "L1-L1"), True),  # drafts exist in the repository too
        (src("runbook", f"{RB}@r9", "L1-L1"), False),
        (src("runbook", f"{RB}@r1", "lines 1-2"), False),
        (src("registry", "PRD-PAYAPI", "owning_team"), True),
        (src("registry", "PRD-PAYAPI", "colour"), False),
        (src("registry", "PRD-NOPE", "owning_team"), False),
        (src("exceptions", "EXC-1042", "status"), True),
        (src("exceptions", "EXC-104", "status"), False),
        (
            src("crm", "entitlements", "tier=Premium;record_status=approved;active_on=2024-06-01"),
            True,
        ),
        (
            src(
                "crm",
                "entitlements",
                "tier=Premium;record_status=approved;active_on=2024-06-01;deviating",
            ),
            True,
        ),
        (src("crm", "entitlements?tier=Premium Plus", "active_on=2024-06-01"), True),
        # the only Standard entitlement is pending
        (
            src("crm", "entitlements", "tier=Standard;record_status=approved;active_on=2024-06-01"),
            False,
        ),
        (
            src("crm", "entitlements", "tier=Premium;record_status=approved;active_on=2030-01-01"),
            False,
        ),
        (src("crm", "entitlements", "tier=Premium;colour=red"), False),
        (src("crm", "contacts", "role=billing"), False),
        (src("wiki", "page", "x"), False),
    ],
)
def test_resolve_source(world, ref, expected):
    assert ev.resolve_source(ref, world) is expected


def test_match_gold_changes_issues_and_false_flags():
    digest = make_digest(
        RB,
        "r5",
        "r4",
        "2024-05-01T00:00:00Z",
        changed=[
            claim(
                "CHG-01",
                "changed_steps",
                "modified",
                "m",
                src("runbook", f"{RB}@r5", "L20-L22"),
                src("runbook", f"{RB}@r4", "L19-L21"),
            ),
            claim("CHG-02", "changed_steps", "removed", "r", src("runbook", f"{RB}@r4", "L30-L30")),
            claim("CHG-03", "changed_steps", "added", "a", src("runbook", f"{RB}@r5", "L40-L40")),
        ],
        flags=[
            claim(
                "FLG-01",
                "flags",
                "exception_expired",
                "EXC-1042 expired.",
                src("exceptions", "EXC-1042", "valid_to"),
            ),
            claim(
                "FLG-02",
                "flags",
                "ambiguous_carve_out",
                "EXC-1042 and EXC-1043 clash.",
                src("exceptions", "EXC-1042", "handling"),
            ),
        ],
        oq=[
            claim(
                "OQ-01",
                "open_questions",
                "open_question",
                "q",
                src("runbook", f"{RB}@r5", "L50-L51"),
            )
        ],
    )
    entry = {
        "changes": [
            {"class": "reworded", "kind": "modified", "old_lines": [19, 19], "new_lines": [21, 21]},
            {"class": "dropped", "kind": "removed", "old_lines": [30, 30], "new_lines": None},
            {"class": "moved", "kind": "moved", "old_lines": [5, 5], "new_lines": [40, 40]},
            {"class": "typo", "kind": None, "old_lines": [39, 39], "new_lines": [40, 40]},
            {"class": "spaces", "kind": None, "old_lines": [60, 60], "new_lines": [61, 61]},
        ],
        "issues": [
            {"kind": "exception_expired", "ref": "EXC-104", "lines": None},  # not EXC-1042
            {"kind": "ambiguous_carve_out", "refs": ["EXC-1042", "EXC-1043"], "lines": None},
            {"kind": "open_question", "lines": [51, 52]},
            {"kind": "stale_ownership", "ref": "PRD-LEDGER", "lines": None},
        ],
    }
    m = ev.match_gold(digest, entry)
    assert [(c.cls, c.claim_ids) for c in m.changes] == [
        ("reworded", ("CHG-01",)),
        ("dropped", ("CHG-02",)),
        ("moved", ()),  # CHG-03 overlaps but is reported as 'added'
    ]
    assert (m.changes_found, m.formatting_reported) == (2, 1)
    assert [c.claim_ids for c in m.formatting] == [("CHG-03",), ()]
    assert [(i.kind, i.surfaced) for i in m.issues] == [
        ("exception_expired", False),
        ("ambiguous_carve_out", True),
        ("open_question", True),
        ("stale_ownership", False),
    ]
    assert m.issues[0].group == "exception_problem"
    assert [(f.claim_id, f.matched) for f in m.false_flags] == [("FLG-01", False)]


# --- metrics -----------------------------------------------------------------------------------


def test_every_metric_on_a_known_workspace(world, workspace):
    write_reviews(workspace)
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    s = result.summary
    d = result.digests.set_index("digest_id")
    assert list(d.index) == [f"{RB}@r1", f"{OTHER}@r1", f"{RB}@r2"]  # publication order

    # provenance: 3 published revisions; r2 cites a line beyond its file; the other runbook's
    # first revision has no carried-forward claims but also no baseline to carry them from
    assert s["provenance"] == {
        "published_revisions": 3,
        "digests": 3,
        "complete": 2,
        "completeness": pytest.approx(2 / 3),
        "ci_low": pytest.approx(0.2077, abs=1e-4),  # Wilson, 2 of 3
        "ci_high": pytest.approx(0.9385, abs=1e-4),
        "unresolved_claims": 1,
    }
    assert list(d["provenance_complete"]) == [True, True, False]
    assert list(d["carry_forward_present"]) == [True, True, True]

    # reviewer corrections: 11 claims reviewed (latest verdict), 2 corrected, 1 rejected
    r = s["reviews"]["human"]
    assert (r["reviewed_claims"], r["corrected"], r["rejected"], r["missed_items"]) == (11, 2, 1, 2)
    assert r["correction_rate"] == pytest.approx(3 / 11)
    assert r["missed_rate"] == pytest.approx(2 / 13)
    expected_distance = (2 / len(CF_TEXT) + 1 / len(CHG_TEXT)) / 2
    assert r["mean_edit_distance"] == pytest.approx(expected_distance)
    assert r["reviewers"] == ["m.ross"]
    assert s["reviews"]["simulated"]["reviewed_claims"] == 0
    c = result.corrections
    assert list(c["reviews"]) == ["human"] * 5 + ["simulated"] * 5
    parts = c[c["reviews"] == "human"].set_index("part")
    assert list(parts.index) == list(ev.REVIEW_PARTS)
    # CF-02 is the entitlement assumption; CF-01 (ownership) and FLG-01 of r1 are ownership
    assert list(parts["reviewed"]) == [2, 1, 3, 0, 5]
    assert list(parts["correction_rate"].astype(float).fillna(-1)) == pytest.approx(
        [0.5, 1.0, 0.0, -1, 0.2]
    )
    assert list(parts["missed"]) == [1, 0, 1, 0, 0]
    assert parts.loc["flags", "ci_low"] == pytest.approx(0.0362, abs=1e-4)  # Wilson, 1 of 5
    assert parts.loc["flags", "ci_high"] == pytest.approx(0.6245, abs=1e-4)
    assert parts.loc["changed_steps", "missed_rate"] == pytest.approx(1 / 3)
    assert parts.loc["ownership_mappings", "missed_rate"] == pytest.approx(0.25)
    assert parts.loc["changed_steps", "mean_edit_distance"] == pytest.approx(1 / len(CHG_TEXT))

    # surfacing against the gold of the two premium revisions
    sf = result.surfacing.set_index("issue_kind")
    assert list(sf.index) == [k for k in ev.ISSUE_KINDS if k != "unknown_reference"]
    assert sf.loc["ambiguous_carve_out", ["gold_issues", "surfaced", "flags"]].tolist() == [1, 0, 0]
    assert sf.loc["ambiguous_carve_out", "recall"] == 0
    assert sf.loc["exception_problem", "recall"] == 1
    assert sf.loc["open_question", "recall"] == 1
    unsupported = sf.loc["unsupported_impact_assumption"]
    assert unsupported[["gold_issues", "flags", "false_flags"]].tolist() == [0, 1, 1]
    assert sf.loc["unsupported_impact_assumption", "false_flag_rate"] == 1
    su = s["surfacing"]
    assert (su["gold_issues"], su["surfaced"], su["flags"], su["false_flags"]) == (5, 4, 5, 1)
    assert (su["gold_changes"], su["changes_found"], su["formatting_reported"]) == (2, 1, 0)

    # scope: D2's planted concession is the one violation; D1 and D2 were accepted (nothing
    # rejected), D2 is blocked -> over-block rate 1/2
    assert list(d["scope_violations"]) == [0, 0, 1]
    assert s["scope"] == {
        "violations": 1,
        "digests_with_violations": 1,
        "drift_rate": pytest.approx(1 / 3),
        "ci_low": pytest.approx(0.0615, abs=1e-4),
        "ci_high": pytest.approx(0.7923, abs=1e-4),
        "reviewer_accepted_digests": 2,
        "over_blocked": 1,
        "over_block_rate": 0.5,
    }

    # latency: feed occurred_at -> audit created_at; without runner records no handling start
    assert list(d["latency_seconds"]) == [300.0, 60.0, 600.0]
    assert s["latency"]["end_to_end_p50_seconds"] == 300.0
    assert s["latency"]["pipeline_digests"] == 0 and d["pipeline_seconds"].isna().all()


def test_period_and_empty_workspace(world, workspace, tmp_path):
    january = ev.evaluate(workspace, data=world, gold=GOLD, period="2024-01")
    assert list(january.digests["digest_id"]) == [f"{RB}@r1", f"{OTHER}@r1"]
    assert january.summary["provenance"]["published_revisions"] == 2
    assert january.summary["provenance"]["completeness"] == 1.0
    with pytest.raises(UsageError, match="period 'January'"):
        ev.evaluate(workspace, data=world, period="January")
    with pytest.raises(UsageError, match=r"period '2024-05\.\.2024-01' ends before it starts"):
        ev.evaluate(workspace, data=world, period="2024-05..2024-01")
    assert len(ev.evaluate(workspace, data=world, period="2024-02..").digests) == 1
    empty = ev.evaluate(tmp_path / "nothing", data=world, missing_ok=True)
    assert empty.digests.empty
    assert empty.summary["reviews"]["human"]["correction_rate"] is None
    assert empty.summary["provenance"]["completeness"] == 0.0
    with pytest.raises(WorkspaceError, match="not a handoff workspace"):
        ev.evaluate(tmp_path / "nothing", data=world)


def test_json_contract_matches_the_documentation(world, workspace):
    write_reviews(workspace)
    payload = ev.evaluate(workspace, data=world, gold=GOLD).to_dict()
    json.dumps(payload)  # plain JSON: no timestamps, numpy or NaN
    assert payload["schema_version"] == 2
    assert "schema_version 2" in (REPO / "docs" / "evaluation-json.md").read_text()
    doc = (REPO / "docs" / "evaluation-json.md").read_text()

    def keys(value):
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert payload["issues"] and payload["headline"]
    missing = sorted(key for key in keys(payload) if f"`{key}`" not in doc)
    assert missing == []
    assert "NaN" not in json.dumps(payload) and "NaT" not in json.dumps(payload)
    # every headline number carries its n and interval, and the report text says n too small
    for row in payload["headline"]:
        assert {"value", "k", "n", "ci_low", "ci_high", "target", "change"} <= set(row)
        assert ("n too small" in row["shown"] or "no data yet" in row["shown"]) == (row["n"] < 10)


# --- simulation, replay, report ----------------------------------------------------------------


def test_simulated_reviews_are_deterministic_and_follow_the_gold(world, workspace, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(workspace, other)
    first = ev.simulate_reviews(workspace, seed=7, gold=GOLD, data=world)
    second = ev.simulate_reviews(other, seed=7, gold=GOLD, data=world)
    assert first.drop(columns="digest_id").equals(second.drop(columns="digest_id"))
    assert ev.simulate_reviews(workspace, seed=7, gold=GOLD, data=world).empty  # idempotent
    claims = first[first["verdict"].isin(rv.CLAIM_VERDICTS)]
    assert len(claims) == 11 and set(claims["reviewer"]) == {ev.SIMULATED_REVIEWER}
    # one usefulness rating per digest: 5, less one per rejected claim or missed item
    rated = first[first["verdict"] == "rated"].set_index("digest_id")["rating"]
    assert rated.to_dict() == {f"{RB}@r1": 4, f"{RB}@r2": 3, f"{OTHER}@r1": 5}
    rejected = claims[claims["verdict"] == "rejected"]
    assert list(zip(rejected["digest_id"], rejected["claim_id"], strict=True)) == [
        (f"{RB}@r2", "FLG-02")  # the only flag the gold does not back
    ]
    missed = first[first["verdict"] == "missed"]
    assert sorted(missed["kind"]) == ["ambiguous_carve_out", "modified"]
    assert all(ev.resolve_source(s, world) for s in missed["source"])
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    assert result.summary["reviews"]["simulated"]["reviewers"] == [ev.SIMULATED_REVIEWER]
    assert result.summary["reviews"]["human"]["reviewed_claims"] == 0
    assert "Simulated reviews are shown apart" in ev.report_caveats(result)
    assert "No review by a person yet" in ev.report_caveats(result)


def test_simulated_corrections_are_small_rewordings(world, workspace):
    for seed in range(12):
        ev.simulate_reviews(workspace, seed=seed, gold={}, data=world, reviewer=f"sim-{seed}")
    reviews = rv.load_reviews(workspace)
    corrected = reviews[reviews["verdict"] == "corrected"]
    assert len(corrected) >= 3
    # no gold: nothing rejected, every digest rated 5
    assert set(reviews["verdict"]) == {"accepted", "corrected", "rated"}
    assert set(reviews.loc[reviews["verdict"] == "rated", "rating"]) == {5}
    texts = {
        (d["digest_id"], c["id"]): c["text"]
        for d in (D1, D2, D3)
        for part in rv.PARTS
        for c in d[part]
    }
    from rapidfuzz.distance import Levenshtein

    for row in corrected.itertuples():
        original = texts[(row.digest_id, row.claim_id)]
        assert row.text != original
        assert Levenshtein.normalized_distance(original, row.text) < 0.6


def test_replay_rebuilds_and_scores_every_published_revision(tiny_world):
    gold = {
        f"{RB}@r2": {
            "baseline": "r1",
            "changes": [
                {"class": "step_added", "kind": "added", "old_lines": None, "new_lines": [16, 16]},
                {
                    "class": "renumbered",
                    "kind": "renumbered",
                    "old_lines": [16, 16],
                    "new_lines": [17, 17],
                },
            ],
            "issues": [{"kind": "orphaned_exception", "ref": "EXC-1043", "lines": None}],
        }
    }
    frame = ev.replay(tiny_world, gold=gold, progress=False)
    assert list(frame["digest_id"]) == [f"{RB}@r1", f"{RB}@r2", f"{OTHER}@r1"]
    row = frame.set_index("digest_id").loc[f"{RB}@r2"]
    assert bool(row["has_gold"]) and row["baseline"] == "r1"
    assert (row["changes_total"], row["changes_found"]) == (2, 2)
    assert (row["issues_total"], row["issues_surfaced"]) == (1, 1)
    assert not frame.set_index("digest_id").loc[f"{RB}@r1", "has_gold"]
    summary = ev.replay_summary(frame)
    assert (summary["digests"], summary["digests_with_gold"], summary["change_recall"]) == (3, 1, 1)
    # an explicit baseline that is not the gold's is not scored against it
    other = ev.replay(tiny_world, pairs=[(RB, "r2", "r1")], gold={}, progress=False)
    assert list(other["has_gold"]) == [False]


def test_render_report_writes_html_without_inputs(world, workspace):
    write_reviews(workspace)
    out = ev.render_report(workspace, data=world)
    assert out == workspace.resolve() / "evaluation" / "report.html"
    html = out.read_text()
    assert "Digest evaluation report" in html
    assert "The four questions" in html
    # 11 people's verdicts spread over parts: every part's rate is shown as too small
    assert "n too small (n = 2)" in html and "0.000" not in html.split("Trends per runbook")[0]
    assert "evaluation.evaluate(" not in html  # inputs hidden
    assert html.count("<img") >= 3  # the three plots
    assert "premium-s1-escalation@r2" in html


def test_report_notebook_passes_nbval(world, workspace):
    write_reviews(workspace)
    env = {**os.environ, "DIGESTKIT_WORKSPACE": str(workspace), "DIGESTKIT_DATA": str(world.root)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-q",
            str(REPO / "digestkit" / "notebooks" / "evaluation_report.ipynb"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout


# --- command line ------------------------------------------------------------------------------


def test_cli_review_and_evaluate(world, workspace, capsys, monkeypatch):
    monkeypatch.setenv("DIGESTKIT_DATA", str(world.root))
    ws_arg = ["--workspace", str(workspace)]
    assert (
        main(
            [
                "review",
                f"{RB}@r1",
                "--claim",
                "FLG-01",
                "--verdict",
                "corrected",
                "--text",
                "Payments API ownership differs from the registry.",
                "--reviewer",
                "m.ross",
                *ws_arg,
            ]
        )
        == 0
    )
    written = json.loads(capsys.readouterr().out)
    assert written["verdict"] == "corrected" and written["claim_id"] == "FLG-01"
    assert (
        main(
            [
                "review",
                f"{RB}@r1",
                "--missed",
                "Carve-out clash not flagged.",
                "--part",
                "flags",
                "--source",
                "exceptions:EXC-1043:handling",
                "--reviewer",
                "m.ross",
                *ws_arg,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "review",
                f"{RB}@r1",
                "--claim",
                "FLG-77",
                "--verdict",
                "accepted",
                "--reviewer",
                "m.ross",
                *ws_arg,
            ]
        )
        == 2
    )
    assert "has no claim 'FLG-77'" in capsys.readouterr().err
    assert len(rv.load_reviews(workspace)) == 2

    assert main(["evaluate", "--format", "json", *ws_arg]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["schema_version"] == 2
    assert payload["summary"]["reviews"]["human"]["corrected"] == 1
    assert payload["summary"]["reviews"]["human"]["missed_items"] == 1
    assert main(["evaluate", "--format", "markdown", *ws_arg]) == 0
    markdown = capsys.readouterr().out
    assert "## The four questions" in markdown and "## Corrections by part" in markdown
    assert "n too small (n = 1)" in markdown  # one reviewed claim


def test_carry_forward_is_required_once_there_is_a_baseline():
    first = make_digest(RB, "r1", None, "2024-01-12T09:00:00Z")
    later = make_digest(RB, "r2", "r1", "2024-02-12T09:00:00Z")
    assert metrics._carry_forward_present(first)
    assert not metrics._carry_forward_present(later)


def test_simulated_and_human_reviews_are_kept_apart_never_mixed(world, workspace):
    ev.simulate_reviews(workspace, gold=GOLD, data=world)
    before = ev.evaluate(workspace, data=world, gold=GOLD)
    write_reviews(workspace)
    after = ev.evaluate(workspace, data=world, gold=GOLD)
    human, simulated = after.summary["reviews"]["human"], after.summary["reviews"]["simulated"]
    assert human["reviewers"] == ["m.ross"] and simulated["reviewers"] == [ev.SIMULATED_REVIEWER]
    assert human["reviewed_claims"] == 11  # the person's verdicts only, as in the known workspace
    assert human["correction_rate"] == pytest.approx(3 / 11)
    # the simulation's numbers do not move when a person reviews, and stay visible
    assert simulated == before.summary["reviews"]["simulated"]
    headline = after.headline
    assert set(headline["reviews"].dropna()) == {"human", "simulated"}
    people = ev.headline_table(after)
    assert "Rated useful (4-5 on the usefulness scale)" in set(people["Measure"])
    assert len(ev.headline_table(after, simulated=True)) == 4
    assert "Simulated reviews are shown apart" in ev.report_caveats(after)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, None),
        (0.44, "0.4 s"),
        (42, "42 s"),
        (185, "3 min 5 s"),
        (7440, "2 h 4 min"),
        (19074351, "220 d 18 h"),
    ],
)
def test_latency_is_shown_in_units_a_reader_scans(seconds, shown):
    assert ev.duration(seconds) == shown


def test_report_tables_hide_the_index_and_blank_missing_values():
    frame = pd.DataFrame({"part": ["flags"], "rate": [float("nan")], "n": [0.12345]})
    page = ev.table(frame).to_html()
    assert "—" in page and "0.123" in page and "nan" not in page.lower()
    assert 'class="row_heading' not in page


def test_the_simulated_reviewer_id_is_reserved_for_the_simulation(workspace):
    with pytest.raises(UsageError, match="reserved for the seeded simulation"):
        rv.add_review(
            workspace, f"{RB}@r1", claim_id="FLG-01", verdict="accepted",
            reviewer=ev.SIMULATED_REVIEWER,
        )  # fmt: skip
    assert not list(workspace.glob("digests/*/reviews.jsonl"))


def test_latency_note_flags_a_backlog_not_a_pipeline():
    assert latency.latency_note(pd.Series([30.0, 50.0])) is None
    assert "not pipeline latency" in latency.latency_note(pd.Series([30.0, 3 * 86400.0]))


def test_replay_refuses_options_it_would_ignore(capsys):
    assert main(["evaluate", "--replay", "--period", "2026-06"]) == 2
    assert "it takes no --period, --report or --simulate" in capsys.readouterr().err


# --- rates, intervals, periods -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (3, 40, 0.0258, 0.1986)],
)
def test_wilson_interval_matches_the_published_values(k, n, low, high):
    lo, hi = ev.wilson(k, n)
    assert (lo, hi) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_a_rate_under_ten_is_never_a_bare_number():
    assert ev.wilson(0, 0) is None
    assert ev.Rate(0, 3).text() == "n too small (n = 3)"
    assert ev.Rate(0, 0).text() == "no data yet (n = 0)"
    assert ev.Rate(0, 12).text() == "0.00 (95% CI 0.00–0.24; 0 of 12)"
    assert not ev.Rate(9, 9).sufficient and ev.Rate(0, 10).sufficient


@pytest.mark.parametrize(
    ("period", "label", "start", "end"),
    [
        ("2024-03", "2024-02", "2024-02-01", "2024-02-29"),
        ("2024", "2023", "2023-01-01", "2023-12-31"),
        ("2024-03-01", "2024-02-29", "2024-02-29", "2024-02-29"),
        ("2024-03-01..2024-03-10", "2024-02-20..2024-02-29", "2024-02-20", "2024-02-29"),
        (None, "up to 2024-02", None, "2024-02-29"),  # latest publication is in 2024-03
    ],
)
def test_previous_period(world, period, label, start, end):
    published = src_mod.load_revisions(world)["published_at"]
    found, (lo, hi) = ev.previous_period(period, metrics.parse_period(period), published)
    assert found == label
    assert hi.strftime("%Y-%m-%d") == end and hi < pd.Timestamp(end, tz="UTC") + pd.Timedelta("1D")
    if start is not None:
        assert lo == pd.Timestamp(start, tz="UTC")
    assert ev.previous_period("2024-02..", metrics.parse_period("2024-02.."), published) is None


def test_headline_compares_with_the_previous_period(world, workspace):
    write_reviews(workspace)
    march = ev.evaluate(workspace, data=world, gold=GOLD, period="2024-03")
    assert march.previous_period == "2024-02"
    h = march.headline.set_index(["measure", "reviews"], drop=False)
    provenance = march.headline.iloc[0]
    assert (provenance["question"], provenance["k"], provenance["n"]) == (1, 0, 1)
    assert provenance["previous_n"] == 0 and pd.isna(provenance["change"])
    assert list(march.headline["question"]) == [1, 2, 2, 2, 2, 2, 2, 3, 4, 4, 4]
    assert h.loc[("correction_rate", "human"), "target"].tolist() == [0.10] * 3
    with pytest.raises(UsageError, match="unknown target 'recall'"):
        ev.evaluate(workspace, data=world, gold=GOLD, targets={"recall": 0.5})
    strict = ev.evaluate(workspace, data=world, gold=GOLD, targets={"scope_drift": 0.5})
    assert strict.headline.iloc[-1]["target"] == 0.5


# --- usefulness ratings ------------------------------------------------------------------------


def test_usefulness_is_rated_on_the_documented_scale(workspace, capsys):
    digest_id = f"{RB}@r1"
    rv.add_usefulness(workspace, digest_id, rating=2, reviewer="m.ross")
    rv.add_usefulness(workspace, digest_id, rating=4, reviewer="m.ross", text="Clear on owners.")
    rv.add_usefulness(workspace, f"{RB}@r2", rating=5, reviewer="a.lee")
    for bad in (0, 6, True, "4"):
        with pytest.raises(UsageError, match="--usefulness must be a whole number 1-5"):
            rv.add_usefulness(workspace, digest_id, rating=bad, reviewer="m.ross")
    reviews = rv.load_reviews(workspace)
    assert list(reviews["verdict"]) == ["rated"] * 3
    latest = rv.latest_ratings(reviews)
    assert list(latest["rating"]) == [4, 5]  # the last rating of each reviewer counts
    assert rv.latest_verdicts(reviews).empty  # ratings are not claim verdicts
    assert sorted(rv.USEFULNESS_SCALE) == [1, 2, 3, 4, 5]
    ws_arg = ["--workspace", str(workspace)]
    args = ["review", f"{OTHER}@r1", "--usefulness", "3", "--reviewer", "m.ross", *ws_arg]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["rating"] == 3
    assert main(["review", f"{OTHER}@r1", "--usefulness", "9", "--reviewer", "r", *ws_arg]) == 2
    assert "--usefulness must be a whole number 1-5" in capsys.readouterr().err


def test_usefulness_share_counts_digests_rated_four_or_more(world, workspace):
    rv.add_usefulness(workspace, f"{RB}@r1", rating=4, reviewer="m.ross")
    rv.add_usefulness(workspace, f"{RB}@r1", rating=2, reviewer="a.lee")  # mean 3: not useful
    rv.add_usefulness(workspace, f"{RB}@r2", rating=5, reviewer="m.ross")
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    human = result.summary["reviews"]["human"]
    assert (human["rated_digests"], human["useful_digests"]) == (2, 1)
    assert human["mean_usefulness"] == pytest.approx(4.0)
    assert list(result.digests.set_index("digest_id")["usefulness"].fillna(0)) == [3.0, 0, 5.0]
    row = result.headline[result.headline["measure"] == "useful_share"].iloc[0]
    assert (row["k"], row["n"], row["shown"]) == (1, 2, "n too small (n = 2)")


# --- severity-one cases and surfacing in time --------------------------------------------------


CASES = [
    ("CASE-000001", "ACC-000003", "PRD-LEDGER", "2024-02-20T00:00:00Z"),  # before r2: ignored
    ("CASE-000002", "ACC-000003", "PRD-LEDGER", "2024-03-01T10:05:00Z"),  # before r2's digest
    ("CASE-000003", "ACC-000002", "PRD-LEDGER", "2024-03-02T08:00:00Z"),
]


def add_cases(root: Path, rows=CASES) -> None:
    import sqlite3

    con = sqlite3.connect(root / "crm.sqlite")
    con.execute(
        "CREATE TABLE cases (case_id TEXT, account_id TEXT, product_id TEXT, opened_at TEXT)"
    )
    con.executemany("INSERT INTO cases VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def test_cases_are_loaded_filtered_and_checked(tiny_world):
    with pytest.raises(src_mod.SourceError, match="cases: table is missing"):
        src_mod.load_cases(tiny_world)
    assert src_mod.load_cases(tiny_world, missing_ok=True) is None
    add_cases(tiny_world, [*CASES, ("CASE-000004", "ACC-000001", "PRD-PAYAPI", "2024-01-11")])
    cases = src_mod.load_cases(tiny_world)
    assert list(cases.columns) == ["case_id", "account_id", "product_id", "opened_at"]
    assert list(cases["case_id"]) == ["CASE-000004", "CASE-000001", "CASE-000002", "CASE-000003"]
    after = src_mod.load_cases(
        tiny_world, opened_after="2024-03-01T10:00:00Z", account_ids=["ACC-000002"]
    )
    assert list(after["case_id"]) == ["CASE-000003"]
    either = src_mod.load_cases(tiny_world, product_ids=["PRD-PAYAPI"], account_ids=["ACC-000003"])
    assert list(either["case_id"]) == ["CASE-000004", "CASE-000001", "CASE-000002"]


def test_a_bad_case_row_names_the_case_and_field(tiny_world):
    add_cases(tiny_world, [("CASE-000001", "ACC-000001", "PRD-PAYAPI", "yesterday")])
    with pytest.raises(src_mod.SourceError, match=r"case_id CASE-000001.*opened_at"):
        src_mod.load_cases(tiny_world)


def test_the_sample_crm_has_severity_one_cases_and_nothing_sensitive():
    sample = src_mod.open_sources(REPO / "digestkit" / "data" / "sample")
    cases = src_mod.load_cases(sample)
    assert len(cases) == 60 and cases["case_id"].is_unique
    assert cases["opened_at"].is_monotonic_increasing
    assert set(cases["product_id"]) <= set(src_mod.load_products(sample)["product_id"])
    assert set(cases["account_id"]) <= set(src_mod.load_accounts(sample)["account_id"])
    assert ev.gold_source(sample) == "sample generator"


def test_issue_scope_follows_products_exceptions_and_variants(world):
    scope = ev.issue_scope({"kind": "ambiguous_carve_out", "refs": ["EXC-1042", "EXC-1043"]}, world)
    assert scope.products == {"PRD-PAYAPI"} and scope.accounts == {"ACC-000001", "ACC-000002"}
    assert ev.issue_scope({"ref": "PRD-LEDGER"}, world).products == {"PRD-LEDGER"}
    variant = ev.issue_scope({"ref": "contractual-10min-initial-update"}, world)
    assert variant.accounts == {"ACC-000002"} and not variant.products
    assert not ev.issue_scope({"kind": "open_question", "lines": [3, 3]}, world)


def test_surfaced_in_time_counts_against_the_first_case_after_publication(tiny_world, workspace):
    add_cases(tiny_world)
    world = src_mod.open_sources(tiny_world)
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    issues = result.issues.set_index(["digest_id", "issue_kind"])
    # r1's carve-out was never flagged; r2's stale Ledger ownership was, at 10:10, but a case on
    # Ledger opened at 10:05 (the one of 2024-02-20 is before publication and does not count)
    assert issues.loc[(f"{RB}@r1", "ambiguous_carve_out"), "outcome"] == "missed"
    late = issues.loc[(f"{RB}@r2", "stale_ownership")]
    assert late["outcome"] == "late"
    assert late["first_case_at"] == pd.Timestamp("2024-03-01T10:05:00Z")
    s = result.summary["surfacing"]
    assert (s["tracked_issues"], s["in_time"], s["late"], s["missed"]) == (2, 0, 1, 1)
    sf = result.surfacing.set_index("issue_kind")
    assert sf.loc["stale_ownership", ["in_time", "late", "missed"]].tolist() == [0, 1, 0]
    q3 = result.headline[result.headline["question"] == 3].iloc[0]
    assert (q3["k"], q3["n"], q3["shown"]) == (0, 2, "n too small (n = 2)")


def test_an_issue_is_in_time_when_posted_before_the_first_case():
    posted = pd.Timestamp("2024-03-01T10:10:00Z")
    first = pd.Timestamp("2024-03-01T10:20:00Z")
    assert ev.timeliness.issue_outcome(surfaced=True, posted_at=posted, first_case_at=first) == (
        "in_time"
    )
    assert ev.timeliness.issue_outcome(surfaced=True, posted_at=posted, first_case_at=None) == (
        "in_time"
    )
    assert ev.timeliness.issue_outcome(surfaced=True, posted_at=first, first_case_at=first) == (
        "late"
    )
    assert ev.timeliness.issue_outcome(surfaced=False, posted_at=posted, first_case_at=None) == (
        "missed"
    )


def test_without_a_cases_table_surfaced_issues_have_no_outcome(world, workspace):
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    assert result.summary["surfacing"]["cases_available"] is False
    assert result.issues["outcome"].isna().sum() == 4  # surfaced: unknown; missed stays missed
    assert "No severity-one cases in the CRM" in ev.report_caveats(result)


# --- latency from the runner's records ---------------------------------------------------------


def test_pipeline_latency_is_apart_from_backlog_age(world, workspace):
    state = workspace / "state"
    state.mkdir()
    records = [
        {"at": "2024-01-10T09:05:00Z", "status": "processed", "digest_id": f"{RB}@r1"},
        {"at": "2024-01-20T12:01:00Z", "status": "processed", "digest_id": f"{OTHER}@r1"},
        # a line handled just before r2's event: the runner was busy until 10:08
        {"at": "2024-03-01T10:08:00Z", "status": "skipped", "digest_id": f"{RB}@r3"},
        {
            "at": "2024-03-01T10:10:00Z",
            "status": "processed",
            "digest_id": f"{RB}@r2",
            "event_type": "runbook.published",
        },
    ]
    (state / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    d = result.digests.set_index("digest_id")
    # r1 is the first line the workspace handled: no record tells when handling started
    assert pd.isna(d.loc[f"{RB}@r1", "pipeline_seconds"])
    assert d.loc[f"{OTHER}@r1", ["backlog_seconds", "pipeline_seconds"]].tolist() == [0.0, 60.0]
    assert d.loc[f"{RB}@r2", ["backlog_seconds", "pipeline_seconds"]].tolist() == [480.0, 120.0]
    lat = result.summary["latency"]
    assert (lat["pipeline_digests"], lat["pipeline_p50_seconds"]) == (2, 90.0)
    assert lat["pipeline_p95_seconds"] == pytest.approx(117.0)
    assert (lat["backlog_p50_seconds"], lat["backlog_max_seconds"]) == (240.0, 480.0)
    table = ev.latency_table(result).set_index("Measure")
    assert table.iloc[0]["p95"] == "1 min 57 s" and table.iloc[1]["max"] == "8 min 0 s"


# --- replay plans ------------------------------------------------------------------------------


def test_replay_plan_gives_distinct_pairs_with_distinct_as_of_times(tiny_world):
    pairs = ev.published_pairs(tiny_world)
    assert [tuple(p) for p in pairs] == [
        (RB, "r1", None, None),
        (RB, "r2", "r1", None),
        (OTHER, "r1", None, None),
    ]
    plan = ev.replay_plan(tiny_world, 5)
    assert len(set(plan)) == 5 and len({p.as_of for p in plan}) == 5
    assert {(p.runbook_id, p.revision, p.baseline) for p in plan} == {(RB, "r2", "r1")}
    gold = {f"{RB}@r2": {"baseline": "r1", "as_of": "2024-03-01T10:00:00Z", "changes": []}}
    frame = ev.replay(tiny_world, pairs=plan[:2], gold=gold, progress=False)
    assert list(frame["as_of"]) == ["2024-03-01T10:01:00Z", "2024-03-01T10:02:00Z"]
    assert not frame["has_gold"].any()  # the gold describes the digest as of publication only
    at_publication = ev.replay(tiny_world, pairs=[(RB, "r2", "r1")], gold=gold, progress=False)
    assert list(at_publication["has_gold"]) == [True]
    with pytest.raises(UsageError, match=r"replay pair \('premium-s1-escalation',\) is not"):
        ev.replay(tiny_world, pairs=[(RB,)], progress=False)
    with pytest.raises(src_mod.SourceError, match="no runbook has two published revisions"):
        ev.replay_plan(_only_first_revisions(tiny_world), 3)


def test_replay_leaves_nothing_frozen(tiny_world: Path) -> None:
    # replay freezes what earlier digests left for the collector's sake; the heap is the
    # caller's again afterwards, also when a digest fails.
    assert gc.get_freeze_count() == 0
    ev.replay(tiny_world, pairs=ev.replay_plan(tiny_world, 2), gold={}, progress=False)
    assert gc.get_freeze_count() == 0
    with pytest.raises(RevisionError):
        ev.replay(tiny_world, pairs=[(RB, "r2", "r1"), (RB, "r99", "r1")], progress=False)
    assert gc.get_freeze_count() == 0


def _only_first_revisions(root: Path) -> Path:
    (root / "runbooks" / RB / "r2.md").unlink()
    (root / "runbooks" / RB / "r3.md").unlink()
    return root
