"""Where each source system lives: the data directory, its optional sources.toml, the CRM URL.

Layout of a data directory (the sample world ships in the package: ``digestkit/data/sample``)::

    runbooks/<runbook_id>/<revision>.md   runbook repository as a folder (or a git repository,
                                          bare or not, with revision files anywhere in its tree)
    crm.sqlite                            CRM and entitlements (any SQLAlchemy URL can replace it)
    registry/products.csv                 product ownership, one row per recorded version
    registry/teams.csv                    teams and their pagers, one row per recorded version
    registry/known_issues.csv             known issues linked to products
    exceptions/register.csv               approved exception register, one row per recorded version
    feed/events.jsonl                     change-notification feed (publication events)
    gold/labels.json                      planted changes and issues (sample world only)
    sources.toml                          optional: where each source lives, if not as above
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import quote

from digestkit.exceptions import SourceError

__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_MAX_REVISION_BYTES",
    "SAMPLE_DATA",
    "SOURCE_KEYS",
    "DataSources",
    "FileStamp",
    "SourcesLike",
    "file_key",
    "open_sources",
    "resolve_sources",
]

SAMPLE_DATA = Path(str(resources.files("digestkit") / "data" / "sample"))
"""The sample world shipped in the package (read only; ``digestkit sample`` regenerates it)."""

DEFAULT_DATA = Path(os.environ.get("DIGESTKIT_DATA") or SAMPLE_DATA)
"""Data directory used when none is given: ``$DIGESTKIT_DATA`` if set, else ``SAMPLE_DATA``."""

#: The keys sources.toml may set: where each source lives, and the revision file size limit.
SOURCE_KEYS = (
    "runbooks",
    "crm_url",
    "registry",
    "exceptions",
    "feed",
    "gold",
    "max_revision_bytes",
)

#: Largest revision file read (5 MiB): a runbook is text; a bigger file is a mistake or an attack.
DEFAULT_MAX_REVISION_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class DataSources:
    """Where each source system lives."""

    root: Path
    runbooks: Path  # folder repository, or a git repository (a work tree or a bare one)
    crm_url: str  # SQLAlchemy URL
    registry: Path  # folder with products.csv, teams.csv, known_issues.csv
    exceptions: Path  # register.csv
    feed: Path  # events.jsonl
    gold: Path | None
    max_revision_bytes: int = DEFAULT_MAX_REVISION_BYTES
    # A git repository is read as it stood after this commit instead of at HEAD: the event runner
    # pins the state a publication event names (a folder repository has no commits to pin).
    runbooks_commit: str | None = None

    @property
    def runbooks_are_git(self) -> bool:
        """Whether the runbook repository is a git repository (bare or not) rather than a folder."""
        path = self.runbooks
        bare = (
            (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()
        )
        return (path / ".git").exists() or bare


#: What every loader accepts: a data directory, opened sources, or None for ``DEFAULT_DATA``.
SourcesLike = str | Path | DataSources | None


class FileStamp(NamedTuple):
    """What identifies a file's contents without reading it."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int


def open_sources(data: SourcesLike = None) -> DataSources:
    """Locate every source under ``data`` (default ``DEFAULT_DATA``), honouring sources.toml."""
    if isinstance(data, DataSources):
        return data
    root = Path(data or os.environ.get("DIGESTKIT_DATA") or DEFAULT_DATA).resolve()
    if not root.is_dir():
        raise SourceError(
            "data directory does not exist; pass --data or set DIGESTKIT_DATA", path=root
        )
    toml_path = root / "sources.toml"
    config = _read_config(toml_path) if toml_path.exists() else {}

    def place(key: str, default: str, *, kind: Literal["directory", "file"]) -> Path:
        path = root / (_text(config, key, toml_path) or default)
        exists = path.is_dir() if kind == "directory" else path.is_file()
        if not exists:
            where = f" (set by {toml_path.name})" if key in config else ""
            raise SourceError(f"{kind} for '{key}' not found{where}", path=path)
        return path

    runbooks = place("runbooks", "runbooks", kind="directory")
    registry = place("registry", "registry", kind="directory")
    exceptions = place("exceptions", "exceptions/register.csv", kind="file")
    feed = place("feed", "feed/events.jsonl", kind="file")
    gold = root / (_text(config, "gold", toml_path) or "gold/labels.json")
    if "gold" in config and not gold.is_file():
        raise SourceError("file for 'gold' not found (set by sources.toml)", path=gold)
    return DataSources(
        root=root,
        runbooks=runbooks,
        crm_url=_crm_url(root, _text(config, "crm_url", toml_path)),
        registry=registry,
        exceptions=exceptions,
        feed=feed,
        gold=gold if gold.is_file() else None,
        max_revision_bytes=_size_limit(config, toml_path),
    )


def resolve_sources(src: SourcesLike) -> DataSources:
    """``src`` itself when it is already opened, else :func:`open_sources` of it."""
    return src if isinstance(src, DataSources) else open_sources(src)


def file_key(paths: Iterable[Path]) -> tuple[FileStamp, ...]:
    """What identifies the files' contents without reading them: path, size, times, inode."""
    out = []
    for path in paths:
        st = path.stat()
        out.append(FileStamp(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def _read_config(toml_path: Path) -> dict[str, object]:
    """sources.toml as a mapping of known keys to values, or a SourceError naming the key."""
    try:
        config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"not valid TOML: {exc}", path=toml_path) from exc
    for key in config:
        if key not in SOURCE_KEYS:
            raise SourceError(
                f"unknown key; known keys: {', '.join(SOURCE_KEYS)}", path=toml_path, field=key
            )
    return config


def _text(config: dict[str, object], key: str, toml_path: Path) -> str | None:
    """The string sources.toml sets for ``key``, or None when it sets nothing."""
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise SourceError("must be a string", path=toml_path, field=key)
    return value


def _size_limit(config: dict[str, object], toml_path: Path) -> int:
    value = config.get("max_revision_bytes", DEFAULT_MAX_REVISION_BYTES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SourceError(
            "must be a positive whole number of bytes, e.g. 5242880 for 5 MiB",
            path=toml_path,
            field="max_revision_bytes",
        )
    return value


def _crm_url(root: Path, configured: str | None) -> str:
    if configured is None:
        # The default needs no URL parser: a command that never opens the CRM (a diff) then
        # never imports SQLAlchemy. Quoted as SQLAlchemy renders a database path.
        database = root / "crm.sqlite"
        if not database.is_file():
            raise SourceError("CRM database not found", path=database, field="crm_url")
        return "sqlite:///" + quote(str(database), safe=" +/")
    import sqlalchemy as sa

    try:
        url = sa.make_url(configured)
    except sa.exc.ArgumentError as exc:
        raise SourceError(
            f"not a SQLAlchemy URL: {exc}", path="sources.toml", field="crm_url"
        ) from exc
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # SQLite silently creates a missing file, so check it exists; relative paths mean root.
        database = root / str(url.database)
        if not database.is_file():
            raise SourceError("CRM database not found", path=database, field="crm_url")
        url = url.set(database=str(database))
    return url.render_as_string(hide_password=False)
