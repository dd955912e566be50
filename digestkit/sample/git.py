"""A folder of runbook revisions written as a git repository kept the way teams keep one.

Each revision file keeps its folder path (``<runbook_id>/<revision>.md``); a README sits at the
root. A published revision is first committed as a draft and published by a later commit (tagged
``<runbook_id>/<revision>``); a withdrawn one is published, then withdrawn by a third commit; a
draft is committed once. The repository is written in one ``git fast-import`` stream with fixed
identities and times, so the same folder always gives the same commit ids.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digestkit.clock import as_utc, parse_utc
from digestkit.exceptions import DigestkitError
from digestkit.frontmatter import FrontMatterError, natural_key, parse_front_matter
from digestkit.sources.feed import iter_feed

__all__ = ["write_git_repository"]

#: Where a revision with no dated neighbour is dated from.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
#: How long before its publication a revision is committed as a draft (at most).
DRAFT_LEAD = timedelta(days=1)

README = b"""# Runbooks

One file per revision: `<runbook_id>/<revision>.md`, starting with YAML front matter
(runbook_id, revision, title, status, supersedes, approved_by, published_at, change_reason).

A revision is committed as a draft, published by a later commit that sets its status,
approver and publication time, and withdrawn by a commit that sets its status to withdrawn.
Publications are tagged `<runbook_id>/<revision>`.
"""

# Front matter lines a draft holds instead of its published values.
_DRAFT_LINES = (
    (re.compile(r"status:.*"), "status: draft"),
    (re.compile(r"approved_by:.*"), "approved_by: null"),
    (re.compile(r"published_at:.*"), "published_at: null"),
)


@dataclass(frozen=True)
class _Commit:
    """One commit to write: when, by whom, why, and the file it writes."""

    at: datetime
    order: int  # ties on ``at`` keep the plan's order
    who: str
    message: str
    path: str
    data: bytes
    tag: str | None = None


def _front_matter(path: Path, text: str) -> dict[str, Any]:
    try:
        front = parse_front_matter(text.splitlines())
    except FrontMatterError as exc:
        raise DigestkitError(f"{path}: {exc}") from exc
    if front is None:
        raise DigestkitError(f"{path}: no YAML front matter; the file must start with '---'")
    return front.data


def _published_at(meta: dict[str, Any]) -> datetime | None:
    value = meta.get("published_at")
    if not value:
        return None
    return as_utc(value) if isinstance(value, datetime) else parse_utc(str(value))


def _with_status(text: str, status: str) -> bytes:
    """``text`` with its front matter rewritten as a draft, or with another status."""
    lines = text.split("\n")
    end = lines.index("---", 1)
    for i in range(1, end):
        if status == "draft":
            for pattern, replacement in _DRAFT_LINES:
                if pattern.fullmatch(lines[i]):
                    lines[i] = replacement
        elif lines[i].startswith("status:"):
            lines[i] = f"status: {status}"
    return "\n".join(lines).encode("utf-8")


def _feed_events(feed: Path | None) -> dict[tuple[str, str, str], tuple[datetime, str]]:
    """(runbook_id, revision, event type) -> (when, who), from the feed's valid lines."""
    out: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    if feed is None:
        return out
    for line in iter_feed(feed):
        if line.event is not None:
            e = line.event
            key = (e["runbook_id"], e["revision"], e["type"])
            out.setdefault(key, (parse_utc(e["occurred_at"]), e["actor"]))
    return out


def _plan(
    runbook: str,
    files: list[Path],
    events: dict[tuple[str, str, str], tuple[datetime, str]],
) -> list[_Commit]:
    """The commits of one runbook's revisions, oldest revision first."""
    metas = []
    for path in files:
        text = path.read_text("utf-8")
        metas.append((path, text, _front_matter(path, text)))
    times = [_published_at(meta) for _, _, meta in metas]
    commits: list[_Commit] = []
    previous = EPOCH
    for i, (path, text, meta) in enumerate(metas):
        revision, status = path.stem, str(meta["status"])
        name = f"{runbook}/{revision}.md"
        approver = str(meta.get("approved_by") or "u-unknown")
        draft_event = events.get((runbook, revision, "runbook.draft_saved"))
        published = times[i]
        if published is None:  # a draft: dated by its event, else between its neighbours
            after = next((t for t in times[i + 1 :] if t), previous + 2 * DRAFT_LEAD)
            at, who = draft_event or (previous + (after - previous) / 2, "u-unknown")
            commits.append(
                _Commit(at, 0, who, f"{runbook} {revision}: draft", name, path.read_bytes())
            )
            previous = at
            continue
        drafted, drafter = draft_event or (
            published - min(DRAFT_LEAD, (published - previous) / 2),
            approver,
        )
        commits += [
            _Commit(
                drafted,
                0,
                drafter,
                f"{runbook} {revision}: draft",
                name,
                _with_status(text, "draft"),
            ),
            _Commit(
                published,
                1,
                approver,
                f"{runbook} {revision}: publish ({meta.get('change_reason')})",
                name,
                _with_status(text, "published") if status == "withdrawn" else path.read_bytes(),
                tag=f"{runbook}/{revision}",
            ),
        ]
        previous = published
        if status == "withdrawn":
            withdrawal = events.get((runbook, revision, "runbook.withdrawn"))
            at, who = withdrawal or (published + DRAFT_LEAD / 2, approver)
            commits.append(
                _Commit(at, 2, who, f"{runbook} {revision}: withdraw", name, path.read_bytes())
            )
            previous = at
    return commits


def _fast_import_stream(commits: list[_Commit]) -> bytes:
    """The ``git fast-import`` stream writing ``commits`` on main, then their tags."""
    out: list[bytes] = []

    def data(payload: bytes) -> None:
        out.append(b"data %d\n" % len(payload) + payload + b"\n")

    for mark, commit in enumerate(commits, start=1):
        stamp = f"{int(commit.at.timestamp())} +0000"
        ident = f"{commit.who} <{commit.who}@example.invalid> {stamp}"
        out.append(f"commit refs/heads/main\nmark :{mark}\n".encode())
        out.append(f"author {ident}\ncommitter {ident}\n".encode())
        data(commit.message.encode("utf-8"))
        if mark > 1:
            out.append(f"from :{mark - 1}\n".encode())
        out.append(f"M 100644 inline {commit.path}\n".encode())
        data(commit.data)
    for mark, commit in enumerate(commits, start=1):
        if commit.tag:
            out.append(f"reset refs/tags/{commit.tag}\nfrom :{mark}\n\n".encode())
    return b"".join(out)


def write_git_repository(
    runbooks_dir: str | Path, dest: str | Path, *, feed: str | Path | None = None
) -> Path:
    """Write a folder repository (runbooks/<runbook_id>/<revision>.md) as a git repository.

    Every revision keeps its path. A published revision is committed as a draft (a day before
    its publication at most), then published by a commit at its publication time by its approver;
    a withdrawn revision is withdrawn by a later commit; a draft is committed once. With ``feed``
    (the world's events.jsonl), drafts and withdrawals are dated and signed as its events say.
    A README at the root is committed first.
    """
    src, dest = Path(runbooks_dir), Path(dest)
    revisions = sorted(src.glob("*/*.md"))
    if not revisions:
        raise DigestkitError(f"{src}: no <runbook_id>/<revision>.md files to commit")
    if dest.exists() and any(dest.iterdir()):
        raise DigestkitError(f"{dest} is not empty; choose a new directory for the git repository")
    events = _feed_events(Path(feed) if feed is not None else None)
    commits: list[_Commit] = []
    for runbook in sorted({p.parent.name for p in revisions}):
        files = sorted(
            (p for p in revisions if p.parent.name == runbook), key=lambda p: natural_key(p.stem)
        )
        commits += _plan(runbook, files, events)
    commits.sort(key=lambda c: (c.at, c.order))
    first = commits[0].at - DRAFT_LEAD
    commits.insert(0, _Commit(first, 0, "u-unknown", "Add the README", "README.md", README))
    dest.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(dest),
        "TZ": "UTC",
    }

    def git(*args: str, stdin: bytes | None = None) -> None:
        proc = subprocess.run(
            ["git", "-C", str(dest), *args], env=env, input=stdin, capture_output=True, check=False
        )
        if proc.returncode:
            reason = proc.stderr.decode(errors="replace").strip()
            raise DigestkitError(f"git {args[0]} failed in {dest}: {reason}")

    git("init", "-q", "-b", "main")
    git("fast-import", "--quiet", stdin=_fast_import_stream(commits))
    git("reset", "-q", "--hard", "main")
    return dest
