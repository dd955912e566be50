"""The runbook repository read as records: a folder of ``<runbook_id>/<revision>.md`` files or a
git repository.

Each revision file starts with YAML front matter (read by :mod:`digestkit.frontmatter`). In a git
repository (a work tree or a bare one) a revision file may sit anywhere in the tree: any ``.md``
file whose front matter names a ``runbook_id`` or a ``revision`` is one, every other file is
ignored. One revision's life (draft, published, withdrawn, corrected) is successive commits of
the main line (first parents): the latest commit wins, and ``as_of`` reads each revision as it
stood after the last commit made by then. :attr:`DataSources.runbooks_commit` reads the whole
repository as it stood after one commit (HEAD by default).

A revision file that cannot be read (too big, not UTF-8, broken front matter, ambiguous) is a
:class:`RevisionProblem`: it is left out and reported, and every other revision still loads.

This module needs neither pandas nor SQLAlchemy, so a command that only reads revisions (``digestkit
diff``) starts quickly; :mod:`~digestkit.sources.runbooks` gives the same revisions as tables.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import logging
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from digestkit.clock import as_utc, parse_utc
from digestkit.exceptions import RevisionError, SourceError
from digestkit.frontmatter import FrontMatterError, natural_key, parse_front_matter
from digestkit.sources.config import (
    DataSources,
    FileStamp,
    SourcesLike,
    file_key,
    resolve_sources,
)
from digestkit.sources.schema import FRONT_MATTER_KEYS, REVISION_STATUSES

if TYPE_CHECKING:
    from digestkit.sources.validate import TimeLike

__all__ = [
    "Repository",
    "Revision",
    "RevisionProblem",
    "RevisionState",
    "read_repository",
    "read_revision",
    "revision_problems",
    "revision_records",
    "revision_states",
]

log = logging.getLogger(__name__)

_NULLABLE_KEYS = ("supersedes", "approved_by", "published_at")
# A front matter line that names a revision: enough to tell a broken revision file from a README.
_NAMING_KEY = re.compile(r"(runbook_id|revision)\s*:")
_FENCES = ("---", "...")
# How much of an oversized file is read to tell whether it is meant as a revision.
_PEEK_BYTES = 64 * 1024
_UNSHALLOW = "fetch the full history (git fetch --unshallow)"

Key = tuple[str, str]


@dataclass(frozen=True)
class Revision:
    """One readable revision: a row of the ``revisions`` table (see ``SCHEMAS``)."""

    runbook_id: str
    revision: str
    seq: int  # position in its runbook's history, by revision id in natural order (r2 < r10)
    title: str
    status: str
    supersedes: str | None
    approved_by: str | None
    published_at: datetime | None  # UTC
    change_reason: str
    path: str  # in its repository (folder or git tree)
    sha256: str  # of the file's bytes
    text: str  # the whole file, front matter included

    @property
    def key(self) -> Key:
        """``(runbook_id, revision)``."""
        return (self.runbook_id, self.revision)


class RevisionProblem(NamedTuple):
    """A revision file that could not be read: the error naming it, and the revision it holds.

    ``runbook_id``/``revision`` are None when the file does not say which revision it is.
    """

    error: SourceError
    runbook_id: str | None = None
    revision: str | None = None

    @property
    def key(self) -> Key | None:
        """``(runbook_id, revision)`` when both are known."""
        if self.runbook_id is None or self.revision is None:
            return None
        return (self.runbook_id, self.revision)


@dataclass(frozen=True, eq=False)  # compared (and cached on) by identity: one per state read
class Repository:
    """The repository at one point: its readable revisions (by runbook_id and seq) and the
    files that could not be read (by file)."""

    root: Path
    revisions: tuple[Revision, ...]
    problems: tuple[RevisionProblem, ...]


class RevisionState(NamedTuple):
    """One recorded state of a revision: what it was after one commit (see
    :func:`revision_states`). ``status`` is None and ``problem`` set when it could not be read."""

    commit: str | None  # None in a folder repository, which keeps only the current state
    committed_at: datetime | None
    status: str | None
    published_at: datetime | None
    sha256: str | None
    path: str | None
    problem: str | None


@dataclass(frozen=True)
class _Parsed:
    """A checked revision file: its fields (but seq) and where its keys are."""

    row: dict[str, Any]
    where: str
    revision_line: int
    supersedes_line: int

    @property
    def key(self) -> Key:
        return (self.row["runbook_id"], self.row["revision"])


_Entry = _Parsed | RevisionProblem


# --- public API ----------------------------------------------------------------------------------


def read_repository(
    src: SourcesLike = None,
    *,
    runbook_id: str | None = None,
    as_of: TimeLike | None = None,
    strict: bool = False,
) -> Repository:
    """The whole repository (at ``as_of`` in a git repository), checked as a read of
    ``runbook_id`` is: an unknown runbook is a RevisionError, and with ``strict=True`` the first
    file that cannot be read raises instead of being listed. Read again only when it changed.
    """
    sources = resolve_sources(src)
    repository = _snapshot(sources, as_of)
    if strict and repository.problems:
        raise repository.problems[0].error
    if runbook_id is not None:
        known = {r.runbook_id for r in repository.revisions}
        if runbook_id not in known:
            raise RevisionError(
                f"unknown runbook '{runbook_id}' in {sources.runbooks}; "
                f"known: {', '.join(sorted(known))}"
                + _problem_note(repository.problems, runbook_id)
            )
    return repository


def revision_records(
    src: SourcesLike = None,
    *,
    runbook_id: str | None = None,
    as_of: TimeLike | None = None,
    strict: bool = False,
) -> list[Revision]:
    """Every readable revision of every runbook (or of ``runbook_id``), by runbook_id and seq.

    With ``as_of``, a git repository gives each revision as it stood then; revisions published
    after it are hidden (drafts stay, ``status`` says which). Files that cannot be read are left
    out and logged (:func:`revision_problems` lists them); ``strict=True`` raises the first one.
    """
    repository = read_repository(src, runbook_id=runbook_id, as_of=as_of, strict=strict)
    when = None if as_of is None else _utc(as_of, "as_of")
    return [
        r
        for r in repository.revisions
        if (runbook_id is None or r.runbook_id == runbook_id)
        and not (when is not None and r.published_at is not None and r.published_at > when)
    ]


def read_revision(src: SourcesLike, runbook_id: str, revision: str) -> Revision:
    """The one revision ``runbook_id``/``revision``.

    A revision whose file cannot be read is a RevisionError quoting the file's problem.
    """
    sources = resolve_sources(src)
    repository = _snapshot(sources, None)
    for problem in repository.problems:
        if problem.key == (runbook_id, revision):
            raise RevisionError(f"{runbook_id}@{revision} cannot be read: {problem.error}")
    revisions = revision_records(sources, runbook_id=runbook_id)
    for record in revisions:
        if record.revision == revision:
            return record
    known = ", ".join(f"{r.revision} ({r.status})" for r in revisions)
    raise RevisionError(
        f"unknown revision '{revision}' of {runbook_id}; known: {known}"
        + _problem_note(repository.problems, runbook_id)
    )


def revision_problems(
    src: SourcesLike = None, *, as_of: TimeLike | None = None
) -> list[RevisionProblem]:
    """The revision files that cannot be read (at ``as_of`` in a git repository), by file."""
    return list(_snapshot(resolve_sources(src), as_of).problems)


def revision_states(src: SourcesLike, runbook_id: str, revision: str) -> list[RevisionState]:
    """Each recorded state of one revision, oldest first: what it was after each commit.

    A folder repository keeps only the current state (``commit`` None).
    """
    sources = resolve_sources(src)
    key = (runbook_id, revision)
    states: list[RevisionState] = []
    if sources.runbooks_are_git:
        history = _git_history(*_git_identity(sources))
        for index, entry in history.key_states(key):
            states.append(_state(entry, history.commits[index], history.times[index]))
    else:
        repository = _snapshot(sources, None)
        states += [_state(r, None, None) for r in repository.revisions if r.key == key]
        states += [_state(p, None, None) for p in repository.problems if p.key == key]
    if not states:
        raise RevisionError(f"{runbook_id}@{revision} was never in {sources.runbooks}")
    return states


# --- shared parsing ------------------------------------------------------------------------------


def _utc(value: TimeLike, name: str) -> datetime:
    """``value`` as an aware UTC datetime (naive means UTC); SourceError naming ``name``."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return parse_utc(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise SourceError("is not an ISO-8601 date or time", field=name) from exc


def _state(
    entry: _Entry | Revision, commit: str | None, committed_at: datetime | None
) -> RevisionState:
    """One state of a revision for :func:`revision_states`."""
    if isinstance(entry, RevisionProblem):
        return RevisionState(commit, committed_at, None, None, None, None, str(entry.error))
    row = entry.row if isinstance(entry, _Parsed) else vars(entry)
    return RevisionState(
        commit,
        committed_at,
        str(row["status"]),
        row["published_at"],
        row["sha256"],
        row["path"],
        None,
    )


def _problem_note(problems: Iterable[RevisionProblem], runbook_id: str) -> str:
    unread = [p for p in problems if p.runbook_id in (runbook_id, None)]
    if not unread:
        return ""
    return f"; {len(unread)} revision file(s) could not be read, first: {unread[0].error}"


def _names_revision(text: str) -> bool:
    """Whether the front matter opening ``text`` names a runbook_id or a revision."""
    return bool(_naming_lines(text))


def _naming_lines(text: str) -> dict[str, str]:
    """The front matter lines opening ``text`` that name its runbook_id or revision, by key."""
    lines = text.splitlines()
    found: dict[str, str] = {}
    if not lines or lines[0].rstrip() != "---":
        return found
    for line in lines[1:]:
        if line.rstrip() in _FENCES:
            break
        match = _NAMING_KEY.match(line)
        if match:
            found.setdefault(match.group(1), line[match.end() :].strip().strip("\"'"))
    return found


def _peeked_key(head: bytes) -> Key | None:
    """The revision the start of an unread (oversized) file names, if it plainly does."""
    named = _naming_lines(head.decode("utf-8", errors="replace"))
    runbook_id, revision = named.get("runbook_id"), named.get("revision")
    return (runbook_id, revision) if runbook_id and revision else None


def _too_big(size: int, limit: int, where: str, key: Key | None) -> RevisionProblem:
    error = SourceError(
        f"is {size} bytes, over the {limit}-byte limit for a revision file; shorten it, or raise "
        "max_revision_bytes in sources.toml",
        path=where,
    )
    return RevisionProblem(error, *(key or (None, None)))


def _check(
    data: bytes, *, path: str, where: str, location: Key | None
) -> _Parsed | RevisionProblem:
    """One revision file checked (against its ``location`` in a folder repository)."""
    try:
        return _parse_revision(data, path=path, where=where, location=location)
    except _FileProblem as exc:
        key = location or exc.key
        return RevisionProblem(exc.error, *(key or (None, None)))


class _FileProblem(Exception):
    """What is wrong with one revision file, and the revision it names if that is known."""

    def __init__(self, error: SourceError, key: Key | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.key = key


def _parse_revision(data: bytes, *, path: str, where: str, location: Key | None) -> _Parsed:
    """One revision file checked as a row; messages name the line, field and rule, not values."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _FileProblem(
            SourceError(f"not UTF-8 text (byte {exc.start})", path=where), None
        ) from exc
    lines = text.splitlines()
    try:
        front = parse_front_matter(lines)
    except FrontMatterError as exc:
        # The parser flags an unclosed block at its opening line (every other problem is inside
        # the YAML); that one keeps the loader's own wording.
        reason = "front matter has no closing '---' line" if exc.line == 1 else exc.reason
        error = SourceError(reason, path=where, row=f"front matter line {exc.line}")
        raise _FileProblem(error, None) from exc
    if front is None:
        error = SourceError(
            "no front matter: the file must start with a '---' line",
            path=where,
            row="front matter line 1",
        )
        raise _FileProblem(error, None)
    meta = front.data
    runbook_id, revision = meta.get("runbook_id"), meta.get("revision")
    key = (
        (runbook_id, revision)
        if isinstance(runbook_id, str) and isinstance(revision, str)
        else None
    )
    key_line: dict[str, int] = {}
    for number in range(front.first_line, front.last_line + 1):
        match = re.match(r"([^\s:#][^:]*):", lines[number - 1])
        if match:
            key_line.setdefault(match.group(1).strip(), number)

    def fail(name: str, problem: str) -> NoReturn:
        line = key_line.get(name, front.last_line + 1)  # a missing key: the closing fence
        error = SourceError(problem, path=where, row=f"front matter line {line}", field=name)
        raise _FileProblem(error, key)

    for name in meta:
        if name not in FRONT_MATTER_KEYS:
            fail(name, f"unknown front matter key; known: {', '.join(FRONT_MATTER_KEYS)}")
    for name in FRONT_MATTER_KEYS:
        if name not in meta:
            fail(name, "missing front matter key")
        value = meta[name]
        if value is None and name not in _NULLABLE_KEYS:
            fail(name, "is empty but is required")
        if value is not None and name != "published_at" and not isinstance(value, str):
            fail(name, f"must be text (quote it), not {type(value).__name__}")
    if location is not None:
        folder, stem = location
        if meta["runbook_id"] != folder:
            fail("runbook_id", f"does not match its folder '{folder}'")
        if meta["revision"] != stem:
            fail("revision", f"does not match its file name '{stem}.md'")
    if meta["status"] not in REVISION_STATUSES:
        fail("status", f"is not one of {', '.join(REVISION_STATUSES)}")
    published_at = meta["published_at"]
    if published_at is not None:
        try:
            published_at = _utc(published_at, "published_at")
        except SourceError:
            fail("published_at", "is not an ISO-8601 timestamp such as 2024-05-01T09:30:00Z")
    if meta["status"] == "published":
        for name in ("published_at", "approved_by"):
            if meta[name] is None:
                fail(name, "is empty but a published revision needs it")
    return _Parsed(
        row={
            **meta,
            "published_at": published_at,
            "path": path,
            "sha256": hashlib.sha256(data).hexdigest(),
            "text": text,
        },
        where=where,
        revision_line=key_line.get("revision", 1),
        supersedes_line=key_line.get("supersedes", 1),
    )


def _assemble(root: Path, entries: Sequence[_Entry], *, require: bool) -> Repository:
    """The readable revisions; duplicates and dangling supersedes reported.

    ``require``: a repository without a single revision file is an error (not when looking back
    to before its first one).
    """
    problems = [e for e in entries if isinstance(e, RevisionProblem)]
    by_key: dict[Key, list[_Parsed]] = {}
    for entry in entries:
        if isinstance(entry, _Parsed):
            by_key.setdefault(entry.key, []).append(entry)
    parsed: list[_Parsed] = []
    for key, items in by_key.items():
        if len(items) == 1:
            parsed.append(items[0])
            continue
        # Two files claim one revision: which is meant is not ours to pick, so neither is read.
        wheres = " and ".join(item.where for item in items)
        for item in items:
            error = SourceError(
                f"revision {key[0]}@{key[1]} is also in another file ({wheres}); keep it in one",
                path=item.where,
                row=f"front matter line {item.revision_line}",
                field="revision",
            )
            problems.append(RevisionProblem(error, *key))
    # A broken file still counts as the revision it names, so its successors keep their link.
    known = {p.key for p in parsed} | {p.key for p in problems if p.key is not None}
    good: list[_Parsed] = []
    for item in parsed:
        supersedes = item.row["supersedes"]
        if supersedes is not None and (item.row["runbook_id"], supersedes) not in known:
            error = SourceError(
                "supersedes a revision the repository does not have",
                path=item.where,
                row=f"front matter line {item.supersedes_line}",
                field="supersedes",
            )
            problems.append(RevisionProblem(error, *item.key))
            continue
        good.append(item)
    if require and not good and not problems:
        raise SourceError("no revision files found", path=root)
    good.sort(key=lambda p: (p.row["runbook_id"], natural_key(p.row["revision"])))
    seqs: dict[str, int] = {}
    revisions = []
    for item in good:
        seq = seqs[item.key[0]] = seqs.get(item.key[0], 0) + 1
        revisions.append(Revision(seq=seq, **item.row))
    problems.sort(key=lambda p: (p.error.path or "", str(p.error)))
    return Repository(root, tuple(revisions), tuple(problems))


def _snapshot(sources: DataSources, as_of: TimeLike | None) -> Repository:
    if sources.runbooks_are_git:
        history = _git_history(*_git_identity(sources))
        count = len(history.commits)
        if as_of is not None:
            when = _utc(as_of, "as_of")
            count = bisect.bisect_right(history.times, when)
        return _git_snapshot(history, count)
    paths = sorted(
        p
        for p in sources.runbooks.rglob("*.md")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(sources.runbooks).parts)
    )
    return _folder_snapshot(sources.runbooks, file_key(paths), sources.max_revision_bytes)


# --- folder repository ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _folder_snapshot(root: Path, stamps: tuple[FileStamp, ...], limit: int) -> Repository:
    # Keyed on the files' stamps: every digest and event reads the repository, and parses it
    # again only when a file changed.
    entries: list[_Entry] = []
    for stamp in stamps:
        path = Path(stamp.path)
        relative = path.relative_to(root)
        where = str(path)
        in_layout = len(relative.parts) == 2
        location = (relative.parts[0], path.stem) if in_layout else None
        if stamp.size > limit:
            with path.open("rb") as handle:
                head = handle.read(_PEEK_BYTES)
            if in_layout or _names_revision(head.decode("utf-8", errors="replace")):
                entries.append(_too_big(stamp.size, limit, where, location or _peeked_key(head)))
            continue
        data = path.read_bytes()
        if in_layout:
            entries.append(_check(data, path=relative.as_posix(), where=where, location=location))
        elif _names_revision(data.decode("utf-8", errors="replace")):
            error = SourceError(
                "is not at <runbook_id>/<revision>.md, so it is not read as a revision; move it",
                path=where,
            )
            entries.append(RevisionProblem(error))
    snapshot = _assemble(root, entries, require=True)
    for problem in snapshot.problems:
        log.warning("revision file skipped: %s", problem.error)
    return snapshot


# --- git repository ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared (and cached on) by identity: one per HEAD
class _GitHistory:
    """The main line of a git runbook repository, as changes to revision files.

    ``times[i]`` is when commit ``i`` (oldest first) took effect: its committer time, or a
    parent's later time (a commit cannot take effect before the one it follows).
    ``changes[i]`` maps each path commit ``i`` touched to its revision file (None: no longer one).
    """

    root: Path
    commits: tuple[str, ...]
    times: tuple[datetime, ...]
    changes: tuple[dict[str, _Entry | None], ...]

    def key_states(self, key: Key) -> list[tuple[int, _Entry]]:
        """Each commit that changed the revision ``key``, with what it held after it."""
        out: list[tuple[int, _Entry]] = []
        for index, changed in enumerate(self.changes):
            for entry in changed.values():
                if entry is not None and entry.key == key:
                    out.append((index, entry))
        return out


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "-c", "core.quotepath=off", *args],
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("is a git repository but git is not installed", path=repo) from exc
    if proc.returncode:
        stderr = proc.stderr.decode(errors="replace").strip().splitlines()
        fatal = [line for line in stderr if line.startswith(("fatal:", "error:"))]
        reason = (fatal or stderr or [f"exit status {proc.returncode}"])[0]
        raise SourceError(f"git {args[0]} failed: {reason}", path=repo)
    return proc.stdout


def _git_identity(sources: DataSources) -> tuple[Path, str, int]:
    """The repository, the commit it is read at (HEAD unless pinned) and the size limit: what a
    cached history is keyed on."""
    repo = sources.runbooks
    pinned = sources.runbooks_commit
    try:
        shallow, head = _git(
            repo, "rev-parse", "--is-shallow-repository", f"{pinned or 'HEAD'}^{{commit}}"
        ).split()
    except SourceError:
        _git(repo, "rev-parse", "--git-dir")  # not a repository at all: git's own reason
        if pinned:
            raise SourceError(f"git repository has no commit {pinned}", path=repo) from None
        raise SourceError("git repository has no commits yet", path=repo) from None
    if shallow == b"true":
        raise SourceError(
            f"is a shallow clone, so the history of its revisions is incomplete; {_UNSHALLOW}",
            path=repo,
        )
    return repo, head.decode(), sources.max_revision_bytes


class _Change(NamedTuple):
    commit: int
    path: str
    blob: str | None  # None: the path was deleted (or is no longer a regular file)


@functools.lru_cache(maxsize=8)
def _git_history(repo: Path, head: str, limit: int) -> _GitHistory:
    """Every first-parent commit up to ``head`` and the revision files each one changed."""
    log_out = _git(
        repo,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--reverse",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "-z",
        "--format=commit %H %ct",
        head,
    )
    commits: list[str] = []
    times: list[datetime] = []
    changes: list[_Change] = []
    tokens = iter(log_out.decode("utf-8", errors="surrogateescape").split("\0"))
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("commit "):
            _, commit, seconds = token.split()
            when = datetime.fromtimestamp(int(seconds), UTC)
            commits.append(commit)
            times.append(max(when, times[-1]) if times else when)
        elif token.startswith(":"):
            path = next(tokens)
            _, new_mode, _, blob, status = token[1:].split()
            if not path.endswith(".md"):
                continue
            regular = new_mode in ("100644", "100755") and status != "D"
            changes.append(_Change(len(commits) - 1, path, blob if regular else None))
    blobs = _read_blobs(repo, {c.blob for c in changes if c.blob is not None}, limit)
    per_commit: list[dict[str, _Entry | None]] = [{} for _ in commits]
    held: dict[str, Key] = {}  # path -> the revision it last held, to name a broken file
    for change in changes:
        where = f"{repo} {commits[change.commit][:12]}:{change.path}"
        entry = _git_entry(change, blobs, where, held.get(change.path), limit)
        if entry is not None and entry.key is not None:
            held[change.path] = entry.key
        per_commit[change.commit][change.path] = entry
    return _GitHistory(repo, tuple(commits), tuple(times), tuple(per_commit))


class _Oversized(NamedTuple):
    """A blob over the size limit: its size and its start (read to see what it is)."""

    size: int
    head: bytes


def _git_entry(
    change: _Change,
    blobs: dict[str, bytes | _Oversized],
    where: str,
    held: Key | None,
    limit: int,
) -> _Entry | None:
    """The revision file at ``change`` (None if it is not one), as a row or a problem."""
    if change.blob is None:
        return None
    data = blobs[change.blob]
    if isinstance(data, _Oversized):
        if not _names_revision(data.head.decode("utf-8", errors="replace")):
            return None
        return _too_big(data.size, limit, where, _peeked_key(data.head) or held)
    if not _names_revision(data.decode("utf-8", errors="replace")):
        return None
    entry = _check(data, path=change.path, where=where, location=None)
    if isinstance(entry, RevisionProblem) and entry.key is None and held is not None:
        entry = entry._replace(runbook_id=held[0], revision=held[1])
    return entry


def _read_blobs(repo: Path, blobs: set[str], limit: int) -> dict[str, bytes | _Oversized]:
    """Each blob's bytes; for one over ``limit``, its size and start only."""
    if not blobs:
        return {}
    order = sorted(blobs)
    sizes_out = _git(
        repo, "cat-file", "--batch-check", stdin="".join(f"{b}\n" for b in order).encode()
    )
    sizes: dict[str, int] = {}
    for line in sizes_out.decode().splitlines():
        blob, kind, *size_field = line.split()
        if kind == "missing":  # a partial clone that never fetched it
            raise SourceError(
                f"git object {blob} is missing (a partial clone?); clone it without --filter",
                path=repo,
            )
        sizes[blob] = int(size_field[0])
    out: dict[str, bytes | _Oversized] = {}
    small = [b for b in order if sizes[b] <= limit]
    for blob in order:
        if sizes[blob] > limit:
            out[blob] = _Oversized(sizes[blob], _blob_head(repo, blob))
    if small:
        raw = _git(repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in small).encode())
        offset = 0
        for blob in small:
            header_end = raw.index(b"\n", offset)
            size = int(raw[offset:header_end].split()[2])
            out[blob] = raw[header_end + 1 : header_end + 1 + size]
            offset = header_end + 1 + size + 1
    return out


def _blob_head(repo: Path, blob: str) -> bytes:
    """The start of an oversized blob, without reading (or holding) the rest."""
    with subprocess.Popen(
        ["git", "-C", str(repo), "cat-file", "blob", blob],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None  # stdout=PIPE
        head = proc.stdout.read(_PEEK_BYTES)
        proc.kill()
    return head


@functools.lru_cache(maxsize=32)
def _git_snapshot(history: _GitHistory, count: int) -> Repository:
    """The repository after its first ``count`` commits."""
    current: dict[str, _Entry] = {}
    for changed in history.changes[:count]:
        for path, entry in changed.items():
            if entry is None:
                current.pop(path, None)
            else:
                current[path] = entry
    latest = count == len(history.commits)
    snapshot = _assemble(history.root, [current[p] for p in sorted(current)], require=latest)
    if latest:
        for problem in snapshot.problems:
            log.warning("revision file skipped: %s", problem.error)
    return snapshot
