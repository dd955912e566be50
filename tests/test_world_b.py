"""Grounding on a second, hand-written world (tests/data/world_b), one test group per rule:
customer data in runbook text, spelling-proof screening, ownership in prose, exception windows,
body-only citations with a self-consistent digest, inert Markdown."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from world_b import RUNBOOK, SOURCE, build_world_b, feed_lines

from digestkit import context, fileio, review, sources
from digestkit import digest as dg
from digestkit import workspace as ws
from digestkit.digest import build_digest, check_consistency, to_markdown
from digestkit.exceptions import DigestkitError, ScopeError, WorkspaceError
from digestkit.normalize import fold

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
R2 = (SOURCE / "runbooks" / RUNBOOK / "r2.md").read_text(encoding="utf-8").split("\n")


def _line(marker: str) -> int:
    """The 1-based line of r2 holding ``marker`` (so tests do not hard-code line numbers)."""
    (found,) = [i for i, text in enumerate(R2, start=1) if marker in text]
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_world_b(tmp_path_factory.mktemp("b") / "world")


@pytest.fixture(scope="module")
def r2(world: Path) -> dg.Digest:
    return build_digest(RUNBOOK, "r2", data=world)


@pytest.fixture(scope="module")
def sensitive(world: Path) -> list[str]:
    """Every sensitive CRM and register value of world B and each name's surname, folded."""
    values: set[str] = set()
    for loader, table in (
        (sources.load_accounts, "accounts"),
        (sources.load_contacts, "contacts"),
        (sources.load_entitlements, "entitlements"),
        (sources.load_exceptions, "exceptions"),
    ):
        frame = loader(world, include_sensitive=True)
        for column in sources.sensitive_columns(table):
            values.update(str(v) for v in frame[column].dropna())
    names = sources.load_contacts(world, include_sensitive=True)["contact_name"]
    values.update(n.split()[-1] for n in names if n.split()[-1] != "Page")  # an ordinary word
    accounts = sources.load_accounts(world, include_sensitive=True)["account_name"]
    values.update(" ".join(n.split()[:2]) for n in accounts)
    return sorted({fold(v).text for v in values})


def _leaks(text: str, sensitive: list[str]) -> list[str]:
    folded = fold(text).text
    return [v for v in sensitive if v in folded]


def test_world_b_feed_matches_its_revision_files(world: Path) -> None:
    assert (world / "feed" / "events.jsonl").read_text().splitlines() == feed_lines(world)
    assert len(sources.load_feed(world)) == 3


# 1. Customer data in the runbook's own text ------------------------------------------------


def test_the_scan_sees_the_runbook_s_own_spellings(r2: dg.Digest, sensitive: list[str]) -> None:
    raw = "\n".join(R2)
    assert {"zofia kowalczyk", "mateus albuquerque", "adaeze oyelowo"} <= set(
        _leaks(raw, sensitive)
    )


def test_runbook_customer_data_is_replaced_everywhere_and_cited(
    r2: dg.Digest, sensitive: list[str]
) -> None:
    shown = json.dumps(r2.to_dict(), ensure_ascii=False) + to_markdown(r2)
    assert _leaks(shown, sensitive) == []
    step = next(c for c in r2.changed_steps if "before the first update" in c.text)
    assert "For ACC-B001, also call CON-B001 ([e-mail], [phone])" in step.text
    assert step.details["new"]["text"].startswith("3. For ACC-B001, also call CON-B001")
    assert r2.header.change_reason.startswith("Carve-out for ACC-B001;")
    assert r2.audit.change_reason == r2.header.change_reason
    flagged = {
        c.details["line"]: c.details["what"] for c in r2.flags if c.kind == "customer_data_redacted"
    }
    # The change reason is replaced in the header; flags cite body lines only.
    assert flagged == {
        _line("Zofia"): [
            "the name of CRM account ACC-B001",
            "the name of CRM contact CON-B001",
            "an e-mail address",
            "a phone number",
        ],
        _line("Lukasiewicz"): [
            "the name of CRM account ACC-B002",
            "the name of CRM contact CON-B002",
            "a phone number",
        ],
        _line("daeze"): ["the name of CRM contact CON-B003", "the name of CRM account ACC-B003"],
        _line("Clause 12.4"): ["a contract clause of CRM entitlement ENT-B001"],
        _line("T. Page"): ["the name of CRM contact CON-B004"],
    }
    for claim in r2.flags:
        if claim.kind == "customer_data_redacted":
            line = claim.details["line"]
            assert [s.to_dict() for s in claim.sources] == [
                {"system": "runbook", "id": f"{RUNBOOK}@r2", "locator": f"L{line}-L{line}"}
            ]


def _post(layout: ws.Layout, digest: dict, world: Path) -> None:
    """A digest folder as the event runner posts it, without executing the notebook."""
    folder = layout.digest_dir(digest["digest_id"])
    folder.mkdir(parents=True)
    data = fileio.canonical_json(digest)
    (folder / "digest.json").write_bytes(data)
    audit = ws.new_audit(
        digest,
        digest_sha256=fileio.sha256_bytes(data),
        parameters={"data": str(world)},
        event_id="EVT-200002",
    )
    (folder / "audit.json").write_bytes(fileio.canonical_json(audit))


def test_share_refuses_a_digest_that_still_carries_customer_data(
    tmp_path: Path, world: Path, r2: dg.Digest
) -> None:
    layout = ws.open_workspace(tmp_path / "ws")
    clean = r2.to_dict()
    _post(layout, clean, world)
    assert ws.share_problems(layout, clean["digest_id"]) == []
    # A digest built before redaction (or edited) carries the name in a claim's details.
    other = ws.open_workspace(tmp_path / "ws2")
    leaky = json.loads(json.dumps(clean))
    step = next(c for c in leaky["changed_steps"] if "before the first update" in c["text"])
    step["details"]["new"]["text"] = "3. Also call Zofia Kowal\u00adczyk before the first update."
    _post(other, leaky, world)
    problems = ws.share_problems(other, leaky["digest_id"])
    assert problems == [
        f"customer-sensitive data in claim {step['id']}: the name of CRM contact CON-B001"
    ]
    with pytest.raises(WorkspaceError, match="customer-sensitive data") as refused:
        ws.share(other, leaky["digest_id"], by="u-lead")
    assert "owalczyk" not in str(refused.value)


# 2. A screen that cannot be sidestepped by spelling ----------------------------------------


def test_review_missed_screens_against_the_digest_s_own_data(
    tmp_path: Path, world: Path, r2: dg.Digest
) -> None:
    layout = ws.open_workspace(tmp_path / "ws")
    _post(layout, r2.to_dict(), world)
    for data in (SAMPLE, None):  # a --data without this customer changes nothing
        with pytest.raises(ScopeError, match="CON-B001"):
            review.add_missed(
                layout,
                r2.digest_id,
                text="Flag the call to Zofia Kowalczyk.",
                part="flags",
                source="registry:PRD-PAYAPI",
                reviewer="u-rev",
                data=data,
            )
    record = review.add_missed(
        layout,
        r2.digest_id,
        text="Flag the call to CON-B001.",
        part="flags",
        source="registry:PRD-PAYAPI",
        reviewer="u-rev",
    )
    assert record["verdict"] == "missed"


# 3. Ownership and paging stated in prose ---------------------------------------------------


def test_prose_ownership_is_checked_like_a_table_row(r2: dg.Digest) -> None:
    conflicts = [
        (
            c.details["product_id"],
            c.details["stated_in"],
            c.details.get("runbook_team") or c.details.get("runbook_pager"),
            [s.locator for s in c.sources if s.system == "runbook"],
        )
        for c in r2.flags
        if c.kind == "ownership_conflict"
    ]

    def at(marker: str) -> list[str]:
        return [f"L{_line(marker)}-L{_line(marker)}"]

    assert sorted(conflicts) == sorted(
        [
            # The table row and the sentence both disagree with the registry: two flags.
            ("PRD-NOTGW", "table", "platform-ops", at("| Notifications Gateway | Platform")),
            ("PRD-NOTGW", "prose", "payments-eng", at("Notifications Gateway is owned by")),
            # The table agrees, the sentence does not: one flag, on the sentence.
            ("PRD-DATEXP", "prose", "platform-ops", at("Data Export is owned by")),
            ("PRD-LEDGER", "prose", "platform-oncall", at("For Ledger Service, page")),
        ]
    )
    # A sentence agreeing with its table row adds no second "carried forward" claim, and a
    # question ("Who owns ...") is not read as a team.
    owned = [c.details["product_id"] for c in r2.carried_forward if c.kind == "ownership"]
    assert sorted(owned) == ["PRD-DATEXP", "PRD-LEDGER", "PRD-PAYAPI"]
    assert [c for c in r2.flags if c.kind == "unknown_reference"] == []


# 4. Exception validity is a window ---------------------------------------------------------


def test_an_approved_exception_not_yet_valid_is_not_in_force(world: Path, r2: dg.Digest) -> None:
    (flag,) = [c for c in r2.flags if c.kind == "exception_not_in_force"]
    assert flag.details == {
        "exception_id": "EXC-2002",
        "status": "approved",
        "valid_from": "2026-05-01",
    }
    assert "not in force yet" in flag.text and "in force." not in flag.text
    line = _line("- EXC-2002")
    assert {s.locator for s in flag.sources} == {f"L{line}-L{line}", "valid_from"}
    assert not any("EXC-2002" in c.text for c in r2.carried_forward)
    # From its first day on it is in force: nothing to flag (the line is new in r2, so it is a
    # change, not a carried-forward statement).
    later = build_digest(RUNBOOK, "r2", data=world, as_of="2026-05-01T00:00:00Z")
    assert [c.kind for c in later.flags if "EXC-2002" in c.text] == []


# 5. Citations point at the body; the digest never contradicts itself -----------------------


def test_an_id_named_only_in_the_change_reason_is_not_referenced(r2: dg.Digest) -> None:
    assert "EXC-2003" in r2.header.change_reason  # revoked, dropped from the body
    about = [c for c in r2.claims if "EXC-2003" in json.dumps(c.to_dict())]
    # One claim, from the body's change (removed, or modified where the diff pairs the rewritten
    # item): it says the exception is no longer referenced.
    assert [
        (c.kind in ("removed", "modified"), "no longer referenced" in c.text) for c in about
    ] == [(True, True)]
    front_matter_end = R2.index("---", 1) + 1
    for claim in r2.claims:
        for s in claim.sources:
            if s.system == "runbook" and s.id.endswith("@r2"):
                assert int(s.locator[1:].split("-")[0]) > front_matter_end, claim.id
    assert check_consistency(r2) == []


def test_a_contradictory_digest_is_refused_when_it_is_built(
    world: Path, r2: dg.Digest, monkeypatch: pytest.MonkeyPatch
) -> None:
    contradiction = context.Finding(
        "exception_not_approved",
        "The runbook references exception EXC-2003, whose register status is revoked.",
        (context.SourceRef("runbook", f"{RUNBOOK}@r2", "L9-L9"),),
        {"exception_id": "EXC-2003", "status": "revoked"},
    )
    forged = dataclasses.replace(
        r2,
        flags=(
            *r2.flags,
            dg.Claim(
                "FLG-99", "flags", contradiction.kind, contradiction.text, (), contradiction.details
            ),
        ),
    )
    (problem,) = check_consistency(forged)
    assert "EXC-2003" in problem and "FLG-99" in problem
    real_assess = context.assess
    monkeypatch.setattr(context, "assess", lambda *a, **kw: [*real_assess(*a, **kw), contradiction])
    with pytest.raises(DigestkitError, match=r"contradicts itself: .*EXC-2003"):
        build_digest(RUNBOOK, "r2", data=world)


# 6. Markdown output is inert ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("runbook_id", "revision", "data"),
    [(RUNBOOK, "r2", "world"), ("premium-s1-escalation", "r9", None)],
)
def test_markdown_digest_passes_no_raw_html(
    runbook_id: str, revision: str, data: str | None, world: Path
) -> None:
    text = to_markdown(build_digest(runbook_id, revision, data=world if data else None))
    assert "\\<script\\>" in text
    html = MarkdownIt("commonmark").render(text)
    assert re.search(r"<(script|img)\b", html) is None
    assert "&lt;script&gt;" in html
