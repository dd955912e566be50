"""Every state change survives a kill at any step: the next command completes or undoes it.

Each state change passes named failure points (``digestkit.fileio.failpoint``). For each point of
each change a child process runs the command and stops there with ``os._exit(137)`` (what
``kill -9`` leaves: no ``finally``, no flush); then the next command (``audit verify``) must find
the change either complete or absent, never duplicated, and the chain intact, and running the
command again must make it exactly once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _crash_child
import pytest
from conftest import OTHER, RUNBOOK, tiny_world

from digestkit import events, review
from digestkit import workspace as ws
from digestkit.audit import verify_audit
from digestkit.cli import main
from digestkit.fileio import FAILPOINT_ENV, FAILPOINT_TRACE_ENV, KILLED, read_jsonl

CHILD = Path(_crash_child.__file__)
DIGEST = f"{RUNBOOK}@r1"  # shared, clarified and reviewed
WITHDRAWN = f"{OTHER}@r1"  # withdrawn by feed line 4
NEW = f"{RUNBOOK}@r2"  # posted by feed line 3
FILES = {"digest.ipynb", "digest.html", "digest.json", "audit.json"}
SHARED = 'class="dk-state dk-state-shared"'  # the badge, not the stylesheet rule

RERENDER = (
    "prepared",
    "wrote:audit.json",
    "rendered",
    "committed",
    "moved:digest.ipynb",
    "moved:digest.html",
)
LOGGED = ("logging", "logged", "head")
EVENTS = ("appending:events.jsonl", "appended:events.jsonl")
#: The failure points of each state change, in the order the change passes them.
STEPS: dict[str, tuple[str, ...]] = {
    "digest.created": ("built", "committed", f"moved:{NEW}", *EVENTS, *LOGGED, "closed"),
    "digest.withdrawn": (*RERENDER, *EVENTS, *LOGGED, "closed"),
    "digest.shared": (*RERENDER, *LOGGED, "indexed", "closed"),
    "digest.clarified": (*RERENDER, *LOGGED, "indexed", "closed"),
    "review.recorded": (
        "committed",
        "appending:reviews.jsonl",
        "appended:reviews.jsonl",
        *LOGGED,
        "closed",
    ),
    "event.skipped": ("committed", *EVENTS, *LOGGED, "closed"),
    "event.quarantined": (
        "committed",
        "appending:quarantine.jsonl",
        "appended:quarantine.jsonl",
        *EVENTS,
        "closed",
    ),
}
#: Steps before the change is committed: a kill there is undone, later ones are completed.
BEFORE_COMMIT = {"built", "prepared", "wrote:audit.json", "rendered"}
CASES = [(action, step) for action, steps in STEPS.items() for step in steps]


@dataclass(frozen=True)
class Base:
    world: Path
    workspace: Path


def _command(action: str, workspace: Path, world: Path) -> list[str]:
    w, d = ["--workspace", str(workspace)], ["--data", str(world)]
    return {
        "digest.created": ["run-event", "EVT-000004", *d, *w],
        "digest.withdrawn": ["run-event", "EVT-000006", *d, *w],
        "event.quarantined": ["run", "--fresh-kernel", *d, *w],
        "event.skipped": [
            *("skip-event", "EVT-000007", "--by", "u-lead"),
            *("--reason", "Revision r3 is still a draft.", *d, *w),
        ],
        "digest.shared": ["share", DIGEST, "--by", "u-lead", *w],
        "digest.clarified": [
            *("clarify", DIGEST, "--author", "u-lead", "--text", "Bridge owner confirmed.", *w)
        ],
        "review.recorded": [
            *("review", DIGEST, "--claim", "FLG-01", "--verdict", "accepted"),
            *("--reviewer", "u-rev", *w),
        ],
    }[action]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    """Two posted digests (pages from the stand-in renderer) and four feed lines still to come:
    a publication (line 3), the withdrawal of a digested revision (4), a malformed line (5)
    and the publication of a revision the repository has as a draft (6)."""
    root = tmp_path_factory.mktemp("crash")
    world = tiny_world.__wrapped__(root)
    feed = world / "feed" / "events.jsonl"
    lines = feed.read_text().splitlines()
    feed.write_text(f"{lines[0]}\n{lines[1]}\n")
    workspace = root / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ws, "render_folder", _crash_child.render_folder)
        first = events.process_feed(data=world, workspace=workspace)
    assert [o.status for o in first.outcomes] == ["processed", "processed"]
    revision = world / "runbooks" / OTHER / "r1.md"
    revision.write_text(revision.read_text().replace("status: published", "status: withdrawn"))
    draft = (world / "runbooks" / RUNBOOK / "r3.md").read_bytes()
    withdrawal = {
        **json.loads(lines[1]),
        "event_id": "EVT-000006",
        "type": events.WITHDRAWN,
        "actor": "u-lead",
        "content_sha256": hashlib.sha256(revision.read_bytes()).hexdigest(),
    }
    premature = {
        **json.loads(lines[4]),
        "event_id": "EVT-000007",
        "type": events.PUBLISHED,
        "content_sha256": hashlib.sha256(draft).hexdigest(),
    }
    with feed.open("a") as fh:
        fh.write(f"{lines[3]}\n{json.dumps(withdrawal)}\n{{not json\n{json.dumps(premature)}\n")
    return Base(world, workspace)


def _entries(layout: ws.Layout, action: str, **match: str) -> list[dict]:
    return [
        e
        for e in read_jsonl(layout.audit_log)
        if e["action"] == action and all(e.get(k) == v for k, v in match.items())
    ]


def _outcomes(layout: ws.Layout, line_no: int, status: str) -> list[dict]:
    records = read_jsonl(layout.events)
    return [r for r in records if (r["line_no"], r["status"]) == (line_no, status)]


def _page_state(layout: ws.Layout, digest_id: str) -> ws.AuditRecord:
    """The audit.json of the digest, checked to be what its page (and notebook) show."""
    audit = ws.load_audit(layout, digest_id)
    shown = f"state={audit['state']} notes={len(audit['clarifications'])}"
    assert shown in (layout.digest_dir(digest_id) / "digest.html").read_text()
    assert json.loads((layout.digest_dir(digest_id) / "digest.ipynb").read_text()) == {
        "state": audit["state"],
        "notes": len(audit["clarifications"]),
    }
    return audit


def _created(layout: ws.Layout) -> int:
    folder = layout.digest_dir(NEW)
    done = int(folder.exists())
    if done:
        assert {p.name for p in folder.iterdir()} == FILES
        _page_state(layout, NEW)
    assert len(_entries(layout, "digest.created", digest_id=NEW)) == done
    assert len(_outcomes(layout, 3, "processed")) == done
    return done


def _withdrawn(layout: ws.Layout) -> int:
    done = int(_page_state(layout, WITHDRAWN)["state"] == "withdrawn")
    assert len(_entries(layout, "digest.withdrawn", digest_id=WITHDRAWN)) == done
    assert len(_outcomes(layout, 4, "processed")) == done
    return done


def _shared(layout: ws.Layout) -> int:
    done = int(_page_state(layout, DIGEST)["state"] == "shared")
    assert len(_entries(layout, "digest.shared", digest_id=DIGEST)) == done
    assert ('"dk-state dk-state-shared"' in layout.index.read_text()) == bool(done)
    return done


def _clarified(layout: ws.Layout) -> int:
    done = len(_page_state(layout, DIGEST)["clarifications"])
    assert len(_entries(layout, "digest.clarified", digest_id=DIGEST)) == done
    return done


def _reviewed(layout: ws.Layout) -> int:
    done = len(read_jsonl(review.reviews_path(layout, DIGEST)))
    assert len(_entries(layout, "review.recorded", digest_id=DIGEST)) == done
    return done


def _skipped(layout: ws.Layout) -> int:
    done = len(_outcomes(layout, 6, "skipped"))
    assert len(_entries(layout, "event.skipped", event_id="EVT-000007")) == done
    return done


def _quarantined(layout: ws.Layout) -> int:
    done = len([q for q in read_jsonl(layout.quarantine) if q["line_no"] == 5])
    assert len(_outcomes(layout, 5, "quarantined")) == done
    return done


#: How many times each change is in the workspace, after checking its parts agree.
MADE: dict[str, Callable[[ws.Layout], int]] = {
    "digest.created": _created,
    "digest.withdrawn": _withdrawn,
    "digest.shared": _shared,
    "digest.clarified": _clarified,
    "review.recorded": _reviewed,
    "event.skipped": _skipped,
    "event.quarantined": _quarantined,
}


def _intact(layout: ws.Layout, capsys: pytest.CaptureFixture[str]) -> None:
    """The next command (audit verify) recovers, then finds the trail intact."""
    code = main(["audit", "verify", "--workspace", str(layout.root)])
    assert code == 0, capsys.readouterr().err
    assert not (layout.root / "state" / "intent.json").exists()
    assert list(layout.tmp.iterdir()) == []


@pytest.mark.parametrize(("action", "step"), CASES, ids=[f"{a}.{s}" for a, s in CASES])
def test_a_kill_at_any_step_is_completed_or_undone_by_the_next_command(
    base: Base,
    tmp_path: Path,
    action: str,
    step: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    workspace = shutil.copytree(base.workspace, tmp_path / "ws")
    layout = ws.open_workspace(workspace, create=False)
    argv = _command(action, workspace, base.world)
    killed = subprocess.run(
        [sys.executable, str(CHILD), *argv],
        env={**os.environ, FAILPOINT_ENV: f"{action}.{step}"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == KILLED, killed.stderr  # it reached the failure point

    with caplog.at_level(logging.WARNING, logger="digestkit.journal"):
        _intact(layout, capsys)
    expected = 0 if step in BEFORE_COMMIT else 1
    assert MADE[action](layout) == expected
    recovered = caplog.text
    if step in BEFORE_COMMIT:
        assert "removed tmp/" in recovered or f"undid the interrupted change {action}" in recovered
    elif step == "closed":  # made; only its build folder, if it had one, was left
        assert "interrupted change" not in recovered
    else:
        assert f"completed the interrupted change {action}" in recovered

    # Running the command again makes the change exactly once.
    monkeypatch.setattr(ws, "render_folder", _crash_child.render_folder)
    if expected == 0:
        assert main(argv) == (1 if action == "event.quarantined" else 0)  # line 6 fails
    assert MADE[action](layout) == 1
    _intact(layout, capsys)


def test_the_table_names_every_failure_point_each_change_passes(
    base: Base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = shutil.copytree(base.workspace, tmp_path / "ws")
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(FAILPOINT_TRACE_ENV, str(trace))
    monkeypatch.setattr(ws, "render_folder", _crash_child.render_folder)
    for action in STEPS:
        main(_command(action, workspace, base.world))
    passed: dict[str, list[str]] = defaultdict(list)
    for name in trace.read_text().splitlines():
        kind, change, step = name.split(".", 2)
        passed[f"{kind}.{change}"].append(step)
    # The run of the quarantine case also posts line 3 and withdraws line 4 again: skipped
    # there as handled, so each change passes its points once, in the table's order.
    assert {a: tuple(s) for a, s in passed.items()} == STEPS
    _intact(ws.open_workspace(workspace, create=False), capsys)


def test_files_a_killed_writer_left_half_written_are_removed_and_reported(
    base: Base, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    workspace = shutil.copytree(base.workspace, tmp_path / "ws")
    layout = ws.open_workspace(workspace, create=False)
    left = [
        layout.digest_dir(DIGEST) / ".audit.json.k1ll3d.partial",
        layout.root / "state" / ".cursor.json.k1ll3d.partial",
        layout.root / ".index.html.k1ll3d.partial",
        layout.tmp / f"{NEW}.k1ll3d",
    ]
    for path in left[:3]:
        path.write_text("{half")
    (left[3] / "digest.json").parent.mkdir()
    (left[3] / "digest.json").write_text("{}")
    with caplog.at_level(logging.WARNING, logger="digestkit.journal"):
        _intact(layout, capsys)
    assert not any(path.exists() for path in left)
    for path in left:
        assert f"removed {path.relative_to(layout.root).as_posix()}, left by a killed run" in (
            caplog.text
        )


def test_a_journal_naming_a_path_outside_the_workspace_is_refused(
    base: Base, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = shutil.copytree(base.workspace, tmp_path / "ws")
    outside = tmp_path / "outside.json"
    outside.write_text('{"kept": true}\n')
    intent = {"action": "digest.shared", "phase": "prepare", "restore": {"../outside.json": {}}}
    (workspace / "state" / "intent.json").write_text(json.dumps(intent))
    assert main(["audit", "verify", "--workspace", str(workspace)]) == 2
    assert "outside the workspace" in capsys.readouterr().err
    assert outside.read_text() == '{"kept": true}\n'


@pytest.mark.parametrize("action", [a for a in STEPS if a != "event.quarantined"])
def test_a_deleted_last_entry_with_a_head_copied_from_the_one_before_is_found(
    base: Base, tmp_path: Path, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = shutil.copytree(base.workspace, tmp_path / "ws")
    monkeypatch.setattr(ws, "render_folder", _crash_child.render_folder)
    assert main(_command(action, workspace, base.world)) == 0
    layout = ws.open_workspace(workspace, create=False)
    lines = layout.audit_log.read_text().splitlines()
    assert json.loads(lines[-1])["action"] == action
    previous = json.loads(lines[-2])
    layout.audit_log.write_text("\n".join(lines[:-1]) + "\n")
    layout.audit_head.write_text(json.dumps({"seq": previous["seq"], "hash": previous["hash"]}))
    # What the deleted entry recorded is still there: the folder's files or the outcome.
    assert verify_audit(layout) != []


def test_a_kill_with_the_real_notebook_is_recovered_and_the_page_shows_the_state(
    tiny_world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    feed = tiny_world / "feed" / "events.jsonl"
    feed.write_text(feed.read_text().splitlines()[0] + "\n")
    posted = events.process_feed(data=tiny_world, workspace=workspace)
    assert [o.status for o in posted.outcomes] == ["processed"]
    layout = ws.open_workspace(workspace, create=False)
    page, w = layout.digest_dir(DIGEST) / "digest.html", str(workspace)
    # Killed after the new audit.json and page were made, before the page was moved into place.
    killed = subprocess.run(
        [sys.executable, "-m", "digestkit", "share", DIGEST, "--by", "u-lead", "--workspace", w],
        env={**os.environ, FAILPOINT_ENV: "digest.shared.moved:digest.ipynb"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == KILLED, killed.stderr
    assert ws.load_audit(layout, DIGEST)["state"] == "shared"
    assert SHARED not in page.read_text()  # the old page is still in place
    _intact(layout, capsys)
    assert SHARED in page.read_text()
    assert SHARED in layout.index.read_text()
