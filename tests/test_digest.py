"""The digest of every published revision of the sample world, checked against the gold labels."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

import digestkit
from digestkit import sources
from digestkit.digest import build_digest
from digestkit.exceptions import RevisionError

FLAG_VOCABULARY = {
    "ownership_conflict",
    "stale_ownership",
    "exception_not_approved",
    "exception_expired",
    "exception_expiring",
    "exception_not_in_force",
    "orphaned_exception",
    "ambiguous_carve_out",
    "unsupported_impact_assumption",
    "unknown_reference",
    "ambiguous_reference",
    "open_question",
    "customer_data_redacted",
}


@pytest.fixture(scope="module")
def world():
    return sources.open_sources(None)


@pytest.fixture(scope="module")
def gold(world):
    return json.loads(world.gold.read_text())


@pytest.fixture(scope="module")
def digests(gold):
    out = {}
    for key, entry in gold["revisions"].items():
        out[key] = build_digest(entry["runbook_id"], entry["revision"]).to_dict()
    return out


def _overlap(a, b) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def _claim_lines(claim: dict, ref: str) -> list[tuple[int, int]]:
    out = []
    for s in claim["sources"]:
        if s["system"] == "runbook" and s["id"] == ref:
            first, last = re.fullmatch(r"L(\d+)-L(\d+)", s["locator"]).groups()
            out.append((int(first), int(last)))
    return out


def test_every_published_revision_has_gold_and_a_digest(world, gold, digests):
    revs = sources.load_revisions(world)
    published = {
        f"{r.runbook_id}@{r.revision}" for r in revs.itertuples() if r.status == "published"
    }
    assert published == set(gold["revisions"]) == set(digests)


def test_planted_changes_are_reported_with_the_right_kind(gold, digests):
    missing = []
    for key, entry in gold["revisions"].items():
        claims = digests[key]["changed_steps"]
        baseline_ref = f"{entry['runbook_id']}@{entry['baseline']}" if entry["baseline"] else None
        for change in entry["changes"]:
            if change["kind"] is None:
                continue
            found = False
            for claim in claims:
                if claim["kind"] != change["kind"]:
                    continue
                if change["new_lines"] and any(
                    _overlap(span, change["new_lines"]) for span in _claim_lines(claim, key)
                ):
                    found = True
                if change["new_lines"] is None and any(
                    _overlap(span, change["old_lines"])
                    for span in _claim_lines(claim, baseline_ref)
                ):
                    found = True
            if not found:
                missing.append((key, change["class"], change["kind"], change["new_lines"]))
    assert missing == [], missing


def test_formatting_only_edits_and_unchanged_sections_are_not_reported(gold, digests):
    wrong = []
    for key, entry in gold["revisions"].items():
        claims = digests[key]["changed_steps"]
        for change in entry["changes"]:
            if change["kind"] is not None:
                continue
            for claim in claims:
                if any(_overlap(span, change["new_lines"]) for span in _claim_lines(claim, key)):
                    wrong.append((key, change["class"], claim["text"]))
        unchanged = {tuple(s) for s in entry["unchanged_sections"]}
        for claim in claims:
            section = claim["details"].get("section")
            if section and tuple(section) in unchanged:
                wrong.append((key, "unchanged section", claim["text"]))
    assert wrong == []


def _mentions(claim: dict, refs: list[str]) -> bool:
    blob = json.dumps(claim, ensure_ascii=False)
    return all(ref in blob for ref in refs)


def test_planted_issues_are_flagged_with_the_right_kind(gold, digests):
    missing = []
    for key, entry in gold["revisions"].items():
        digest = digests[key]
        claims = digest["flags"] + digest["open_questions"]
        for issue in entry["issues"]:
            refs = issue.get("refs") or ([issue["ref"]] if issue.get("ref") else [])
            candidates = [c for c in claims if c["kind"] == issue["kind"]]
            if refs:
                ok = any(_mentions(c, refs) for c in candidates)
            else:
                ok = any(
                    _overlap(span, issue["lines"])
                    for c in candidates
                    for span in _claim_lines(c, key)
                )
            if not ok:
                missing.append((key, issue["kind"], refs, issue.get("lines")))
    assert missing == [], missing


def test_no_flag_without_a_planted_issue(gold, digests):
    extra = []
    for key, entry in gold["revisions"].items():
        digest = digests[key]
        for claim in digest["flags"] + digest["open_questions"]:
            same_kind = [i for i in entry["issues"] if i["kind"] == claim["kind"]]
            matched = any(
                _mentions(claim, i.get("refs") or [i["ref"]])
                if (i.get("refs") or i.get("ref"))
                else any(_overlap(s, i["lines"]) for s in _claim_lines(claim, key))
                for i in same_kind
            )
            if not matched:
                extra.append((key, claim["kind"], claim["text"]))
    assert extra == []


def test_contract_shape_and_flag_vocabulary(digests):
    for digest in digests.values():
        assert {
            "header",
            "changed_steps",
            "carried_forward",
            "open_questions",
            "flags",
            "audit",
        } <= set(digest)
        ids = [
            c["id"]
            for part in ("changed_steps", "carried_forward", "open_questions", "flags")
            for c in digest[part]
        ]
        assert len(ids) == len(set(ids))
        for part in ("changed_steps", "carried_forward", "open_questions", "flags"):
            for claim in digest[part]:
                assert claim["text"].strip()
                assert claim["sources"], claim
        for claim in digest["flags"] + digest["open_questions"]:
            assert claim["kind"] in FLAG_VOCABULARY


def test_every_source_reference_resolves(world, digests):
    revisions = sources.load_revisions(world)
    files = {f"{r.runbook_id}@{r.revision}": r.text for r in revisions.itertuples()}
    products = set(sources.load_products(world)["product_id"])
    exceptions = set(sources.load_exceptions(world)["exception_id"])
    checked = 0
    for digest in digests.values():
        for ref in digest["sources"]:
            checked += 1
            if ref["system"] == "runbook":
                first, last = map(int, re.fullmatch(r"L(\d+)-L(\d+)", ref["locator"]).groups())
                n_lines = len(files[ref["id"]].splitlines())
                assert 1 <= first <= last <= n_lines, ref
            elif ref["system"] == "registry":
                assert ref["id"] in products, ref
            elif ref["system"] == "exceptions":
                assert ref["id"] in exceptions, ref
            elif ref["system"] == "crm":
                filters = dict(
                    part.split("=", 1) for part in ref["locator"].split(";") if "=" in part
                )
                frame = sources.load_entitlements(
                    world,
                    tiers=[filters["tier"]],
                    approved_only=True,
                    active_on=pd.Timestamp(filters["active_on"], tz="UTC"),
                )
                assert len(frame), ref
            else:
                pytest.fail(f"unknown system in {ref}")
    assert checked > 50


def test_first_published_revision_says_it_has_no_baseline(gold, digests):
    firsts = [k for k, e in gold["revisions"].items() if e["baseline"] is None]
    assert firsts
    for key in firsts:
        header = digests[key]["header"]
        assert header["baseline"] is None
        assert "no earlier published baseline" in header["baseline_note"]
        assert digests[key]["changed_steps"] == []


def test_drafts_and_withdrawn_revisions_are_refused(world):
    revs = sources.load_revisions(world)
    bad = revs[revs["status"] != "published"]
    assert {"draft", "withdrawn"} <= set(bad["status"])
    for row in bad.itertuples():
        with pytest.raises(RevisionError, match=f"{row.revision} is {row.status}"):
            build_digest(row.runbook_id, row.revision)
    published = revs[revs["status"] == "published"].iloc[-1]
    draft = bad.iloc[0]
    with pytest.raises(RevisionError, match="not published"):
        build_digest(published.runbook_id, published.revision, baseline=draft.revision)
    with pytest.raises(RevisionError, match="unknown revision 'r99'"):
        build_digest(published.runbook_id, "r99")


def test_library_and_cli_give_the_same_digest(digests):
    key = next(k for k, d in digests.items() if d["flags"])
    runbook_id, revision = key.split("@")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "digestkit",
            "digest",
            "--runbook",
            runbook_id,
            "--revision",
            revision,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == digests[key]
    assert digestkit.build_digest(runbook_id, revision).to_dict() == digests[key]


def test_cli_error_is_one_line_without_traceback():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "digestkit",
            "digest",
            "--runbook",
            "no-such-runbook",
            "--revision",
            "r1",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "no-such-runbook" in result.stderr


def test_every_sample_digest_passes_the_scope_guard(digests):
    from digestkit.policy import check_digest

    assert {key: check_digest(d) for key, d in digests.items() if check_digest(d)} == {}


def test_thresholds_are_configurable_from_the_cli():
    def flags(*extra):
        result = subprocess.run(
            [sys.executable, "-m", "digestkit", "digest", "--runbook", "premium-s1-escalation",
             "--revision", "r9", "--format", "json", *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        digest = json.loads(result.stdout)
        return {f["kind"] for f in digest["flags"]}, digest["audit"]["parameters"]

    kinds, params = flags()
    assert {"stale_ownership", "exception_expiring"} <= kinds
    assert params == {"stale_after_days": 90, "expiring_within_days": 30}
    kinds, params = flags("--stale-after-days", "400", "--expiring-within-days", "1")
    assert not {"stale_ownership", "exception_expiring"} & kinds
    assert params == {"stale_after_days": 400, "expiring_within_days": 1}


def test_revision_pair_defaults_and_claims_frame(digests):
    from digestkit.digest import revision_pair

    old, new = revision_pair("premium-s1-escalation")
    assert (old["revision"], new["revision"]) == ("r8", "r9")
    old, new = revision_pair("premium-s1-escalation", new="r3")  # a draft: compare to r2
    assert (old["revision"], new["status"]) == ("r2", "draft")
    with pytest.raises(RevisionError, match="no earlier published revision"):
        revision_pair("premium-s1-escalation", new="r1")
    frame = build_digest("premium-s1-escalation", "r7").claims_frame(["flags", "open_questions"])
    expected = digests["premium-s1-escalation@r7"]
    assert list(frame["id"]) == [c["id"] for c in expected["flags"] + expected["open_questions"]]
    assert frame["sources"].str.contains("registry:PRD-NOTGW#owning_team").any()


def test_as_of_before_publication_is_refused():
    with pytest.raises(RevisionError, match="before premium-s1-escalation@r7 was published"):
        build_digest("premium-s1-escalation", "r7", as_of="2026-01-01")
    later = build_digest("premium-s1-escalation", "r7", as_of="2026-06-15").to_dict()
    assert later["header"]["as_of"] == "2026-06-15T00:00:00Z"


def test_stale_ownership_age_counts_calendar_days_like_exception_expiry():
    digest = build_digest("premium-s1-escalation", "r7").to_dict()
    products = sources.load_products(None).set_index("product_id")
    as_of = pd.Timestamp(digest["header"]["as_of"])
    stale = [c for c in digest["flags"] if c["kind"] == "stale_ownership"]
    assert stale
    for claim in stale:
        product_id = next(s["id"] for s in claim["sources"] if s["system"] == "registry")
        verified = pd.Timestamp(products.loc[product_id, "last_verified_at"])
        days = (as_of.date() - verified.date()).days
        assert f"last verified {days} days before {as_of:%Y-%m-%d}" in claim["text"]


def test_the_json_contract_documents_every_kind_and_source_form_the_sample_uses():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "digest-json.md").read_text()
    revisions = sources.load_revisions(None)
    seen_kinds, crm_ids = set(), set()
    for row in revisions[revisions["status"] == "published"].itertuples():
        d = build_digest(row.runbook_id, row.revision).to_dict()
        for part in ("changed_steps", "carried_forward", "open_questions", "flags"):
            seen_kinds |= {c["kind"] for c in d[part]}
        crm_ids |= {s["id"] for s in d["sources"] if s["system"] == "crm"}
    assert [k for k in sorted(seen_kinds) if not re.search(rf"\b{k}\b", doc)] == []
    assert crm_ids == {"entitlements"}


def test_context_frame_warns_and_stays_empty_for_a_pair_that_cannot_be_digested():
    from digestkit.digest import context_frame

    full = context_frame("premium-s1-escalation", "r7", baseline="r6")
    assert len(full) and set(full["part"]) <= {"carried_forward", "open_questions", "flags"}
    for revision, baseline, why in [("r3", "r2", "r3 is draft"), ("r2", "r7", "not older")]:
        with pytest.warns(UserWarning, match=why):
            empty = context_frame("premium-s1-escalation", revision, baseline=baseline)
        assert empty.empty and list(empty.columns) == list(full.columns)


def test_the_typed_digest_matches_the_json_contract(digests):
    from dataclasses import fields
    from pathlib import Path
    from typing import get_args

    from digestkit import context, diff
    from digestkit import digest as dg

    doc = (Path(__file__).resolve().parents[1] / "docs" / "digest-json.md").read_text()
    documented = re.findall(r'"(\w+)":', re.search(r'"header": \{(.*?)\}', doc, re.S).group(1))
    assert documented == [f.name for f in fields(dg.DigestHeader)]
    assert set(context.FLAG_KINDS) == FLAG_VOCABULARY
    flag_doc = doc.split("Flag kinds:", 1)[1]
    assert [k for k in context.FLAG_KINDS if f"`{k}`" not in flag_doc] == []
    assert get_args(dg.ChangeKind) == diff.CHANGE_KINDS
    assert get_args(context.ExceptionStatus) == sources.EXCEPTION_STATUSES
    allowed = {
        "changed_steps": set(diff.CHANGE_KINDS),
        "carried_forward": set(context.CARRIED_KINDS),
        "open_questions": {"open_question"},
        "flags": FLAG_VOCABULARY - {"open_question"},
    }
    assert set(allowed) == set(dg.PARTS)
    for digest in digests.values():
        assert list(digest["header"]) == documented
        assert [key for key in digest if key in allowed] == list(dg.PARTS)
        for part in dg.PARTS:
            assert {(c["part"], c["kind"] in allowed[part]) for c in digest[part]} <= {(part, True)}
