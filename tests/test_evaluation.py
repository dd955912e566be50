"""Reviewer records and evaluation metrics on small hand-made workspaces with known answers."""

from __future__ import annotations

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
from digestkit.evaluation import metrics
from digestkit.exceptions import ScopeError, UsageError, WorkspaceError

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
        "unresolved_claims": 1,
    }
    assert list(d["provenance_complete"]) == [True, True, False]
    assert list(d["carry_forward_present"]) == [True, True, True]

    # reviewer corrections: 11 claims reviewed (latest verdict), 2 corrected, 1 rejected
    r = s["reviews"]
    assert (r["reviewed_claims"], r["corrected"], r["rejected"], r["missed_items"]) == (11, 2, 1, 2)
    assert r["correction_rate"] == pytest.approx(3 / 11)
    assert r["missed_rate"] == pytest.approx(2 / 13)
    expected_distance = (2 / len(CF_TEXT) + 1 / len(CHG_TEXT)) / 2
    assert r["mean_edit_distance"] == pytest.approx(expected_distance)
    assert r["simulated"] is False and r["reviewers"] == ["m.ross"]
    parts = result.corrections.set_index("part")
    assert list(parts.index) == list(ev.REVIEW_PARTS)
    assert list(parts["reviewed"]) == [2, 1, 3, 5]
    assert list(parts["correction_rate"]) == pytest.approx([0.5, 1.0, 0.0, 0.2])
    assert list(parts["missed"]) == [1, 0, 1, 0]
    assert list(parts["missed_rate"]) == pytest.approx([1 / 3, 0.0, 0.25, 0.0])
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
        "reviewer_accepted_digests": 2,
        "over_blocked": 1,
        "over_block_rate": 0.5,
    }

    # latency: feed occurred_at -> audit created_at
    assert list(d["latency_seconds"]) == [300.0, 60.0, 600.0]
    assert s["latency"]["median_seconds"] == 300.0


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
    assert empty.digests.empty and empty.summary["reviews"]["correction_rate"] is None
    assert empty.summary["provenance"]["completeness"] == 0.0
    with pytest.raises(WorkspaceError, match="not a handoff workspace"):
        ev.evaluate(tmp_path / "nothing", data=world)


def test_json_contract_matches_the_documentation(world, workspace):
    write_reviews(workspace)
    payload = ev.evaluate(workspace, data=world, gold=GOLD).to_dict()
    json.dumps(payload)  # plain JSON: no timestamps, numpy or NaN
    assert payload["schema_version"] == 1
    doc = (REPO / "docs" / "evaluation-json.md").read_text()
    documented = {
        "top": set(payload),
        "summary": {f"{k}.{kk}" for k, v in payload["summary"].items() for kk in v},
        "corrections_by_part": set(payload["corrections_by_part"][0]),
        "surfacing_by_kind": set(payload["surfacing_by_kind"][0]),
        "digests": set(payload["digests"][0]),
    }
    missing = sorted(
        key for keys in documented.values() for key in keys if f"`{key.split('.')[-1]}`" not in doc
    )
    assert missing == []
    assert "NaN" not in json.dumps(payload)


# --- simulation, replay, report ----------------------------------------------------------------


def test_simulated_reviews_are_deterministic_and_follow_the_gold(world, workspace, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(workspace, other)
    first = ev.simulate_reviews(workspace, seed=7, gold=GOLD, data=world)
    second = ev.simulate_reviews(other, seed=7, gold=GOLD, data=world)
    assert first.drop(columns="digest_id").equals(second.drop(columns="digest_id"))
    assert ev.simulate_reviews(workspace, seed=7, gold=GOLD, data=world).empty  # idempotent
    claims = first[first["verdict"] != "missed"]
    assert len(claims) == 11 and set(claims["reviewer"]) == {ev.SIMULATED_REVIEWER}
    rejected = claims[claims["verdict"] == "rejected"]
    assert list(zip(rejected["digest_id"], rejected["claim_id"], strict=True)) == [
        (f"{RB}@r2", "FLG-02")  # the only flag the gold does not back
    ]
    missed = first[first["verdict"] == "missed"]
    assert sorted(missed["kind"]) == ["ambiguous_carve_out", "modified"]
    assert all(ev.resolve_source(s, world) for s in missed["source"])
    result = ev.evaluate(workspace, data=world, gold=GOLD)
    assert result.summary["reviews"]["simulated"] is True
    assert "Simulated reviews" in ev.report_preamble(result)


def test_simulated_corrections_are_small_rewordings(world, workspace):
    for seed in range(12):
        ev.simulate_reviews(workspace, seed=seed, gold={}, data=world, reviewer=f"sim-{seed}")
    reviews = rv.load_reviews(workspace)
    corrected = reviews[reviews["verdict"] == "corrected"]
    assert len(corrected) >= 3
    assert set(reviews["verdict"]) == {"accepted", "corrected"}  # no gold: nothing rejected
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
    assert "Correction rate" in html or "correction rate" in html
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
            str(REPO / "notebooks" / "evaluation_report.ipynb"),
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
    assert payload["schema_version"] == 1
    assert payload["summary"]["reviews"]["corrected"] == 1
    assert payload["summary"]["reviews"]["missed_items"] == 1
    assert main(["evaluate", "--format", "markdown", *ws_arg]) == 0
    assert "## Corrections by part" in capsys.readouterr().out


def test_carry_forward_is_required_once_there_is_a_baseline():
    first = make_digest(RB, "r1", None, "2024-01-12T09:00:00Z")
    later = make_digest(RB, "r2", "r1", "2024-02-12T09:00:00Z")
    assert metrics._carry_forward_present(first)
    assert not metrics._carry_forward_present(later)


def test_simulated_reviews_are_set_aside_once_a_person_reviews(world, workspace):
    ev.simulate_reviews(workspace, gold=GOLD, data=world)
    simulated = ev.evaluate(workspace, data=world, gold=GOLD).summary["reviews"]
    assert simulated["simulated"] is True and simulated["reviewers"] == [ev.SIMULATED_REVIEWER]
    write_reviews(workspace)
    real = ev.evaluate(workspace, data=world, gold=GOLD).summary["reviews"]
    assert real["simulated"] is False and real["reviewers"] == ["m.ross"]
    assert real["reviewed_claims"] == 11  # the person's verdicts only, as in the known workspace


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
    assert metrics._latency_note(pd.Series([30.0, 50.0])) is None
    assert "not the pipeline" in metrics._latency_note(pd.Series([3 * 86400.0]))


def test_replay_refuses_options_it_would_ignore(capsys):
    assert main(["evaluate", "--replay", "--period", "2026-06"]) == 2
    assert "it takes no --period, --report or --simulate" in capsys.readouterr().err
