"""Handoff workspace: audit-log hash chain, index page, share refusals, HTML fragments."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from digestkit import fileio, render
from digestkit import workspace as ws
from digestkit.audit import GENESIS, append_audit, entry_hash, verify_audit
from digestkit.cli import main
from digestkit.exceptions import WorkspaceError
from digestkit.index import list_digests, write_index

PLANT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

DIGEST = {
    "schema_version": 1,
    "digest_id": "premium-s1-escalation@r7",
    "header": {
        "runbook_id": "premium-s1-escalation",
        "title": "Premium Support Severity-1 Escalation Runbook",
        "revision": "r7",
        "revision_ref": "premium-s1-escalation@r7",
        "baseline": "r6",
        "baseline_ref": "premium-s1-escalation@r6",
        "baseline_note": None,
        "published_at": "2026-06-02T09:00:00Z",
        "publisher": "u-mokafor",
        "change_reason": "Page payments first " + PLANT,
        "as_of": "2026-06-02T09:00:00Z",
    },
    "changed_steps": [
        {
            "id": "CHG-01",
            "part": "changed_steps",
            "kind": "modified",
            "text": "Step 4 in Escalation steps was reworded (lines 41-41).",
            "sources": [
                {"system": "runbook", "id": "premium-s1-escalation@r7", "locator": "L41-L41"}
            ],
            "details": {
                "section": ["Escalation steps"],
                "old": {"text": "Page payments-oncall within 15 minutes.", "lines": [41, 41]},
                "new": {
                    "text": "Page payments-oncall within 10 minutes. " + PLANT,
                    "lines": [41, 41],
                },
                "redline": "",
                "facts": [],
                "unit": "list_item",
            },
        }
    ],
    "carried_forward": [
        {
            "id": "CF-01",
            "part": "carried_forward",
            "kind": "entitlement_assumption",
            "text": "Premium Plus entitlements promise a 15-minute initial response.",
            "sources": [
                {
                    "system": "crm",
                    "id": "entitlements?tier=Premium Plus",
                    "locator": "initial_response_minutes",
                }
            ],
            "details": {},
        }
    ],
    "open_questions": [
        {
            "id": "OQ-01",
            "part": "open_questions",
            "kind": "open_question",
            "text": "The bridge owner after hours is still TBD.",
            "sources": [
                {"system": "runbook", "id": "premium-s1-escalation@r7", "locator": "L41-L41"}
            ],
            "details": {},
        }
    ],
    "flags": [
        {
            "id": "FLG-01",
            "part": "flags",
            "kind": "ownership_conflict",
            "text": "The runbook pages payments-oncall; the registry owner is ledger-eng.",
            "sources": [
                {"system": "runbook", "id": "premium-s1-escalation@r7", "locator": "L41-L41"},
                {"system": "registry", "id": "PRD-PAYAPI", "locator": "owning_team"},
            ],
            "details": {},
        }
    ],
    "sources": [
        {"ref": "S1", "system": "runbook", "id": "premium-s1-escalation@r7", "locator": "L41-L41"},
        {
            "ref": "S2",
            "system": "crm",
            "id": "entitlements?tier=Premium Plus",
            "locator": "initial_response_minutes",
        },
        {"ref": "S3", "system": "registry", "id": "PRD-PAYAPI", "locator": "owning_team"},
    ],
    "audit": {
        "revision_ref": "premium-s1-escalation@r7",
        "baseline_ref": "premium-s1-escalation@r6",
        "as_of": "2026-06-02T09:00:00Z",
        "change_reason": "Page payments first",
        "approved_by": "u-mokafor",
        "snapshots": {"revisions": "0" * 64},
        "digestkit_version": "0.1.0",
        "parameters": {"stale_after_days": 90, "expiring_within_days": 30},
    },
}


def _post(layout: ws.Layout, digest: dict) -> Path:
    """Post a hand-made digest folder (no notebook) the way the event runner lays it out."""
    folder = layout.digest_dir(digest["digest_id"])
    folder.mkdir(parents=True)
    data = fileio.canonical_json(digest)
    (folder / "digest.json").write_bytes(data)
    audit = ws.new_audit(
        digest, digest_sha256=fileio.sha256_bytes(data), parameters={}, event_id="E1"
    )
    (folder / "audit.json").write_bytes(fileio.canonical_json(audit))
    return folder


@pytest.fixture
def layout(tmp_path: Path) -> ws.Layout:
    return ws.open_workspace(tmp_path / "ws")


@pytest.fixture
def chained(layout: ws.Layout) -> ws.Layout:
    for n in range(1, 6):
        append_audit(layout, "digest.created", digest_id=f"rb@r{n}", by="digestkit")
    assert verify_audit(layout) == []
    return layout


def _lines(layout: ws.Layout) -> list[str]:
    return layout.audit_log.read_text(encoding="utf-8").splitlines()


def _write(layout: ws.Layout, lines: list[str]) -> None:
    layout.audit_log.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_audit_chain_links_each_entry_to_the_previous_hash(chained: ws.Layout) -> None:
    entries = [json.loads(line) for line in _lines(chained)]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(entries))


def test_audit_verify_catches_an_edited_entry(chained: ws.Layout) -> None:
    lines = _lines(chained)
    entry = json.loads(lines[2])
    entry["by"] = "mallory"
    lines[2] = json.dumps(entry, sort_keys=True)
    _write(chained, lines)
    problems = verify_audit(chained)
    assert [(p.line, "edited" in p.message) for p in problems] == [(3, True)]


def test_audit_verify_catches_an_edit_with_a_recomputed_hash(chained: ws.Layout) -> None:
    lines = _lines(chained)
    entry = json.loads(lines[1])
    entry["digest_id"] = "rb@forged"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry, sort_keys=True)
    _write(chained, lines)
    problems = verify_audit(chained)
    assert [p.line for p in problems] == [3]
    assert "does not chain" in problems[0].message


def test_audit_verify_catches_a_deleted_entry(chained: ws.Layout) -> None:
    lines = _lines(chained)
    del lines[2]
    _write(chained, lines)
    messages = [p.message for p in verify_audit(chained)]
    assert any("seq 3 were deleted" in m for m in messages)


def test_audit_verify_catches_a_deleted_last_entry(chained: ws.Layout) -> None:
    _write(chained, _lines(chained)[:-1])
    messages = [p.message for p in verify_audit(chained)]
    assert messages == ["entries with seq 5 were deleted"]


def test_audit_verify_catches_reordered_entries(chained: ws.Layout) -> None:
    lines = _lines(chained)
    lines[1], lines[2] = lines[2], lines[1]
    _write(chained, lines)
    problems = verify_audit(chained)
    assert any(p.line == 3 and "reordered" in p.message for p in problems)


def test_cli_audit_verify_exits_non_zero_on_tampering(
    chained: ws.Layout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--workspace", str(chained.root)]) == 0
    _write(chained, _lines(chained)[1:])
    assert main(["audit", "verify", "--workspace", str(chained.root)]) == 1
    assert "seq 1 were deleted" in capsys.readouterr().err


def test_index_lists_digests_newest_first_with_counts_and_escapes(layout: ws.Layout) -> None:
    older = copy.deepcopy(DIGEST)
    older["digest_id"] = "premium-s1-escalation@r6"
    older["header"].update(revision="r6", published_at="2026-05-01T09:00:00Z", baseline="r5")
    planted = copy.deepcopy(DIGEST)
    planted["digest_id"] = "x<b>@r1"
    planted["header"].update(runbook_id="x<b>", revision="r1", published_at="2026-01-01T00:00:00Z")
    for d in (older, DIGEST, planted):
        _post(layout, d)
    entries = list_digests(layout)
    assert [e.revision for e in entries] == ["r7", "r6", "r1"]
    assert (entries[0].changed_steps, entries[0].flags, entries[0].open_questions) == (1, 1, 1)
    page = write_index(layout).read_text(encoding="utf-8")
    assert page.index("premium-s1-escalation@r7") < page.index("premium-s1-escalation@r6")
    assert "x&lt;b&gt;" in page and "x<b>" not in page


def test_share_is_refused_when_a_required_field_is_missing(layout: ws.Layout) -> None:
    broken = copy.deepcopy(DIGEST)
    broken["audit"]["approved_by"] = None
    _post(layout, broken)
    with pytest.raises(WorkspaceError, match=r"audit\.approved_by is missing"):
        ws.share(layout, broken["digest_id"], by="u-lead")
    assert ws.load_audit(layout, broken["digest_id"])["state"] == "draft"


def test_share_is_refused_when_digest_json_was_edited(layout: ws.Layout) -> None:
    folder = _post(layout, DIGEST)
    edited = copy.deepcopy(DIGEST)
    edited["flags"] = []
    (folder / "digest.json").write_bytes(fileio.canonical_json(edited))
    with pytest.raises(WorkspaceError, match="does not match the sha256"):
        ws.share(layout, DIGEST["digest_id"], by="u-lead")


def test_share_is_refused_while_the_scope_guard_fails(layout: ws.Layout) -> None:
    leaky = copy.deepcopy(DIGEST)
    leaky["flags"][0]["text"] = "Offer the customer a service credit."
    _post(layout, leaky)
    with pytest.raises(WorkspaceError, match="scope guard: FLG-01 concession"):
        ws.share(layout, leaky["digest_id"], by="u-lead")


def test_share_is_refused_while_a_clarification_breaks_the_scope_guard(
    layout: ws.Layout,
) -> None:
    folder = _post(layout, DIGEST)
    audit = ws.load_audit(layout, DIGEST["digest_id"])
    audit["clarifications"] = [{"author": "u-a", "at": "t", "text": "Declare Sev1 now."}]
    (folder / "audit.json").write_bytes(fileio.canonical_json(audit))
    with pytest.raises(WorkspaceError, match="scope guard: clarification 1 severity declaration"):
        ws.share(layout, DIGEST["digest_id"], by="u-lead")


# --- share --confirm-scope (issue 16) -----------------------------------------------------------

CONFIRM_NOTE = "Sev 2 seems fair for this one."


def _with_note(layout: ws.Layout, text: str) -> None:
    folder = _post(layout, DIGEST)
    audit = ws.load_audit(layout, DIGEST["digest_id"])
    audit["clarifications"] = [{"author": "u-a", "at": "t", "text": text}]
    (folder / "audit.json").write_bytes(fileio.canonical_json(audit))


def _no_render(monkeypatch: pytest.MonkeyPatch, layout: ws.Layout) -> None:
    """Share without running the notebook: these digests were posted by hand, with no page."""

    def fake_render(folder: Path, **_: object) -> None:
        # What the page shows is the state in the live audit.json, as the notebook reads it.
        live = json.loads((ws.find_digest(layout, DIGEST["digest_id"]) / "audit.json").read_text())
        (folder / "digest.ipynb").write_text("{}", encoding="utf-8")
        (folder / "digest.html").write_text(live["state"], encoding="utf-8")

    monkeypatch.setattr(ws, "render_folder", fake_render)


def test_share_lists_confirm_level_sentences_and_needs_confirm_scope(
    layout: ws.Layout, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_note(layout, CONFIRM_NOTE)
    _no_render(monkeypatch, layout)
    assert ws.share_problems(layout, DIGEST["digest_id"]) == []
    with pytest.raises(WorkspaceError) as refused:
        ws.share(layout, DIGEST["digest_id"], by="u-lead")
    assert "without --confirm-scope: 1 sentence(s)" in str(refused.value)
    assert f"clarification 1 severity declaration in '{CONFIRM_NOTE}'" in str(refused.value)
    assert ws.load_audit(layout, DIGEST["digest_id"])["state"] == "draft"
    assert not layout.audit_log.exists()
    code = main(["share", DIGEST["digest_id"], "--by", "u-lead", "--workspace", str(layout.root)])
    assert code == 2 and "--confirm-scope" in capsys.readouterr().err

    args = ["share", DIGEST["digest_id"], "--by", "u-lead", "--workspace", str(layout.root)]
    code = main([*args, "--confirm-scope"])
    assert code == 0
    audit = ws.load_audit(layout, DIGEST["digest_id"])
    assert audit["state"] == "shared"
    # One entry: the confirmation is part of the share it allowed (journaled together).
    (shared,) = [json.loads(line) for line in _lines(layout)]
    assert shared["action"] == "digest.shared"
    # who and when: the sharer, at the moment of sharing; the sentence by hash only
    assert (shared["by"], shared["at"]) == ("u-lead", audit["transitions"][-1]["at"])
    assert shared["scope_confirmed"] == [
        {
            "where": "clarification 1",
            "rule": "severity_declaration",
            "sentence_sha256": fileio.sha256_bytes(CONFIRM_NOTE.encode("utf-8")),
        }
    ]
    assert CONFIRM_NOTE not in layout.audit_log.read_text(encoding="utf-8")
    assert verify_audit(layout) == []


def test_confirm_scope_never_lets_a_block_level_sentence_through(
    layout: ws.Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_note(layout, "Declare Sev1 now.")
    _no_render(monkeypatch, layout)
    with pytest.raises(WorkspaceError, match="scope guard: clarification 1 severity declaration"):
        ws.share(layout, DIGEST["digest_id"], by="u-lead", confirm_scope=True)
    assert not layout.audit_log.exists()


def test_share_without_confirm_level_sentences_logs_no_confirmation(
    layout: ws.Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_note(layout, "The runbook says severity must be set by the incident commander.")
    _no_render(monkeypatch, layout)
    ws.share(layout, DIGEST["digest_id"], by="u-lead")
    assert [json.loads(line)["action"] for line in _lines(layout)] == ["digest.shared"]


class _EmptyBrief(SimpleNamespace):
    """A brief with nothing but clarifications, for the details template."""

    def __init__(self, notes: list[SimpleNamespace]) -> None:
        super().__init__(attention=[], resolved=[], changes=[], baseline="r1", notes=notes)


def test_the_page_marks_confirm_level_claims_and_clarifications() -> None:
    notes = [
        SimpleNamespace(author="u-a", at="t1", text=CONFIRM_NOTE),
        SimpleNamespace(author="u-b", at="t2", text="Step 4 was reworded."),
    ]
    html = render.page("brief/details.html.j2", b=_EmptyBrief(notes)).split("</style>")[1]
    assert html.count('class="dk-note dk-scope-confirm"') == 1
    assert html.index("dk-scope-confirm") < html.index(CONFIRM_NOTE) < html.index("Step 4")
    assert render.scope_mark("Have the Ledger team pick this up.") == " dk-scope-confirm"
    assert render.scope_mark("The runbook says to have the Ledger team pick it up.") == ""


def test_a_clarification_for_an_unknown_claim_is_refused_naming_the_claims(
    layout: ws.Layout, capsys: pytest.CaptureFixture[str]
) -> None:
    _post(layout, DIGEST)
    with pytest.raises(WorkspaceError, match=r"has no claim 'FLG-99'; its claims: CHG-01, "):
        ws.clarify(layout, DIGEST["digest_id"], author="u-a", text="Checked.", claim="FLG-99")
    assert ws.load_audit(layout, DIGEST["digest_id"])["clarifications"] == []
    args = ["clarify", DIGEST["digest_id"], "--author", "u-a", "--text", "Checked."]
    assert main([*args, "--claim", "OQ-9", "--workspace", str(layout.root)]) == 2
    assert "has no claim 'OQ-9'" in capsys.readouterr().err


def test_unknown_digest_names_the_known_ones(layout: ws.Layout) -> None:
    _post(layout, DIGEST)
    with pytest.raises(WorkspaceError, match=r"known: premium-s1-escalation@r7"):
        ws.load_audit(layout, "premium-s1-escalation@r99")


def test_fragments_escape_all_text_and_link_every_claim_to_a_source_row() -> None:
    page = render.digest_html(DIGEST, notes=[{"author": "a<i>", "at": "t", "text": PLANT}])
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    anchors = {f'id="src-{s["ref"]}"' for s in DIGEST["sources"]}
    assert all(a in page for a in anchors)
    for part in ("changed_steps", "carried_forward", "open_questions", "flags"):
        for claim in DIGEST[part]:
            # Each claim in full, up to the next claim or source, cites its sources.
            block = page.split(f'id="claim-{claim["id"]}"', 1)[1].split('id="', 1)[0]
            assert 'href="#src-S' in block


def test_redline_marks_deleted_and_inserted_words() -> None:
    assert render.redline("within 15 minutes", "within 10 minutes <b>") == (
        "within <del>15</del> <ins>10</ins> minutes <ins>&lt;b&gt;</ins>"
    )
    # A changed phrase stays one deletion and one insertion, as in `digestkit diff`.
    assert render.redline("Notifications Engineering owns it", "Messaging Platform owns it") == (
        "<del>Notifications Engineering</del> <ins>Messaging Platform</ins> owns it"
    )


def test_state_badges_say_whose_state_it_is() -> None:
    assert ">digest draft: not yet reviewed<" in render.state_badge("draft")
    assert ">digest shared for handoff<" in render.state_badge("shared")
    assert 'class="dk-state dk-state-withdrawn">revision withdrawn<' in render.state_badge(
        "withdrawn"
    )
