"""The feed cannot lose or misapply an event silently, and source faults fail events, not runs.

Every test writes its own feed over the tiny world of conftest.py; digest pages come from the
stand-in renderer of tests/_crash_child.py (the notebook is covered by test_events.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import _crash_child
import pytest
import sqlalchemy as sa
from conftest import OTHER, RUNBOOK

from digestkit import events
from digestkit import workspace as ws
from digestkit.audit import verify_audit
from digestkit.exceptions import DigestkitError, EventError, WorkspaceError
from digestkit.fileio import read_jsonl


@pytest.fixture(autouse=True)
def _stand_in_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "render_folder", _crash_child.render_folder)


def _events(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "feed" / "events.jsonl").read_text().splitlines()]


def _feed(world: Path, records: list[dict | str]) -> Path:
    path = world / "feed" / "events.jsonl"
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")
    return path


def _statuses(result: events.PassResult) -> list[tuple[int, str]]:
    return [(o.line_no, o.status) for o in result.outcomes]


def test_a_re_used_event_id_with_another_payload_is_a_conflict(tiny_world, tmp_path) -> None:
    first, _, _, second, _ = _events(tiny_world)
    reused = {**second, "event_id": first["event_id"]}  # r2 under r1's id
    _feed(tiny_world, [first, reused, {**first}])
    workspace = tmp_path / "ws"
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(result) == [(1, "processed"), (2, "failed"), (3, "duplicate")]
    reason = result.outcomes[1].reason
    assert reason.startswith("conflict: event id EVT-000001 was used at feed line 1")
    assert "(content_sha256, occurred_at, revision differ)" in reason
    layout = ws.open_workspace(workspace)
    assert not layout.digest_dir(f"{RUNBOOK}@r2").exists()  # never silently dropped...
    assert events.process_feed(data=tiny_world, workspace=workspace).failed  # ...but retried
    # A person closes the conflicting line, not the first one with that id.
    skipped = events.skip_event(
        "EVT-000001",
        by="u-lead",
        reason="Re-sent as EVT-000004.",
        data=tiny_world,
        workspace=workspace,
    )
    assert (skipped.line_no, skipped.status) == (2, "skipped")
    assert events.process_feed(data=tiny_world, workspace=workspace).cursor == 4
    assert verify_audit(layout) == []


def test_a_revision_digested_from_other_bytes_is_a_conflict(tiny_world, tmp_path) -> None:
    first = _events(tiny_world)[0]
    _feed(tiny_world, [first])
    workspace = tmp_path / "ws"
    events.process_feed(data=tiny_world, workspace=workspace)
    revision = tiny_world / "runbooks" / RUNBOOK / "r1.md"
    revision.write_text(revision.read_text() + "3. Close the bridge.\n")
    again = {
        **first,
        "event_id": "EVT-000010",
        "content_sha256": hashlib.sha256(revision.read_bytes()).hexdigest(),
    }
    _feed(tiny_world, [first, again])
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(result) == [(2, "failed")]
    assert "was digested from other bytes" in result.outcomes[0].reason


def test_a_handled_line_after_a_failed_one_cannot_be_edited_unnoticed(tiny_world, tmp_path) -> None:
    first, other, _, _, draft = _events(tiny_world)
    failing = {**draft, "event_id": "EVT-000009", "type": events.PUBLISHED}  # still a draft
    _feed(tiny_world, [first, failing, other])
    workspace = tmp_path / "ws"
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(result) == [(1, "processed"), (2, "failed"), (3, "processed")]
    assert result.cursor == 2  # line 3 is handled, but after the cursor
    edited = {**other, "actor": "u-mallory"}
    _feed(tiny_world, [first, failing, edited])
    with pytest.raises(EventError, match="line 3 is not the line the workspace"):
        events.process_feed(data=tiny_world, workspace=workspace)
    _feed(tiny_world, [first, {**failing, "actor": "u-fixed"}, other])  # an unhandled line
    assert _statuses(events.process_feed(data=tiny_world, workspace=workspace)) == [(2, "failed")]


def test_withdrawal_events_are_validated_against_the_repository(tiny_world, tmp_path) -> None:
    first, other, _, _, _ = _events(tiny_world)
    _feed(tiny_world, [first, other])
    workspace = tmp_path / "ws"
    events.process_feed(data=tiny_world, workspace=workspace)
    revision = tiny_world / "runbooks" / OTHER / "r1.md"
    revision.write_text(revision.read_text().replace("status: published", "status: withdrawn"))
    sha = hashlib.sha256(revision.read_bytes()).hexdigest()
    withdrawal = {**other, "type": events.WITHDRAWN, "content_sha256": sha}
    forged = {**withdrawal, "event_id": "EVT-000011", "content_sha256": "0" * 64}
    unknown = {**withdrawal, "event_id": "EVT-000012", "revision": "r9"}
    still_published = {**first, "event_id": "EVT-000013", "type": events.WITHDRAWN}
    real = {**withdrawal, "event_id": "EVT-000014"}
    _feed(tiny_world, [first, other, forged, unknown, still_published, real])
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(result) == [(3, "failed"), (4, "failed"), (5, "failed"), (6, "processed")]
    reasons = [o.reason for o in result.outcomes]
    assert "content_sha256 does not match" in reasons[0]
    assert "r9" in reasons[1]
    assert "is 'published' in the runbook repository, not withdrawn" in reasons[2]
    layout = ws.open_workspace(workspace)
    assert ws.load_audit(layout, f"{RUNBOOK}@r1")["state"] == "draft"
    assert ws.load_audit(layout, f"{OTHER}@r1")["state"] == "withdrawn"


def test_a_torn_last_outcome_is_set_aside_and_its_line_handled_again(tiny_world, tmp_path) -> None:
    first, other, *_ = _events(tiny_world)
    _feed(tiny_world, [first])
    workspace = tmp_path / "ws"
    events.process_feed(data=tiny_world, workspace=workspace)
    layout = ws.open_workspace(workspace)
    _feed(tiny_world, [first, {**other, "type": "runbook.draft_saved"}])
    torn = '{"at": "2026-01-01T00:00:00Z", "line_no": 2, "status": "sk'
    with layout.events.open("a") as fh:
        fh.write(torn)  # what a run killed in the middle of writing an outcome leaves
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert result.recovery.set_aside == ["state/events.jsonl"]
    assert _statuses(result) == [(2, "skipped")]
    assert (layout.root / "state" / "events.jsonl.torn").read_text() == torn + "\n"
    assert [r["line_no"] for r in read_jsonl(layout.events)] == [1, 2]


def test_an_edited_outcome_line_is_named_with_the_way_to_recover(tiny_world, tmp_path) -> None:
    workspace = tmp_path / "ws"
    events.process_feed(data=tiny_world, workspace=workspace)
    layout = ws.open_workspace(workspace)
    lines = layout.events.read_text().splitlines()
    lines[1] = lines[1][:-5] + "garbage"
    layout.events.write_text("\n".join(lines) + "\n")
    with pytest.raises(WorkspaceError, match=r"state/events.jsonl:2: not a JSON object .* restore"):
        events.process_feed(data=tiny_world, workspace=workspace)


def test_a_database_fault_fails_the_event_with_a_short_reason_and_it_is_retried(
    tiny_world, tmp_path, monkeypatch
) -> None:
    from digestkit import digest

    build_digest = digest.build_digest

    def dropped(*args, **kwargs):
        # What SQLAlchemy raises when the connection drops mid-query: statement and parameters.
        raise sa.exc.OperationalError(
            "SELECT account_name, contract_clause FROM entitlements WHERE tier = ?\n" * 50,
            ("Gold",),
            sqlite3.OperationalError("server closed the connection unexpectedly"),
        )

    monkeypatch.setattr(digest, "build_digest", dropped)
    workspace = tmp_path / "ws"
    result = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(result)[:2] == [(1, "failed"), (2, "failed")]
    stored = [r["reason"] for r in read_jsonl(ws.open_workspace(workspace).events)]
    assert stored[0] == (
        "OperationalError: (sqlite3.OperationalError) server closed the connection unexpectedly"
    )
    assert all("SELECT" not in r and "Gold" not in r for r in stored)
    monkeypatch.setattr(digest, "build_digest", build_digest)
    again = events.process_feed(data=tiny_world, workspace=workspace)
    assert _statuses(again)[:2] == [(1, "processed"), (2, "processed")]


def test_short_reasons_carry_neither_the_statement_nor_its_parameters() -> None:
    exc = sa.exc.OperationalError(
        "SELECT account_name FROM accounts WHERE contact = ?",
        ("Jane Roe",),
        sqlite3.OperationalError("database is locked"),
    )
    assert (
        events.short_reason(exc)
        == "OperationalError: (sqlite3.OperationalError) database is locked"
    )
    assert len(events.short_reason(EventError("x" * 5000))) == 300


class _Stop(Exception):
    pass


def test_watch_keeps_running_through_database_faults(tiny_world, tmp_path) -> None:
    crm = tiny_world / "crm.sqlite"
    kept = tmp_path / "crm.sqlite"
    shutil.copyfile(crm, kept)
    crm.write_bytes(b"not a database" * 100)
    errors: list[DigestkitError] = []
    passes: list[events.PassResult] = []

    def on_error(error: DigestkitError) -> None:
        errors.append(error)
        if len(errors) == 1:
            crm.unlink()  # unreachable next
        else:
            shutil.copyfile(kept, crm)  # back

    def on_pass(result: events.PassResult) -> None:
        passes.append(result)
        raise _Stop

    with pytest.raises(_Stop):
        events.watch(
            data=tiny_world,
            workspace=tmp_path / "ws",
            interval=0,
            on_pass=on_pass,
            on_error=on_error,
            warm_kernel=False,
        )
    assert len(errors) == 2
    assert all("\n" not in str(e) and "crm.sqlite" in str(e) for e in errors)
    assert "CRM cannot be used now" in str(errors[0])
    assert "CRM database not found" in str(errors[1])
    assert [o.status for o in passes[0].outcomes].count("processed") == 3
