"""The runbook repository: a folder of ``<runbook_id>/<revision>.md`` files or a git repository.

Each revision file starts with YAML front matter (read by :mod:`digestkit.frontmatter`); a git
repository gives one revision per committed version of ``<runbook_id>.md``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import pandas as pd

from digestkit.exceptions import RevisionError, SourceError
from digestkit.frontmatter import FrontMatterError, natural_key, parse_front_matter
from digestkit.sources.config import FileStamp, SourcesLike, file_key, resolve_sources
from digestkit.sources.schema import FRONT_MATTER_KEYS, REVISION_STATUSES
from digestkit.sources.validate import TimeLike, coerce, utc_timestamp

__all__ = ["RevisionFile", "get_revision", "load_revisions"]

_NULLABLE_KEYS = ("supersedes", "approved_by", "published_at")


class RevisionFile(NamedTuple):
    """One revision file as read from the repository, before its front matter is checked."""

    path: str  # relative file path, or ``commit:file`` in a git repository
    where: str  # how errors name it
    folder: str  # the runbook_id its location implies
    stem: str | None  # the revision its file name implies (None in git: the name is the runbook)
    data: bytes


@dataclass(frozen=True)
class _Parsed:
    """A checked revision file: its row of the revisions table (but seq) and where its keys are."""

    row: dict[str, Any]
    where: str
    revision_line: int
    supersedes_line: int


def load_revisions(
    src: SourcesLike = None,
    *,
    runbook_id: str | None = None,
    as_of: TimeLike | None = None,
) -> pd.DataFrame:
    """Every revision of every runbook (or of ``runbook_id``), sorted by runbook_id and seq.

    ``seq`` orders a runbook's revisions by their ids in natural order (r2 < r10). With ``as_of``,
    revisions published after it are hidden; drafts (never published) stay, ``status`` says which.
    """
    sources = resolve_sources(src)
    if sources.runbooks_are_git:
        frame = _parse_revisions(sources.runbooks, _git_files(sources.runbooks))
    else:
        # Every digest and event reads the repository; parse it again only when a file changed.
        paths = sorted(sources.runbooks.glob("*/*.md"))
        frame = _folder_revisions(sources.runbooks, file_key(paths))
    if runbook_id is not None:
        if runbook_id not in set(frame["runbook_id"]):
            known = ", ".join(sorted(set(frame["runbook_id"])))
            raise RevisionError(
                f"unknown runbook '{runbook_id}' in {sources.runbooks}; known: {known}"
            )
        frame = frame[frame["runbook_id"] == runbook_id]
    if as_of is not None:
        frame = frame[~(frame["published_at"] > utc_timestamp(as_of, "as_of")).fillna(False)]
    return frame.reset_index(drop=True)


def get_revision(src: SourcesLike, runbook_id: str, revision: str) -> pd.Series[Any]:
    """The one revision ``runbook_id``/``revision`` as a row of :func:`load_revisions`."""
    frame = load_revisions(src, runbook_id=runbook_id)
    match = frame[frame["revision"] == revision]
    if match.empty:
        known = ", ".join(
            f"{r} ({s})" for r, s in zip(frame["revision"], frame["status"], strict=True)
        )
        raise RevisionError(f"unknown revision '{revision}' of {runbook_id}; known: {known}")
    return match.iloc[0]


@functools.lru_cache(maxsize=16)
def _folder_revisions(root: Path, stamps: tuple[FileStamp, ...]) -> pd.DataFrame:
    # Keyed on the files' stamps; callers only filter or sort what they get (new frames), so the
    # cached frame stays intact.
    paths = [Path(stamp.path) for stamp in stamps]
    files = [
        RevisionFile(p.relative_to(root).as_posix(), str(p), p.parent.name, p.stem, p.read_bytes())
        for p in paths
    ]
    return _parse_revisions(root, files)


def _parse_revisions(root: Path, files: list[RevisionFile]) -> pd.DataFrame:
    if not files:
        raise SourceError("no revision files found", path=root)
    parsed = [_parse_revision(file) for file in files]
    seen: dict[tuple[str, str], _Parsed] = {}
    for item in parsed:
        key = (item.row["runbook_id"], item.row["revision"])
        if key in seen:
            raise SourceError(
                f"duplicate runbook_id + revision {key}; also in {seen[key].where}",
                path=item.where,
                row=f"front matter line {item.revision_line}",
                field="revision",
            )
        seen[key] = item
    for item in parsed:
        supersedes = item.row["supersedes"]
        if supersedes is not None and (item.row["runbook_id"], supersedes) not in seen:
            raise SourceError(
                f"supersedes unknown revision '{supersedes}'",
                path=item.where,
                row=f"front matter line {item.supersedes_line}",
                field="supersedes",
            )
    parsed.sort(key=lambda p: (p.row["runbook_id"], natural_key(p.row["revision"])))
    frame = pd.DataFrame([item.row for item in parsed])
    frame["seq"] = frame.groupby("runbook_id").cumcount() + 1
    return coerce(frame, "revisions", where=str(root), locate=lambda i: parsed[i].where)


def _parse_revision(file: RevisionFile) -> _Parsed:
    """One revision file checked against its location (``folder``, ``stem``) as a row."""
    where = file.where
    try:
        text = file.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})", path=where) from exc
    lines = text.splitlines()
    try:
        front = parse_front_matter(lines)
    except FrontMatterError as exc:
        # The parser flags an unclosed block at its opening line (every other problem is inside
        # the YAML); that one keeps the loader's own wording.
        reason = "front matter has no closing '---' line" if exc.line == 1 else exc.reason
        raise SourceError(reason, path=where, row=f"front matter line {exc.line}") from exc
    if front is None:
        raise SourceError(
            "no front matter: the file must start with a '---' line",
            path=where,
            row="front matter line 1",
        )
    meta = front.data
    key_line: dict[str, int] = {}
    for number in range(front.first_line, front.last_line + 1):
        match = re.match(r"([^\s:#][^:]*):", lines[number - 1])
        if match:
            key_line.setdefault(match.group(1).strip(), number)

    def fail(key: str, problem: str) -> NoReturn:
        line = key_line.get(key, front.last_line + 1)  # a missing key: the closing fence
        raise SourceError(problem, path=where, row=f"front matter line {line}", field=key)

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            fail(key, f"unknown front matter key; known: {', '.join(FRONT_MATTER_KEYS)}")
    for key in FRONT_MATTER_KEYS:
        if key not in meta:
            fail(key, "missing front matter key")
        value = meta[key]
        if value is None and key not in _NULLABLE_KEYS:
            fail(key, "is empty but is required")
        if value is not None and key != "published_at" and not isinstance(value, str):
            fail(key, f"must be text (quote it): got {value!r}")
    if meta["runbook_id"] != file.folder:
        fail("runbook_id", f"'{meta['runbook_id']}' does not match its location '{file.folder}'")
    if file.stem is not None and meta["revision"] != file.stem:
        fail("revision", f"'{meta['revision']}' does not match its file name '{file.stem}.md'")
    if meta["status"] not in REVISION_STATUSES:
        fail("status", f"'{meta['status']}' is not one of {', '.join(REVISION_STATUSES)}")
    published_at = meta["published_at"]
    if published_at is not None:
        try:
            published_at = utc_timestamp(published_at, "published_at").isoformat()
        except SourceError:
            fail("published_at", f"'{published_at}' is not an ISO-8601 timestamp")
    if meta["status"] == "published":
        for key in ("published_at", "approved_by"):
            if meta[key] is None:
                fail(key, "is empty but a published revision needs it")
    return _Parsed(
        row={
            **meta,
            "published_at": published_at,
            "path": file.path,
            "sha256": hashlib.sha256(file.data).hexdigest(),
            "text": text,
        },
        where=where,
        revision_line=key_line.get("revision", 1),
        supersedes_line=key_line.get("supersedes", 1),
    )


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
        raise SourceError(
            f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}", path=repo
        )
    return proc.stdout


def _git_files(repo: Path) -> list[RevisionFile]:
    """Every committed version of every top-level ``<runbook_id>.md``, oldest first."""
    log = _git(
        repo, "log", "--reverse", "--no-renames", "--raw", "--no-abbrev", "--format=commit %H"
    )
    versions: list[tuple[str, str, str]] = []  # (commit, file name, blob)
    commit = ""
    for line in log.decode("utf-8").splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.startswith(":"):
            meta, name = line.split("\t", 1)
            blob, status = meta.split()[3], meta.split()[4]
            if status != "D" and name.endswith(".md") and "/" not in name:
                versions.append((commit, name, blob))
    if not versions:
        return []
    out = _git(
        repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for _, _, b in versions).encode()
    )
    files, offset = [], 0
    for commit, name, _ in versions:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        data = out[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
        files.append(
            RevisionFile(f"{commit}:{name}", f"{repo} {commit}:{name}", name[:-3], None, data)
        )
    return files
