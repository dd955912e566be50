"""Event runner end to end on the sample world: feed -> papermill -> nbconvert HTML -> workspace."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from digestkit import clock, events, render
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.audit import verify_audit
from digestkit.cli import main
from digestkit.exceptions import NotebookError, ScopeError, WorkspaceError
from digestkit.fileio import canonical_json, locked, read_jsonl, sha256_bytes
from digestkit.index import list_digests
from digestkit.kernel import WarmKernel

SAMPLE = Path(__file__).resolve().parent.parent / "digestkit" / "data" / "sample"
FILES = {"digest.ipynb", "digest.html", "digest.json", "audit.json"}


def _outcomes(layout: ws.Layout) -> list[dict]:
    return read_jsonl(layout.events)


def _published(lines: list[src_mod.FeedLine]) -> list[dict]:
    return [ln.event for ln in lines if ln.event and ln.event["type"] == events.PUBLISHED]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the sample world, so tests can write feeds next to it."""
    out = tmp_path_factory.mktemp("world") / "data"
    shutil.copytree(SAMPLE, out)
    return out


@pytest.fixture(scope="module")
def feed_lines(data: Path) -> list[src_mod.FeedLine]:
    return list(src_mod.iter_feed(src_mod.open_sources(data)))


@pytest.fixture(scope="module")
def full_run(data: Path, tmp_path_factory: pytest.TempPathFactory):
    """One pass over the whole sample feed, as `digestkit run` does it."""
    workspace = tmp_path_factory.mktemp("full") / "ws"
    result = events.process_feed(data=data, workspace=workspace)
    return result, ws.open_workspace(workspace)


@pytest.fixture
def broken_notebook(tmp_path: Path) -> Path:
    nb = nbformat.read(render.DIGEST_NOTEBOOK, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell('raise RuntimeError("planted failure")'))
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    return path


def _write_feed(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_every_feed_line_gets_exactly_one_outcome(full_run, feed_lines) -> None:
    result, layout = full_run
    recorded = _outcomes(layout)
    assert sorted(r["line_no"] for r in recorded) == [ln.line_no for ln in feed_lines]
    assert not result.failed, [o.reason for o in result.failed]
    assert result.cursor == feed_lines[-1].line_no + 1
    statuses = Counter(r["status"] for r in recorded)
    assert statuses["processed"] >= 2
    assert statuses["quarantined"] == 1
    assert statuses["duplicate"] >= 1
    assert statuses["skipped"] >= 2


def test_draft_and_withdrawn_events_are_skipped_without_a_digest(full_run, feed_lines) -> None:
    _, layout = full_run
    by_line = {r["line_no"]: r for r in _outcomes(layout)}
    kinds = {ln.event["type"] for ln in feed_lines if ln.event} - {events.PUBLISHED}
    assert kinds == {"runbook.draft_saved", "runbook.withdrawn"}
    for ln in feed_lines:
        if ln.event and ln.event["type"] != events.PUBLISHED:
            assert by_line[ln.line_no]["status"] in ("skipped", "duplicate")
            if ln.event["type"] == "runbook.draft_saved":
                digest_id = f"{ln.event['runbook_id']}@{ln.event['revision']}"
                assert not layout.digest_dir(digest_id).exists()


def test_malformed_line_is_quarantined_with_reason_and_line_number(full_run, feed_lines) -> None:
    _, layout = full_run
    bad = [ln for ln in feed_lines if ln.error]
    quarantined = read_jsonl(layout.quarantine)
    assert [q["line_no"] for q in quarantined] == [ln.line_no for ln in bad]
    assert quarantined[0]["reason"] == bad[0].error
    assert "text" not in quarantined[0]  # the raw line may hold anything; it is not copied


def test_duplicate_event_makes_no_second_digest(full_run, feed_lines) -> None:
    _, layout = full_run
    processed = [r for r in _outcomes(layout) if r["status"] == "processed"]
    assert len({r["digest_id"] for r in processed}) == len(processed)
    ids = Counter(e["event_id"] for e in _published(feed_lines))
    refs = Counter(f"{e['runbook_id']}@{e['revision']}" for e in _published(feed_lines))
    assert max(ids.values()) > 1 or max(refs.values()) > 1  # the sample plants one
    folders = {p.name for p in layout.digests.iterdir()}
    assert folders == {r["digest_id"] for r in processed}


def test_each_digest_folder_is_complete_and_consistent(full_run) -> None:
    _, layout = full_run
    assert not list(layout.tmp.iterdir())
    for folder in layout.digests.iterdir():
        assert {p.name for p in folder.iterdir()} == FILES
        # written atomically, yet with the mode of any other file (not mkstemp's 0600)
        assert len({(folder / name).stat().st_mode for name in FILES}) == 1
        assert folder.stat().st_mode == layout.digests.stat().st_mode  # not mkdtemp's 0700
        executed = nbformat.read(folder / "digest.ipynb", as_version=4)
        assert executed.metadata.papermill.output_path == str(folder / "digest.ipynb")
        audit = json.loads((folder / "audit.json").read_text())
        digest = json.loads((folder / "digest.json").read_text())
        assert audit["digest_sha256"] == sha256_bytes((folder / "digest.json").read_bytes())
        assert audit["revision_ref"] == digest["digest_id"] == folder.name
        assert set(audit["snapshots"]) >= {"revisions", "products", "teams", "exceptions"}
        assert audit["parameters"]["notebook"]["as_of"] == digest["header"]["as_of"]
        assert audit["state"] == "draft" and audit["transitions"][0]["to"] == "draft"
        page = (folder / "digest.html").read_text()
        h = digest["header"]
        assert f"<title>Digest — {h['runbook_id']} {h['revision']}</title>" in page
        for marker in ("Traceback", "<script", 'class="jp-InputArea', "object at 0x", "Error:"):
            assert marker not in page, marker
        for part in ('id="changed"', 'id="carried-forward"', 'id="open"', 'id="sources"'):
            assert part in page


def test_index_lists_every_digest_newest_first(full_run) -> None:
    result, layout = full_run
    page = result.index.read_text()
    entries = list_digests(layout)
    assert len(entries) == len(list(layout.digests.iterdir()))
    # Grouped by runbook, each group newest first.
    for runbook_id in {e.runbook_id for e in entries}:
        group = [e for e in entries if e.runbook_id == runbook_id]
        positions = [page.index(f'href="digests/{e.digest_id}/digest.html"') for e in group]
        assert positions == sorted(positions)
    published = [e.published_at for e in entries]
    assert published == sorted(published, reverse=True)


def test_second_pass_changes_nothing(full_run, data) -> None:
    result, layout = full_run
    before = layout.events.read_text()
    again = events.process_feed(data=data, workspace=layout.root)
    assert again.outcomes == [] and again.cursor == result.cursor
    assert layout.events.read_text() == before


def test_audit_log_records_each_digest_and_verifies(full_run) -> None:
    _, layout = full_run
    created = [e for e in read_jsonl(layout.audit_log) if e["action"] == "digest.created"]
    assert len(created) == len(list(layout.digests.iterdir()))
    assert verify_audit(layout) == []


def test_failed_run_leaves_no_partial_digest_and_is_retried(
    data, feed_lines, broken_notebook, tmp_path
) -> None:
    pubs = _published(feed_lines)
    first, second = pubs[0], next(e for e in pubs[1:] if e["revision"] != pubs[0]["revision"])
    feed = _write_feed(tmp_path / "feed.jsonl", [first, second])
    workspace = tmp_path / "ws"

    result = events.process_feed(
        data=data, workspace=workspace, feed=feed, notebook=broken_notebook
    )
    layout = ws.open_workspace(workspace)
    assert [o.status for o in result.outcomes] == ["failed", "failed"]
    assert "RuntimeError: planted failure" in result.outcomes[0].reason
    assert result.cursor == 1
    assert list(layout.digests.iterdir()) == [] and list(layout.tmp.iterdir()) == []
    assert [r["status"] for r in _outcomes(layout)] == ["failed", "failed"]

    retry = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [o.status for o in retry.outcomes] == ["processed", "processed"]
    assert retry.cursor == 3


def test_cursor_never_moves_past_a_failed_event(data, feed_lines, tmp_path) -> None:
    pubs = _published(feed_lines)
    good = pubs[0]
    tampered = dict(pubs[1], event_id="EVT-TAMPERED", content_sha256="0" * 64)
    later = next(
        e for e in pubs[2:] if e["revision"] not in (good["revision"], pubs[1]["revision"])
    )
    feed = _write_feed(tmp_path / "feed.jsonl", [good, tampered, later])
    workspace = tmp_path / "ws"

    result = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [o.status for o in result.outcomes] == ["processed", "failed", "processed"]
    assert "content_sha256 does not match" in result.outcomes[1].reason
    assert result.cursor == 2

    again = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [(o.line_no, o.status) for o in again.outcomes] == [(2, "failed")]
    assert again.cursor == 2


def test_unknown_revision_fails_with_an_actionable_reason(data, feed_lines, tmp_path) -> None:
    ghost = dict(_published(feed_lines)[0], event_id="EVT-GHOST", revision="r999")
    feed = _write_feed(tmp_path / "feed.jsonl", [ghost])
    result = events.process_feed(data=data, workspace=tmp_path / "ws", feed=feed)
    assert result.outcomes[0].status == "failed"
    assert "unknown revision 'r999'" in result.outcomes[0].reason


def test_lock_keeps_a_second_runner_out(data, tmp_path) -> None:
    layout = ws.open_workspace(tmp_path / "ws")
    with locked(layout.lock), pytest.raises(WorkspaceError, match="another digestkit process"):
        events.process_feed(data=data, workspace=layout.root, lock_timeout=0)


def test_two_watchers_at_once_never_both_process_an_event(data, feed_lines, tmp_path) -> None:
    pubs = _published(feed_lines)
    chosen = {}
    for e in pubs:
        chosen.setdefault(e["revision"], e)
    feed = _write_feed(tmp_path / "feed.jsonl", list(chosen.values())[:3])
    workspace = tmp_path / "ws"
    cmd = [
        sys.executable,
        "-m",
        "digestkit",
        "watch",
        "--once",
        "--data",
        str(data),
        "--workspace",
        str(workspace),
        "--feed",
        str(feed),
    ]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
    recorded = _outcomes(ws.open_workspace(workspace))
    assert Counter(r["status"] for r in recorded) == {"processed": 3}
    assert len({r["event_id"] for r in recorded}) == 3


def test_run_event_handles_one_event_and_reports_duplicates(data, feed_lines, tmp_path) -> None:
    event = _published(feed_lines)[0]
    workspace = tmp_path / "ws"
    outcome = events.run_event(event["event_id"], data=data, workspace=workspace)
    assert outcome.status == "processed"
    assert ws.open_workspace(workspace).digest_dir(outcome.digest_id).is_dir()
    again = events.run_event(event["event_id"], data=data, workspace=workspace)
    assert again.status == "duplicate" and "already digested" in again.reason


def _withdraw_in_repository(world: Path, runbook_id: str, revision: str) -> str:
    """Mark a revision withdrawn in a world's runbook folder; return the new file's sha256."""
    path = world / "runbooks" / runbook_id / f"{revision}.md"
    path.write_text(path.read_text().replace("\nstatus: published\n", "\nstatus: withdrawn\n", 1))
    return sha256_bytes(path.read_bytes())


def test_a_withdrawal_after_the_digest_marks_it_withdrawn(data, feed_lines, tmp_path) -> None:
    world = tmp_path / "world"
    shutil.copytree(data, world)
    published = next(e for e in _published(feed_lines) if e["revision"] == "r7")
    feed = _write_feed(tmp_path / "feed.jsonl", [published])
    workspace = tmp_path / "ws"
    first = events.process_feed(data=world, workspace=workspace, feed=feed)
    assert [(o.status, o.reason) for o in first.outcomes] == [("processed", "digest built")]
    # Validated like a publication: refused while the repository still has it published.
    premature = {**published, "event_id": "EVT-900002", "type": events.WITHDRAWN}
    _write_feed(feed, [published, premature])
    early = events.process_feed(data=world, workspace=workspace, feed=feed)
    assert [o.status for o in early.outcomes] == ["failed"]
    assert "is 'published' in the runbook repository, not withdrawn" in early.outcomes[0].reason
    withdrawn = {
        **published,
        "event_id": "EVT-900001",
        "type": events.WITHDRAWN,
        "occurred_at": "2026-06-02T08:00:00Z",
        "actor": "u-mokafor",
        "content_sha256": _withdraw_in_repository(world, "premium-s1-escalation", "r7"),
    }
    _write_feed(feed, [published, premature, withdrawn, {**withdrawn}])
    result = events.process_feed(data=world, workspace=workspace, feed=feed)
    assert [o.status for o in result.outcomes] == ["failed", "processed", "duplicate"]
    assert "EVT-900002: content_sha256 does not match" in result.outcomes[0].reason
    assert [o.reason for o in result.outcomes[1:]] == [
        "digest marked withdrawn",
        "event id already handled at feed line 3",
    ]
    layout = ws.open_workspace(workspace, create=False)
    digest_id = "premium-s1-escalation@r7"
    audit = ws.load_audit(layout, digest_id)
    assert audit["state"] == "withdrawn"
    assert audit["transitions"][-1] == {
        "from": "draft",
        "to": "withdrawn",
        "at": "2026-06-02T08:00:00Z",
        "by": "u-mokafor",
        "meaning": ws.WITHDRAW_MEANING,
        "event_id": "EVT-900001",
    }
    page = (layout.digest_dir(digest_id) / "digest.html").read_text()
    assert "Do not use this digest for handoff" in page and "dk-state-withdrawn" in page
    assert "dk-state-withdrawn" in layout.index.read_text()
    with pytest.raises(WorkspaceError, match="withdrawn after publication"):
        ws.share(layout, digest_id, by="u-lead")
    assert ws.load_audit(layout, digest_id)["state"] == "withdrawn"
    assert [e["action"] for e in read_jsonl(layout.audit_log)][-1] == "digest.withdrawn"
    assert verify_audit(layout) == []


def test_a_missed_item_source_must_resolve_in_the_digest_data(data, feed_lines, tmp_path) -> None:
    from digestkit import review as rv

    event = next(e for e in _published(feed_lines) if e["revision"] == "r7")
    workspace = tmp_path / "ws"
    digest_id = events.run_event(event["event_id"], data=data, workspace=workspace).digest_id
    args = {"text": "x", "part": "flags", "reviewer": "m.ross"}
    for source in (
        "registry:PRD-NOPE:owning_team",
        "registry:PRD-PAYAPI:no_such_column",
        f"runbook:{digest_id}:L1-L99999",
        "exceptions:EXC-0000",
        "crm:entitlements:tier=Gold",
    ):
        with pytest.raises(WorkspaceError, match=f"source {source} does not resolve in {data}"):
            rv.add_missed(workspace, digest_id, source=source, **args)
    assert not rv.reviews_path(ws.open_workspace(workspace), digest_id).exists()
    record = rv.add_missed(workspace, digest_id, source=f"runbook:{digest_id}:L1-L3", **args)
    assert record["source"] == {"system": "runbook", "id": digest_id, "locator": "L1-L3"}
    other = tmp_path / "other-world"  # r7 cut down to its front matter: line 40 is gone
    shutil.copytree(data, other)
    r7 = other / "runbooks" / "premium-s1-escalation" / "r7.md"
    front_matter = r7.read_text().split("\n---\n", 1)[0] + "\n---\n"
    r7.write_text(front_matter)
    source = f"runbook:{digest_id}:L40-L40"
    rv.add_missed(workspace, digest_id, source=source, **args)
    with pytest.raises(WorkspaceError, match=f"does not resolve in {other}"):
        rv.add_missed(workspace, digest_id, source=source, data=other, **args)


def test_a_withdrawal_before_the_digest_is_remembered(data, feed_lines, tmp_path) -> None:
    world = tmp_path / "world"
    shutil.copytree(data, world)
    sha = _withdraw_in_repository(world, "premium-s1-escalation", "r7")
    # As in the sample world, both events name the bytes the repository holds now.
    published = {
        **next(e for e in _published(feed_lines) if e["revision"] == "r7"),
        "content_sha256": sha,
    }
    withdrawn = {**published, "event_id": "EVT-900003", "type": events.WITHDRAWN}
    workspace, data = tmp_path / "ws", world
    first = events.process_feed(
        data=data, workspace=workspace, feed=_write_feed(tmp_path / "f.jsonl", [withdrawn])
    )
    assert [(o.status, o.event_type) for o in first.outcomes] == [("skipped", events.WITHDRAWN)]
    assert "later publication event for it is skipped" in first.outcomes[0].reason
    _write_feed(tmp_path / "f.jsonl", [withdrawn, published])  # the feed grows
    second = events.process_feed(data=data, workspace=workspace, feed=tmp_path / "f.jsonl")
    assert [(o.status, o.reason) for o in second.outcomes] == [
        ("skipped", "premium-s1-escalation@r7 was withdrawn (feed line 1): no digest")
    ]
    assert not ws.open_workspace(workspace).digest_dir("premium-s1-escalation@r7").exists()


def test_clarify_and_share_re_render_and_are_audited(full_run) -> None:
    _, layout = full_run
    digest_id = list_digests(layout)[0].digest_id
    folder = layout.digest_dir(digest_id)
    note = ws.clarify(layout, digest_id, author="u-lead", text="Bridge owner confirmed: Ops.")
    assert "Bridge owner confirmed: Ops." in (folder / "digest.html").read_text()
    audit = ws.load_audit(layout, digest_id)
    assert audit["clarifications"] == [note]

    transition = ws.share(layout, digest_id, by="u-lead")
    assert transition["meaning"] == ws.SHARE_MEANING and transition["by"] == "u-lead"
    audit = ws.load_audit(layout, digest_id)
    assert audit["state"] == "shared"
    assert [t["to"] for t in audit["transitions"]] == ["draft", "shared"]
    page, index = (folder / "digest.html").read_text(), layout.index.read_text()
    assert "dk-state-shared" in page and "dk-state-shared" in index
    at = clock.human_time(clock.parse_utc(transition["at"]))  # pages show times for people
    assert f"Shared by u-lead, {at}: reviewed for duty-manager handoff" in page
    assert f"by u-lead at {at}" in index
    others = [e.digest_id for e in list_digests(layout) if e.digest_id != digest_id]
    assert "Shared" not in (layout.digest_dir(others[0]) / "digest.html").read_text()
    with pytest.raises(WorkspaceError, match="already shared"):
        ws.share(layout, digest_id, by="u-other")
    logged = read_jsonl(layout.audit_log)[-2:]
    assert [e["action"] for e in logged] == ["digest.clarified", "digest.shared"]
    assert [e["at"] for e in logged] == [note["at"], transition["at"]]  # one time per change
    # A clarification after sharing changes what was reviewed: back to draft until shared again.
    ws.clarify(layout, digest_id, author="u-dm", text="The bridge number changed today.")
    audit = ws.load_audit(layout, digest_id)
    assert audit["state"] == "draft"
    assert audit["transitions"][-1]["meaning"] == ws.RESHARE_MEANING
    assert "dk-state-draft" in (folder / "digest.html").read_text()
    again = ws.share(layout, digest_id, by="u-lead")
    assert ws.load_audit(layout, digest_id)["state"] == "shared" and again["from"] == "draft"
    assert "Bridge owner" not in layout.audit_log.read_text()  # the log keeps ids and hashes
    assert verify_audit(layout) == []


def test_cli_run_prints_the_index_path(data, tmp_path, capsys) -> None:
    feed = _write_feed(tmp_path / "feed.jsonl", [])
    assert (
        main(["run", "--data", str(data), "--workspace", str(tmp_path / "w"), "--feed", str(feed)])
        == 0
    )
    assert capsys.readouterr().out.strip() == str((tmp_path / "w" / "index.html").resolve())


def test_cli_errors_are_one_line_on_stderr(full_run, tmp_path, capsys) -> None:
    _, layout = full_run
    code = main(["share", "nope@r1", "--by", "u-lead", "--workspace", str(layout.root)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("digestkit: error: no digest 'nope@r1'")
    assert "\n" not in err


def test_a_mistyped_workspace_is_an_error_not_an_empty_intact_one(tmp_path, capsys) -> None:
    for args in (["audit", "verify"], ["share", "x@r1", "--by", "u"], ["clarify", "x@r1",
                 "--author", "u", "--text", "t"]):  # fmt: skip
        assert main([*args, "--workspace", str(tmp_path / "typo")]) == 2
        assert "no handoff workspace" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_a_redelivery_with_other_content_fails_instead_of_passing_as_duplicate(
    data, feed_lines, tmp_path
) -> None:
    event = _published(feed_lines)[0]
    changed = {**event, "event_id": "EVT-900002", "content_sha256": "0" * 64}
    feed = _write_feed(tmp_path / "feed.jsonl", [event, changed, {**event, "event_id": "EVT-9"}])
    result = events.process_feed(data=data, workspace=tmp_path / "ws", feed=feed)
    assert [o.status for o in result.outcomes] == ["processed", "failed", "duplicate"]
    assert "sha256" in result.outcomes[1].reason


def test_a_workspace_refuses_a_feed_it_does_not_follow(data, feed_lines, tmp_path) -> None:
    from digestkit.exceptions import EventError, SourceError

    first = _write_feed(tmp_path / "a.jsonl", _published(feed_lines)[:2])
    workspace = tmp_path / "ws"
    assert len(events.process_feed(data=data, workspace=workspace, feed=first).outcomes) == 2
    layout = ws.open_workspace(workspace, create=False)
    cursor = layout.cursor.read_text()
    other = _write_feed(tmp_path / "b.jsonl", _published(feed_lines)[2:3])
    with pytest.raises(EventError, match=r"follows the feed .*a\.jsonl \(next line 3\), not"):
        events.process_feed(data=data, workspace=workspace, feed=other)
    with pytest.raises(EventError, match="follows the feed"):
        events.run_event(
            _published(feed_lines)[2]["event_id"], data=data, workspace=workspace, feed=other
        )
    _write_feed(first, _published(feed_lines)[:1])  # the followed feed lost a line
    with pytest.raises(EventError, match=r"ends at line 1 but .* up to line 2; .*truncated"):
        events.process_feed(data=data, workspace=workspace, feed=first)
    with pytest.raises(SourceError, match=r"gone\.jsonl: the change feed does not exist"):
        events.process_feed(data=data, workspace=workspace, feed=tmp_path / "gone.jsonl")
    _write_feed(first, [_published(feed_lines)[1], _published(feed_lines)[0]])  # replaced
    with pytest.raises(EventError, match=r"lines 1-2 are not the lines .* replaced or edited"):
        events.process_feed(data=data, workspace=workspace, feed=first)
    assert layout.cursor.read_text() == cursor
    assert len(_outcomes(layout)) == 2
    # The same feed at another path (a moved data folder) is recognised by what was handled.
    _write_feed(first, _published(feed_lines)[:2])
    moved = _write_feed(tmp_path / "moved.jsonl", _published(feed_lines)[:3])
    result = events.process_feed(data=data, workspace=workspace, feed=moved)
    assert [o.line_no for o in result.outcomes] == [3]
    assert json.loads(layout.cursor.read_text())["feed"] == str(moved)


def test_a_failing_event_can_be_skipped_by_a_person(data, feed_lines, tmp_path, capsys) -> None:
    from digestkit.exceptions import EventError

    good = _published(feed_lines)[0]
    bad = {**_published(feed_lines)[1], "event_id": "EVT-900004", "content_sha256": "0" * 64}
    feed = _write_feed(tmp_path / "feed.jsonl", [bad, good])
    workspace = tmp_path / "ws"
    first = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [o.status for o in first.outcomes] == ["failed", "processed"] and first.cursor == 1
    args = {"data": data, "workspace": workspace, "feed": feed}
    with pytest.raises(WorkspaceError, match="--by must be a user id"):
        events.skip_event("EVT-900004", by="Dana Ross", reason="x", **args)
    with pytest.raises(ScopeError, match="refusing the --reason: it contains an e-mail"):
        events.skip_event("EVT-900004", by="u-lead", reason="ask d@x.example", **args)
    argv = ["skip-event", "EVT-900004", "--by", "u-lead", "--reason", "Content never matches."]
    assert (
        main([*argv, "--data", str(data), "--workspace", str(workspace), "--feed", str(feed)]) == 0
    )
    layout = ws.open_workspace(workspace, create=False)
    record = _outcomes(layout)[-1]
    assert (record["status"], record["reason"]) == (
        "skipped",
        "skipped by u-lead: Content never matches.",
    )
    assert read_jsonl(layout.audit_log)[-1]["action"] == "event.skipped"
    assert verify_audit(layout) == []
    again = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert again.outcomes == [] and again.cursor == 3
    with pytest.raises(EventError, match="already handled"):
        events.skip_event("EVT-900004", by="u-lead", reason="again", **args)


def test_a_half_written_last_line_waits_for_the_next_pass(data, feed_lines, tmp_path) -> None:
    first, second = (json.dumps(e) for e in _published(feed_lines)[:2])
    feed = tmp_path / "feed.jsonl"
    feed.write_text(first + "\n" + second[:40])  # the writer is mid-line
    workspace = tmp_path / "ws"
    result = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [(o.line_no, o.status) for o in result.outcomes] == [(1, "processed")]
    assert result.cursor == 2
    layout = ws.open_workspace(workspace, create=False)
    assert not layout.quarantine.exists()
    feed.write_text(first + "\n" + second + "\n")  # finished
    result = events.process_feed(data=data, workspace=workspace, feed=feed)
    assert [(o.line_no, o.status) for o in result.outcomes] == [(2, "processed")]


def test_audit_verify_checks_each_digest_folder_against_the_log(full_run, tmp_path, capsys):
    _, layout = full_run
    copy = ws.open_workspace(shutil.copytree(layout.root, tmp_path / "copy"), create=False)
    assert verify_audit(copy) == []
    first, second, third, fourth, *_ = [e.digest_id for e in list_digests(copy)]
    from digestkit import review as rv

    fifth = list_digests(copy)[4].digest_id
    rv.add_review(copy.root, fifth, claim_id="CHG-01", verdict="accepted", reviewer="u-lead")
    assert verify_audit(copy) == []  # a recorded review is logged with the file's hash
    reviews = copy.digest_dir(fifth) / "reviews.jsonl"
    reviews.write_text(reviews.read_text().replace('"accepted"', '"rejected"'))
    page = copy.digest_dir(fourth) / "digest.html"
    page.write_text(page.read_text().replace("premium", "PREMIUM", 1))
    audit = json.loads((copy.digest_dir(first) / "audit.json").read_text())
    audit["transitions"][-1]["by"] = "mallory"
    (copy.digest_dir(first) / "audit.json").write_text(json.dumps(audit))
    digest = json.loads((copy.digest_dir(second) / "digest.json").read_text())
    digest["flags"] = []
    (copy.digest_dir(second) / "digest.json").write_text(json.dumps(digest))
    shutil.rmtree(copy.digest_dir(third))
    (copy.digests / "stray@r1").mkdir()
    problems = {p.path: p.message for p in verify_audit(copy)}
    assert set(problems) == {
        f"digests/{first}/audit.json",
        f"digests/{second}/digest.json",
        f"digests/{third}",
        f"digests/{fourth}/digest.html",
        f"digests/{fifth}/reviews.jsonl",
        "digests/stray@r1",
    }
    changed = "was changed after audit.log seq "
    assert problems[f"digests/{first}/audit.json"].startswith(changed)
    assert problems[f"digests/{second}/digest.json"].startswith(changed)
    assert problems[f"digests/{third}"] == "was deleted (audit.log records it)"
    assert problems["digests/stray@r1"] == "has no entry in audit.log"
    assert main(["audit", "verify", "--workspace", str(copy.root)]) == 1
    err = capsys.readouterr().err
    assert f"{copy.root / 'digests' / first / 'audit.json'}: was changed after" in err


def test_a_moved_workspace_re_renders_from_where_it_is_now(full_run, tmp_path) -> None:
    _, layout = full_run
    moved = ws.open_workspace(shutil.copytree(layout.root, tmp_path / "restored"), create=False)
    digest_id = list_digests(moved)[-1].digest_id
    before = (layout.digest_dir(digest_id) / "digest.html").read_text()
    ws.clarify(moved, digest_id, author="u-lead", text="Checked against the registry today.")
    assert (
        "Checked against the registry today."
        in (moved.digest_dir(digest_id) / "digest.html").read_text()
    )
    assert (layout.digest_dir(digest_id) / "digest.html").read_text() == before
    assert verify_audit(moved) == []


def test_a_clarification_outside_the_digest_scope_is_refused_and_not_written(full_run) -> None:
    _, layout = full_run
    digest_id = list_digests(layout)[-1].digest_id
    before = ws.load_audit(layout, digest_id)
    log = layout.audit_log.read_text()
    with pytest.raises(ScopeError, match="refusing the clarification: concession"):
        ws.clarify(layout, digest_id, author="u-dm", text="Offer them a 20% service credit.")
    assert ws.load_audit(layout, digest_id) == before
    assert layout.audit_log.read_text() == log


# --- the kept kernel of `watch` and `run` ---------------------------------------------------------


def _probe_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("label = None", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_a_kernel_that_dies_is_a_notebook_error_and_a_kept_kernel_is_replaced(tmp_path):
    dying = _probe_notebook(tmp_path / "dying.ipynb", "import os\nos._exit(1)")
    with pytest.raises(NotebookError, match="the kernel died"):
        render.execute_notebook(tmp_path / "a.ipynb", parameters={}, notebook=dying, cwd=tmp_path)
    with WarmKernel() as kernel:
        with pytest.raises(NotebookError, match="the kernel died"):
            render.execute_notebook(
                tmp_path / "b.ipynb", parameters={}, notebook=dying, cwd=tmp_path, kernel=kernel
            )
        assert kernel.km is None


@pytest.mark.parametrize("first", ["digestkit.kernel", "digestkit.render", "papermill"])
def test_papermill_finds_the_warm_kernel_engine_whatever_is_imported_first(first: str) -> None:
    # papermill loads its engine entry points while it is being imported: the engine must
    # resolve even when a digestkit module is what starts papermill's import.
    code = (
        f"import {first}\n"
        "from papermill.engines import papermill_engines\n"
        "from digestkit.kernel import ENGINE_NAME\n"
        "print(papermill_engines.get_engine(ENGINE_NAME).__qualname__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "WarmKernelEngine"


def test_a_warm_kernel_is_reused_with_an_empty_namespace_in_each_notebooks_folder(tmp_path):
    probe = _probe_notebook(
        tmp_path / "probe.ipynb",
        "import os, sys\n"
        "print(os.getpid(), os.getcwd(), label, 'leftover' in globals(),"
        " 'digestkit.render' in sys.modules)\n"
        "leftover = label",
    )
    failing = _probe_notebook(tmp_path / "fail.ipynb", "raise RuntimeError('planted')")
    runs = []
    with WarmKernel() as kernel:
        for n in range(3):
            folder = tmp_path / f"d{n}"
            folder.mkdir()
            out = render.execute_notebook(
                folder / "out.ipynb",
                parameters={"label": f"n{n}"},
                notebook=probe,
                cwd=folder,
                kernel=kernel,
            )
            runs.append(_printed(out).split())
        assert kernel.starts == 1 and kernel.runs == 3
        with pytest.raises(NotebookError, match=r"cell 1 failed \(RuntimeError: planted"):
            render.execute_notebook(
                tmp_path / "f.ipynb", parameters={}, notebook=failing, cwd=tmp_path, kernel=kernel
            )
        assert kernel.km is None  # a kernel that failed a run is not reused
        folder = tmp_path / "d0"
        after = render.execute_notebook(
            folder / "again.ipynb",
            parameters={"label": "x"},
            notebook=probe,
            cwd=folder,
            kernel=kernel,
        )
        assert kernel.starts == 2
    assert kernel.km is None  # closed with the block
    pids = {pid for pid, *_ in runs}
    assert len(pids) == 1
    # The kernel imported what the digest notebook needs (kernel.PRELOAD) as it started, and
    # that left no name behind either.
    assert [tuple(run[1:]) for run in runs] == [
        (str(tmp_path / f"d{n}"), f"n{n}", "False", "True") for n in range(3)
    ]
    assert _printed(after).split()[0] not in pids
    assert _printed(after).split()[3:] == ["False", "True"]


class _ScriptedClient:
    """A kernel client whose shell and IOPub answers come from a script, in order."""

    def __init__(self, shell: list[object], iopub: list[object]) -> None:
        self.shell, self.iopub, self.sent = shell, iopub, []

    def kernel_info(self) -> str:
        self.sent.append(f"m{len(self.sent)}")
        return self.sent[-1]

    async def get_shell_msg(self, timeout: float) -> dict:
        return self._next(self.shell)

    async def get_iopub_msg(self, timeout: float) -> dict:
        return self._next(self.iopub)

    @staticmethod
    def _next(script: list[object]) -> dict:
        from queue import Empty

        item = script.pop(0)
        if item is Empty:
            raise Empty
        return {"parent_header": {"msg_id": item}}


class _LiveManager:
    async def is_alive(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("shell", "iopub", "requests"),
    [
        # A slow reply (the shell wait runs out once) is still the first request's.
        (["Empty", "m0"], ["m0"], 1),
        # IOPub was not connected for the first request: it asks again and takes that one.
        (["m0", "m1"], ["Empty", "m1"], 2),
        # Someone else's messages on IOPub are skipped.
        (["m0"], [None, "m0"], 1),
    ],
)
def test_a_warm_kernel_waits_for_its_own_kernel_info_answer(shell, iopub, requests) -> None:
    import asyncio
    from queue import Empty

    def script(items: list[str | None]) -> list[object]:
        return [Empty if item == "Empty" else item for item in items]

    kernel = WarmKernel()
    kernel.km = _LiveManager()
    client = _ScriptedClient(script(shell), script(iopub))
    asyncio.run(kernel._wait_ready(client))
    assert len(client.sent) == requests
    assert client.shell == [] and client.iopub == []


def test_run_on_a_warm_kernel_posts_the_same_digest_pages(data, feed_lines, tmp_path) -> None:
    feed = _write_feed(tmp_path / "feed.jsonl", _published(feed_lines)[:3])
    cold = events.process_feed(data=data, workspace=tmp_path / "cold", feed=feed)
    with WarmKernel() as kernel:
        warm = events.process_feed(data=data, workspace=tmp_path / "warm", feed=feed, kernel=kernel)
        assert kernel.starts == 1 and kernel.runs == 3
    assert (
        [o.status for o in warm.outcomes] == [o.status for o in cold.outcomes] == ["processed"] * 3
    )
    for o in warm.outcomes:
        pages = [
            # papermill gives its injected-parameters cell a random id on every run
            re.sub(r"cell-id=[0-9a-f-]+", "", path.read_text())
            for side in ("cold", "warm")
            for path in [tmp_path / side / "digests" / o.digest_id / "digest.html"]
        ]
        assert pages[0] == pages[1]


def test_history_reads_a_posted_digest_only_when_it_is_the_one_building_it_would_give(
    full_run, data, tmp_path, monkeypatch
) -> None:
    from digestkit.brief import history

    _, layout = full_run
    posted = {e.digest_id for e in list_digests(layout)}
    entry = next(
        e
        for e in list_digests(layout)
        if e.baseline is not None and f"{e.runbook_id}@{e.baseline}" in posted
    )
    rebuilt = history.earlier_digests(entry.runbook_id, entry.baseline, data=data)
    built, build = [], history._digest_of
    monkeypatch.setattr(history, "_digest_of", lambda *key: built.append(key[1]) or build(*key))

    read = history.earlier_digests(
        entry.runbook_id, entry.baseline, data=data, workspace=layout.root
    )
    assert read == json.loads(json.dumps(rebuilt))  # the same digests, as their JSON
    assert entry.baseline not in built  # read from the workspace, not built again

    # An edited digest, or one of another data folder, is built again instead.
    edited = shutil.copytree(layout.root, tmp_path / "edited")
    path = edited / "digests" / f"{entry.runbook_id}@{entry.baseline}" / "digest.json"
    path.write_bytes(path.read_bytes() + b"\n")  # still valid JSON, no longer what was hashed
    other = shutil.copytree(data, tmp_path / "other")
    for workspace, world in [(edited, data), (layout.root, other)]:
        built.clear()
        again = history.earlier_digests(
            entry.runbook_id, entry.baseline, data=world, workspace=workspace
        )
        assert entry.baseline in built
        assert json.loads(json.dumps(again)) == json.loads(json.dumps(rebuilt))


def test_each_digest_of_a_pass_is_built_once_the_next_while_a_notebook_runs(
    data, feed_lines, tmp_path, monkeypatch
) -> None:
    import threading

    published = _published(feed_lines)[:3]
    feed = _write_feed(tmp_path / "feed.jsonl", [published[0], {"broken": True}, *published[1:]])
    built, build = [], events._build
    monkeypatch.setattr(
        events,
        "_build",
        lambda src, event: (
            built.append((event["event_id"], threading.current_thread().name)) or build(src, event)
        ),
    )
    result = events.process_feed(data=data, workspace=tmp_path / "ws", feed=feed)
    assert [o.status for o in result.outcomes] == ["processed", "quarantined", *["processed"] * 2]
    # The first in the runner's thread; each later one once, in the background, while the
    # notebook before it ran (the malformed line between them changes nothing).
    assert [e for e, _ in built] == [e["event_id"] for e in published]
    assert [t.startswith("digestkit-ahead") for _, t in built] == [False, True, True]
    layout = ws.open_workspace(tmp_path / "ws")
    for event in published:
        digest_id = f"{event['runbook_id']}@{event['revision']}"
        posted = ws.load_digest(layout, digest_id)
        assert posted == json.loads(json.dumps(build(src_mod.open_sources(data), event).digest))


@pytest.mark.parametrize("moved", [False, True])
def test_a_digest_built_ahead_is_used_only_if_built_from_the_sources_read_now(
    data, feed_lines, tmp_path, moved
) -> None:
    from dataclasses import replace

    from digestkit.ahead import Ahead

    event = _published(feed_lines)[0]
    sources = src_mod.open_sources(data)
    named, digest, _ = events._build(sources, event)
    if moved:  # as if the repository moved on after the digest was built ahead
        named = replace(named, runbooks_commit="0" * 40)
    ahead_of_time = {**digest, "changed_steps": []}  # told apart from the one built now
    layout = ws.open_workspace(tmp_path / "ws")
    with Ahead(lambda: events._Built(named, ahead_of_time, canonical_json(ahead_of_time))) as ahead:
        ahead.start(events._digest_key(event))
        digest_id = events.build_event_digest(layout, event, sources=sources, ahead=ahead)
        assert ahead.used == 1
    posted = ws.load_digest(layout, digest_id)
    assert posted == json.loads(json.dumps(digest if moved else ahead_of_time))


def test_the_executable_leaves_the_heap_to_the_os_when_it_ends() -> None:
    # The interpreter's last garbage collection walked a burst's whole heap (0.6 s) for nothing:
    # what is left when the command returns is frozen, so that collection skips it.
    code = (
        "import gc, sys\n"
        "from digestkit.cli import console_main\n"
        "sys.argv = ['digestkit', 'path', 'sample-data']\n"
        "code = console_main()\n"
        "print(code, gc.get_freeze_count() > 1000)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 True"
