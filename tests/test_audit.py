"""audit verify cannot be fooled cheaply: heads only the chain can produce, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digestkit import workspace as ws
from digestkit.audit import GENESIS, append_audit, entry_hash, next_entry, verify_audit
from digestkit.cli import main
from digestkit.exceptions import WorkspaceError


@pytest.fixture
def chained(tmp_path: Path) -> ws.Layout:
    layout = ws.open_workspace(tmp_path / "ws")
    for n in range(1, 5):
        append_audit(layout, "event.skipped", by="u-lead", event_id=f"EVT-{n:06d}")
    assert verify_audit(layout) == []
    return layout


def _lines(layout: ws.Layout) -> list[str]:
    return layout.audit_log.read_text(encoding="utf-8").splitlines()


def _head(layout: ws.Layout) -> dict:
    return json.loads(layout.audit_head.read_text(encoding="utf-8"))


def _messages(layout: ws.Layout, **kwargs: str) -> list[str]:
    return [p.message for p in verify_audit(layout, **kwargs)]


@pytest.mark.parametrize(
    "head",
    ["{}", "[]", "null", '"abc"', "{not json", '{"seq": 4}', '{"seq": "4", "hash": "%s"}', ""],
)
def test_an_invalid_head_is_a_problem_not_a_traceback(
    chained: ws.Layout, head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chained.audit_head.write_text(head.replace("%s", _head(chained)["hash"]), encoding="utf-8")
    messages = _messages(chained)
    assert any("audit-head.json is not" in m for m in messages), messages
    assert main(["audit", "verify", "--workspace", str(chained.root)]) == 1
    assert "audit-head.json is not" in capsys.readouterr().err
    assert main(["audit", "head", "--workspace", str(chained.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digestkit: error:") and "Traceback" not in err


def test_a_head_copied_from_the_entry_before_a_deleted_last_line_is_caught_by_the_anchor(
    chained: ws.Layout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "head", "--workspace", str(chained.root)]) == 0
    anchored = capsys.readouterr().out.strip()
    assert anchored == _head(chained)["hash"] == json.loads(_lines(chained)[-1])["hash"]
    lines = _lines(chained)
    previous = json.loads(lines[-2])
    chained.audit_log.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    chained.audit_head.write_text(json.dumps({"seq": previous["seq"], "hash": previous["hash"]}))
    # Self-consistent now: only a head kept outside the workspace shows what was cut.
    assert verify_audit(chained) == []
    messages = _messages(chained, expect_head=anchored)
    assert len(messages) == 1 and "no entry of the chain" in messages[0]
    args = ["audit", "verify", "--workspace", str(chained.root), "--expect-head", anchored]
    assert main(args) == 1
    assert "truncated, rewritten or forked" in capsys.readouterr().err


def test_an_anchored_head_stays_valid_as_the_chain_grows(chained: ws.Layout) -> None:
    anchored = _head(chained)["hash"]
    append_audit(chained, "event.skipped", by="u-lead", event_id="EVT-000099")
    assert verify_audit(chained, expect_head=anchored) == []
    assert verify_audit(chained, expect_head=anchored.upper()) == []
    assert _messages(chained, expect_head="f" * 64) != []
    assert _messages(chained, expect_head="not-a-hash") == [
        "--expect-head must be 64 hex digits (digestkit audit head)"
    ]


def test_a_head_that_names_a_later_seq_than_the_log_reports_the_deletion(
    chained: ws.Layout,
) -> None:
    chained.audit_log.write_text("\n".join(_lines(chained)[:-1]) + "\n", encoding="utf-8")
    assert _messages(chained) == ["entries with seq 4 were deleted"]
    # The next entry never reuses seq 4: the gap stays visible.
    entry = append_audit(chained, "event.skipped", by="u-lead", event_id="EVT-000005")
    assert entry["seq"] == 5
    assert _messages(chained) == ["entries with seq 4 were deleted"]


def test_a_huge_forged_seq_is_reported_without_listing_every_number(chained: ws.Layout) -> None:
    chained.audit_head.write_text(json.dumps({"seq": 10**15, "hash": "a" * 64}))
    assert _messages(chained) == [f"entries with seq 5-{10**15} were deleted"]
    lines = _lines(chained)
    forged = {**json.loads(lines[1]), "seq": 10**12}
    chained.audit_log.write_text("\n".join([lines[0], json.dumps(forged), *lines[2:]]) + "\n")
    gaps = f"2, 5-{10**12 - 1}, {10**12 + 1}-{10**15}"
    assert f"entries with seq {gaps} were deleted" in _messages(chained)


def test_a_head_left_behind_by_a_kill_never_makes_two_entries_share_a_seq(
    chained: ws.Layout,
) -> None:
    lines = _lines(chained)
    behind = json.loads(lines[-2])
    chained.audit_head.write_text(json.dumps({"seq": behind["seq"], "hash": behind["hash"]}))
    assert _messages(chained) == ["the head records seq 3 but the log goes on to 4"]
    entry = append_audit(chained, "event.skipped", by="u-lead", event_id="EVT-000005")
    assert (entry["seq"], entry["prev"]) == (5, json.loads(lines[-1])["hash"])
    assert verify_audit(chained) == []


def test_the_head_must_be_the_hash_the_chain_computes_for_its_last_entry(
    chained: ws.Layout,
) -> None:
    good = _head(chained)
    chained.audit_head.write_text(json.dumps({"seq": 4, "hash": "a" * 64}))
    assert _messages(chained) == ["the last entry is not the one the head records"]
    # An edited last entry with its stored hash recomputed differs from the head.
    chained.audit_head.write_text(json.dumps(good))
    lines = _lines(chained)
    last = json.loads(lines[-1])
    last["by"] = "mallory"
    last["hash"] = entry_hash(last)
    chained.audit_log.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    assert _messages(chained) == ["the last entry is not the one the head records"]


@pytest.mark.parametrize(
    "line",
    [
        "[]",
        "null",
        "42",
        '{"seq": "2", "action": "x", "prev": "0", "hash": "0"}',
        '{"seq": 2.0, "action": "x", "prev": "0", "hash": "0"}',
        '{"seq": 2, "prev": "0", "hash": "0"}',
        '{"seq": 2, "action": "x", "prev": null, "hash": "0"}',
        "\udcff garbage",
    ],
)
def test_a_malformed_log_line_is_a_problem_not_a_traceback(
    chained: ws.Layout, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _lines(chained)
    lines[1] = line
    chained.audit_log.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    problems = verify_audit(chained)
    assert (2, "not an audit entry (edited or corrupted)") in [
        (p.line, p.message) for p in problems
    ]
    assert main(["audit", "verify", "--workspace", str(chained.root)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_torn_last_line_is_reported_and_blocks_the_next_entry(chained: ws.Layout) -> None:
    entry = next_entry(chained, "event.skipped", by="u-lead", event_id="EVT-000005")
    with chained.audit_log.open("a") as fh:
        fh.write(json.dumps(dict(entry))[:40])
    assert "the last line is incomplete (a write was cut short)" in _messages(chained)
    with pytest.raises(WorkspaceError, match="last line is incomplete"):
        append_audit(chained, "event.skipped", by="u-lead", event_id="EVT-000006")


def test_an_empty_workspace_has_no_head_and_an_intact_log(tmp_path: Path, capsys) -> None:
    layout = ws.open_workspace(tmp_path / "ws")
    assert verify_audit(layout) == []
    assert main(["audit", "head", "--workspace", str(layout.root)]) == 2
    assert "no entries yet" in capsys.readouterr().err
    first = append_audit(layout, "event.skipped", by="u-lead", event_id="EVT-000001")
    assert (first["seq"], first["prev"]) == (1, GENESIS)
