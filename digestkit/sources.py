"""Loaders for the six source systems, each returning a validated pandas DataFrame.

The schema of every table is declared once, in ``SCHEMAS``; the loaders, the sample-world
generator and the documentation all read it from here.

Layout of a data directory (the embedded sample world lives in ``data/sample``)::

    runbooks/<runbook_id>/<revision>.md   runbook repository as a folder (or a git repository)
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

import csv
import functools
import hashlib
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml

from digestkit.exceptions import RevisionError, SourceError


@dataclass(frozen=True)
class Column:
    """One column of a source table.

    ``dtype`` is one of ``string``, ``int``, ``float``, ``date`` (calendar day), ``datetime``
    (UTC timestamp) or ``category`` (then ``values`` lists what is allowed).
    """

    name: str
    dtype: str
    doc: str
    nullable: bool = False
    sensitive: bool = False
    values: tuple[str, ...] = ()


TIERS = ("Standard", "Premium", "Premium Plus")
REVISION_STATUSES = ("draft", "published", "withdrawn")
RECORD_STATUSES = ("approved", "pending")
EXCEPTION_KINDS = (
    "handling carve-out",
    "contractual notification variant",
    "temporary staffing overlay",
)
EXCEPTION_STATUSES = ("approved", "pending", "rejected", "revoked")
PRODUCT_STATUSES = ("active", "deprecated", "retired")
KNOWN_ISSUE_STATUSES = ("open", "mitigated", "closed")
EVENT_TYPES = ("runbook.published", "runbook.draft_saved", "runbook.withdrawn")

C = Column

SCHEMAS: dict[str, tuple[Column, ...]] = {
    # Runbook repository: one row per revision file (front matter + body).
    "revisions": (
        C("runbook_id", "string", "Runbook identifier, e.g. premium-s1-escalation."),
        C("revision", "string", "Revision identifier within the runbook, e.g. r7."),
        C("seq", "int", "Position of the revision in the runbook's history (1 = first)."),
        C("title", "string", "Runbook title from the front matter."),
        C("status", "category", "Lifecycle status.", values=REVISION_STATUSES),
        C("supersedes", "string", "Revision this one replaces.", nullable=True),
        C("approved_by", "string", "Approver of a published revision.", nullable=True),
        C("published_at", "datetime", "Publication time (UTC); empty for drafts.", nullable=True),
        C("change_reason", "string", "Why the revision was made."),
        C("path", "string", "File path, or git ref:path, the revision was read from."),
        C("sha256", "string", "sha256 of the revision file's bytes."),
        C("text", "string", "Whole file as text (front matter included; line numbers count it)."),
    ),
    # CRM: accounts.
    "accounts": (
        C("account_id", "string", "Pseudonymous account id, e.g. ACC-000123."),
        C("account_name", "string", "Customer's legal name.", sensitive=True),
        C("tier", "category", "Support tier.", values=TIERS),
        C("region", "string", "Support region, e.g. EMEA."),
        C("record_status", "category", "CRM record approval.", values=RECORD_STATUSES),
        C("updated_at", "datetime", "Last change of the record (UTC)."),
    ),
    # CRM: named contacts (entirely sensitive apart from ids and role).
    "contacts": (
        C("contact_id", "string", "Contact id, e.g. CON-0000123."),
        C("account_id", "string", "Account the contact belongs to."),
        C("contact_name", "string", "Person's name.", sensitive=True),
        C("email", "string", "E-mail address.", sensitive=True),
        C("phone", "string", "Phone number.", sensitive=True),
        C("role", "string", "Role, e.g. escalation contact."),
        C("updated_at", "datetime", "Last change of the record (UTC)."),
    ),
    # CRM: entitlements, one row per account and product in scope.
    "entitlements": (
        C("entitlement_id", "string", "Entitlement id, e.g. ENT-0000123."),
        C("account_id", "string", "Account entitled."),
        C("product_id", "string", "Product in scope (registry product_id)."),
        C("tier", "category", "Support tier of this entitlement.", values=TIERS),
        C("starts_on", "date", "First day of the entitlement."),
        C("ends_on", "date", "Last day of the entitlement."),
        C("initial_response_minutes", "int", "Contracted initial response time."),
        C("update_interval_minutes", "int", "Contracted interval between incident updates."),
        C(
            "notification_variant",
            "string",
            "Contractual notification variant, e.g. contractual-10min-initial-update.",
            nullable=True,
        ),
        C("contract_clause", "string", "Contract clause text.", nullable=True, sensitive=True),
        C("record_status", "category", "Entitlement approval.", values=RECORD_STATUSES),
        C("updated_at", "datetime", "Last change of the record (UTC)."),
    ),
    # Registry: product ownership, append-only; the latest row per product as of T is its state.
    "products": (
        C("product_id", "string", "Product id, e.g. PRD-PAYAPI."),
        C("product_name", "string", "Product name as runbooks write it, e.g. Payments API."),
        C("owning_team", "string", "Team that owns the product (registry team slug)."),
        C("escalation_pager", "string", "Pager for escalations, e.g. payments-oncall."),
        C("owner_since", "datetime", "When the owning team took over (UTC)."),
        C("last_verified_at", "datetime", "When ownership was last verified (UTC)."),
        C("status", "category", "Product lifecycle.", values=PRODUCT_STATUSES),
        C("recorded_at", "datetime", "When this version of the record was written (UTC)."),
    ),
    # Registry: teams, append-only like products.
    "teams": (
        C("team", "string", "Team slug, e.g. payments-eng."),
        C("display_name", "string", "Team name as runbooks write it, e.g. Payments Engineering."),
        C("pager", "string", "The team's own on-call pager."),
        C("recorded_at", "datetime", "When this version of the record was written (UTC)."),
    ),
    # Registry: known issues.
    "known_issues": (
        C("issue_id", "string", "Known-issue id, e.g. KI-2031."),
        C("product_id", "string", "Affected product."),
        C("title", "string", "Short public title."),
        C("exception_note", "string", "Handling note for the issue.", nullable=True),
        C("status", "category", "Issue status.", values=KNOWN_ISSUE_STATUSES),
        C("opened_at", "datetime", "When the issue was opened (UTC)."),
        C("recorded_at", "datetime", "When this version of the record was written (UTC)."),
    ),
    # Exception register, append-only; the latest row per exception as of T is its state.
    "exceptions": (
        C("exception_id", "string", "Exception id, e.g. EXC-1042."),
        C("account_id", "string", "Account the exception applies to."),
        C("product_id", "string", "Product the exception applies to."),
        C("kind", "category", "Kind of exception.", values=EXCEPTION_KINDS),
        C("handling", "string", "Handling code, e.g. page-secondary-first."),
        C("status", "category", "Approval status.", values=EXCEPTION_STATUSES),
        C("approver", "string", "Who approved (or rejected) it.", nullable=True),
        C("valid_from", "date", "First day the exception applies."),
        C("valid_to", "date", "Last day the exception applies; empty = open-ended.", nullable=True),
        C("runbook_id", "string", "Runbook the exception refers to."),
        C("section", "string", "Heading of the runbook section it refers to."),
        C("summary", "string", "Free-text description.", sensitive=True),
        C("recorded_at", "datetime", "When this version of the record was written (UTC)."),
    ),
    # Change-notification feed: one JSON object per line.
    "events": (
        C("event_id", "string", "Event id, e.g. EVT-000010."),
        C("type", "category", "Event type.", values=EVENT_TYPES),
        C("runbook_id", "string", "Runbook the event is about."),
        C("revision", "string", "Revision the event is about."),
        C("occurred_at", "datetime", "When the event happened (UTC)."),
        C("actor", "string", "Who triggered it (user id)."),
        C("content_sha256", "string", "sha256 of the revision file's bytes."),
    ),
}

del C

# --- loaders -------------------------------------------------------------------------------------

DEFAULT_DATA = Path(
    os.environ.get("DIGESTKIT_DATA") or Path(__file__).resolve().parents[1] / "data" / "sample"
)
"""Data directory used when none is given: ``data/sample``, or ``$DIGESTKIT_DATA`` if set."""

TimeLike = str | datetime | date | pd.Timestamp

#: Key of each table: ids are unique in the CRM; append-only tables are unique per version.
KEYS: dict[str, tuple[str, ...]] = {
    "revisions": ("runbook_id", "revision"),
    "accounts": ("account_id",),
    "contacts": ("contact_id",),
    "entitlements": ("entitlement_id",),
    "products": ("product_id", "recorded_at"),
    "teams": ("team", "recorded_at"),
    "known_issues": ("issue_id", "recorded_at"),
    "exceptions": ("exception_id", "recorded_at"),
    "events": ("event_id",),
}
_CRM_TABLES = ("accounts", "contacts", "entitlements")
_SOURCE_KEYS = ("runbooks", "crm_url", "registry", "exceptions", "feed", "gold")
FRONT_MATTER_KEYS = (
    "runbook_id",
    "revision",
    "title",
    "status",
    "supersedes",
    "approved_by",
    "published_at",
    "change_reason",
)
# Above this many values an IN (...) list is replaced by a temporary table: databases cap the
# number of bound parameters (SQLite: 32766) and giant IN lists plan badly.
MAX_IN_LIST = 500

Locate = Callable[[int], str]


@dataclass(frozen=True)
class DataSources:
    """Where each source system lives."""

    root: Path
    runbooks: Path  # folder repository, or a git repository (detected: contains .git)
    crm_url: str  # SQLAlchemy URL
    registry: Path  # folder with products.csv, teams.csv, known_issues.csv
    exceptions: Path  # register.csv
    feed: Path  # events.jsonl
    gold: Path | None

    @property
    def runbooks_are_git(self) -> bool:
        """Whether the runbook repository is a git repository rather than a folder."""
        return (self.runbooks / ".git").exists()


@dataclass(frozen=True)
class FeedLine:
    """One line of the change feed: the event if it is valid, otherwise what is wrong with it."""

    line_no: int
    event: dict[str, Any] | None
    error: str | None
    field: str | None = None
    text: str = ""
    partial: bool = False  # the last line, without its newline yet


def open_sources(data: str | Path | DataSources | None = None) -> DataSources:
    """Locate every source under ``data`` (default ``DEFAULT_DATA``), honouring sources.toml."""
    if isinstance(data, DataSources):
        return data
    root = Path(data or os.environ.get("DIGESTKIT_DATA") or DEFAULT_DATA).resolve()
    if not root.is_dir():
        raise SourceError(
            "data directory does not exist; pass --data or set DIGESTKIT_DATA", path=root
        )
    config: dict[str, Any] = {}
    toml_path = root / "sources.toml"
    if toml_path.exists():
        try:
            config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(f"not valid TOML: {exc}", path=toml_path) from exc
        for key, value in config.items():
            if key not in _SOURCE_KEYS:
                raise SourceError(
                    f"unknown key; known keys: {', '.join(_SOURCE_KEYS)}", path=toml_path, field=key
                )
            if not isinstance(value, str):
                raise SourceError("must be a string", path=toml_path, field=key)

    def place(key: str, default: str, *, kind: str) -> Path:
        path = root / config.get(key, default)
        exists = path.is_dir() if kind == "directory" else path.is_file()
        if not exists:
            where = f" (set by {toml_path.name})" if key in config else ""
            raise SourceError(f"{kind} for '{key}' not found{where}", path=path)
        return path

    runbooks = place("runbooks", "runbooks", kind="directory")
    registry = place("registry", "registry", kind="directory")
    exceptions = place("exceptions", "exceptions/register.csv", kind="file")
    feed = place("feed", "feed/events.jsonl", kind="file")
    gold = root / config.get("gold", "gold/labels.json")
    if not gold.is_file():
        if "gold" in config:
            raise SourceError("file for 'gold' not found (set by sources.toml)", path=gold)
        gold = None
    return DataSources(
        root=root,
        runbooks=runbooks,
        crm_url=_crm_url(root, config.get("crm_url")),
        registry=registry,
        exceptions=exceptions,
        feed=feed,
        gold=gold,
    )


def _crm_url(root: Path, configured: str | None) -> str:
    try:
        url = sa.make_url(configured or f"sqlite:///{root / 'crm.sqlite'}")
    except sa.exc.ArgumentError as exc:
        raise SourceError(
            f"not a SQLAlchemy URL: {exc}", path="sources.toml", field="crm_url"
        ) from exc
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # SQLite silently creates a missing file, so check it exists; relative paths mean root.
        database = root / url.database
        if not database.is_file():
            raise SourceError("CRM database not found", path=database, field="crm_url")
        url = url.set(database=str(database))
    return url.render_as_string(hide_password=False)


def _sources(src: str | Path | DataSources | None) -> DataSources:
    return src if isinstance(src, DataSources) else open_sources(src)


def sensitive_columns(table: str) -> tuple[str, ...]:
    """Columns of ``table`` that hold customer-sensitive data (never in outputs)."""
    return tuple(c.name for c in _schema(table) if c.sensitive)


def _schema(table: str) -> tuple[Column, ...]:
    try:
        return SCHEMAS[table]
    except KeyError:
        raise SourceError(f"unknown table '{table}'; known: {', '.join(SCHEMAS)}") from None


# --- validation ----------------------------------------------------------------------------------


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))[0])


def _check_header(names: Sequence[str], table: str, *, where: str, row: str | None) -> None:
    known = [c.name for c in SCHEMAS[table]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SourceError(
            f"unknown column; {table} has {', '.join(known)}", path=where, row=row, field=unknown[0]
        )
    missing = [n for n in known if n not in names]
    if missing:
        raise SourceError(
            f"missing column(s) {', '.join(missing)}", path=where, row=row, field=missing[0]
        )


def _coerce(frame: pd.DataFrame, table: str, *, where: str, locate: Locate) -> pd.DataFrame:
    """Convert the columns of ``frame`` that ``table`` declares to their dtypes, or raise."""
    frame = frame.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for col in SCHEMAS[table]:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
            raw = raw.mask(raw.astype("string") == "")  # an empty cell is null
        null = raw.isna()

        def fail(mask: pd.Series, problem: str, *, col: Column = col, raw: pd.Series = raw) -> None:
            pos = _first(mask)
            raise SourceError(
                f"{problem} (got {raw.iloc[pos]!r})", path=where, row=locate(pos), field=col.name
            )

        if not col.nullable and null.any():
            pos = _first(null)
            raise SourceError(
                "is empty but every row needs a value", path=where, row=locate(pos), field=col.name
            )
        if col.dtype == "string":
            out[col.name] = raw.astype("string")
        elif col.dtype in ("int", "float"):
            num = pd.to_numeric(raw, errors="coerce").astype("Float64")
            bad = ~null & num.isna()
            if col.dtype == "int":
                bad |= ~null & (num % 1 != 0)
            if bad.fillna(True).any():
                fail(
                    bad.fillna(True), f"is not {'an integer' if col.dtype == 'int' else 'a number'}"
                )
            out[col.name] = num.astype("Int64" if col.dtype == "int" else "Float64")
        elif col.dtype == "datetime":
            parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
            bad = ~null & parsed.isna()
            if bad.any():
                fail(bad, "is not an ISO-8601 timestamp such as 2024-05-01T09:30:00Z")
            out[col.name] = parsed
        elif col.dtype == "date":
            parsed = pd.to_datetime(raw.astype("string"), format="%Y-%m-%d", errors="coerce")
            bad = ~null & parsed.isna()
            if bad.any():
                fail(bad, "is not a date such as 2024-05-01")
            out[col.name] = parsed
        elif col.dtype == "category":
            text = raw.astype("string")
            bad = ~null & ~text.isin(col.values)
            if bad.any():
                fail(bad, f"is not one of {', '.join(col.values)}")
            out[col.name] = text.astype(pd.CategoricalDtype(col.values))
        else:  # a SCHEMAS entry with a dtype this function does not know is a programming error
            raise ValueError(f"unknown dtype {col.dtype!r} for {table}.{col.name}")
    return pd.DataFrame(out, index=frame.index)


def _check_unique(frame: pd.DataFrame, table: str, *, where: str, locate: Locate) -> None:
    keys = [k for k in KEYS[table] if k in frame.columns]
    dup = frame.duplicated(keys, keep="first")
    if dup.any():
        pos = _first(dup)
        same = (frame[keys] == frame[keys].iloc[pos]).all(axis=1)
        values = ", ".join(str(frame[k].iloc[pos]) for k in keys)
        raise SourceError(
            f"duplicate {' + '.join(keys)} ({values}); first seen at {locate(_first(same))}",
            path=where,
            row=locate(pos),
            field=keys[0],
        )


def _check_order(frame: pd.DataFrame, first: str, last: str, *, where: str, locate: Locate) -> None:
    bad = frame[last].notna() & (frame[last] < frame[first])
    if bad.any():
        pos = _first(bad)
        raise SourceError(f"is before {first}", path=where, row=locate(pos), field=last)


def _utc(value: TimeLike, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"not a timestamp: {value!r}", field=name) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --- runbook repository --------------------------------------------------------------------------


def load_revisions(
    src: str | Path | DataSources | None = None,
    *,
    runbook_id: str | None = None,
    as_of: TimeLike | None = None,
) -> pd.DataFrame:
    """Every revision of every runbook (or of ``runbook_id``), sorted by runbook_id and seq.

    ``seq`` orders a runbook's revisions by their ids in natural order (r2 < r10). With ``as_of``,
    revisions published after it are hidden; drafts (never published) stay, ``status`` says which.
    """
    sources = _sources(src)
    frame = _read_revisions(sources)
    if runbook_id is not None:
        if runbook_id not in set(frame["runbook_id"]):
            known = ", ".join(sorted(set(frame["runbook_id"])))
            raise RevisionError(
                f"unknown runbook '{runbook_id}' in {sources.runbooks}; known: {known}"
            )
        frame = frame[frame["runbook_id"] == runbook_id]
    if as_of is not None:
        frame = frame[~(frame["published_at"] > _utc(as_of, "as_of")).fillna(False)]
    return frame.reset_index(drop=True)


def get_revision(src: str | Path | DataSources | None, runbook_id: str, revision: str) -> pd.Series:
    """The one revision ``runbook_id``/``revision`` as a row of :func:`load_revisions`."""
    frame = load_revisions(src, runbook_id=runbook_id)
    match = frame[frame["revision"] == revision]
    if match.empty:
        known = ", ".join(
            f"{r} ({s})" for r, s in zip(frame["revision"], frame["status"], strict=True)
        )
        raise RevisionError(f"unknown revision '{revision}' of {runbook_id}; known: {known}")
    return match.iloc[0]


def crm_file(src: DataSources) -> Path | None:
    """The SQLite file behind the CRM URL; None for a database server (or an in-memory one)."""
    url = sa.make_url(src.crm_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def file_key(paths: Iterable[Path]) -> tuple:
    """What identifies the files' contents without reading them: path, size, times, inode."""
    out = []
    for path in paths:
        st = path.stat()
        out.append((str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def _cached(cache: dict, key: tuple, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    # Callers only filter or sort what they get (new frames), so the cached frame stays intact.
    if key not in cache:
        if len(cache) >= 16:
            cache.pop(next(iter(cache)))
        cache[key] = read()
    return cache[key]


_REVISIONS: dict[tuple, pd.DataFrame] = {}
_CSVS: dict[tuple, pd.DataFrame] = {}


def _read_revisions(sources: DataSources) -> pd.DataFrame:
    if sources.runbooks_are_git:
        return _parse_revisions(sources, _git_files(sources.runbooks))
    # Every digest and event reads the repository; parse it again only when a file changed.
    paths = sorted(sources.runbooks.glob("*/*.md"))

    def read() -> pd.DataFrame:
        root = sources.runbooks
        files = [
            (p.relative_to(root).as_posix(), str(p), p.parent.name, p.stem, p.read_bytes())
            for p in paths
        ]
        return _parse_revisions(sources, files)

    return _cached(_REVISIONS, (str(sources.runbooks), file_key(paths)), read)


def _parse_revisions(
    sources: DataSources, files: list[tuple[str, str, str, str | None, bytes]]
) -> pd.DataFrame:
    if not files:
        raise SourceError("no revision files found", path=sources.runbooks)
    rows = [
        _parse_revision(data, path=path, where=where, folder=folder, stem=stem)
        for path, where, folder, stem, data in files
    ]
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["runbook_id"], row["revision"])
        if key in seen:
            raise SourceError(
                f"duplicate runbook_id + revision {key}; also in {seen[key]['_where']}",
                path=row["_where"],
                row=f"front matter line {row['_revision_line']}",
                field="revision",
            )
        seen[key] = row
    for row in rows:
        if row["supersedes"] is not None and (row["runbook_id"], row["supersedes"]) not in seen:
            raise SourceError(
                f"supersedes unknown revision '{row['supersedes']}'",
                path=row["_where"],
                row=f"front matter line {row['_supersedes_line']}",
                field="supersedes",
            )
    rows.sort(key=lambda r: (r["runbook_id"], _natural_key(r["revision"])))
    frame = pd.DataFrame(rows)
    frame["seq"] = frame.groupby("runbook_id").cumcount() + 1
    frame = _coerce(
        frame, "revisions", where=str(sources.runbooks), locate=lambda i: frame["_where"].iloc[i]
    )
    return frame[[c.name for c in SCHEMAS["revisions"]]]


def _natural_key(revision: str) -> list[int | str]:
    # re.split with a group alternates text and digits, so equal positions compare like types.
    return [int(t) if i % 2 else t for i, t in enumerate(re.split(r"(\d+)", revision))]


def _parse_revision(
    data: bytes, *, path: str, where: str, folder: str, stem: str | None
) -> dict[str, Any]:
    """One revision file as a row; ``folder`` is the expected runbook_id, ``stem`` the revision."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})", path=where) from exc
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SourceError(
            "no front matter: the file must start with a '---' line",
            path=where,
            row="front matter line 1",
        )
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise SourceError(
            "front matter has no closing '---' line", path=where, row="front matter line 1"
        )
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        context = getattr(exc, "context_mark", None)
        if context is not None and context.line + 2 != line:
            line = f"{line} (in what starts on line {context.line + 2})"
        raise SourceError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}",
            path=where,
            row=f"front matter line {line}",
        ) from exc
    if not isinstance(meta, dict):
        raise SourceError(
            "front matter is not a YAML mapping", path=where, row="front matter line 2"
        )
    key_line = {}
    for i in range(1, end):
        match = re.match(r"([^\s:#][^:]*):", lines[i])
        if match:
            key_line.setdefault(match.group(1).strip(), i + 1)

    def fail(key: str, problem: str) -> None:
        raise SourceError(
            problem, path=where, row=f"front matter line {key_line.get(key, end + 1)}", field=key
        )

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            fail(str(key), f"unknown front matter key; known: {', '.join(FRONT_MATTER_KEYS)}")
    for key in FRONT_MATTER_KEYS:
        if key not in meta:
            fail(key, "missing front matter key")
        value = meta[key]
        nullable = key in ("supersedes", "approved_by", "published_at")
        if value is None and not nullable:
            fail(key, "is empty but is required")
        if value is not None and key != "published_at" and not isinstance(value, str):
            fail(key, f"must be text (quote it): got {value!r}")
    if meta["runbook_id"] != folder:
        fail("runbook_id", f"'{meta['runbook_id']}' does not match its location '{folder}'")
    if stem is not None and meta["revision"] != stem:
        fail("revision", f"'{meta['revision']}' does not match its file name '{stem}.md'")
    if meta["status"] not in REVISION_STATUSES:
        fail("status", f"'{meta['status']}' is not one of {', '.join(REVISION_STATUSES)}")
    published_at = meta["published_at"]
    if published_at is not None:
        try:
            published_at = _utc(published_at, "published_at").isoformat()
        except SourceError:
            fail("published_at", f"'{published_at}' is not an ISO-8601 timestamp")
    if meta["status"] == "published":
        for key in ("published_at", "approved_by"):
            if meta[key] is None:
                fail(key, "is empty but a published revision needs it")
    return {
        **meta,
        "published_at": published_at,
        "seq": None,
        "path": path,
        "_where": where,
        "sha256": hashlib.sha256(data).hexdigest(),
        "text": text,
        "_revision_line": key_line.get("revision", 1),
        "_supersedes_line": key_line.get("supersedes", 1),
    }


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


def _git_files(repo: Path) -> list[tuple[str, str, str, str | None, bytes]]:
    """(``commit:file``, where, runbook_id, None, bytes) of every committed .md file version."""
    log = _git(
        repo, "log", "--reverse", "--no-renames", "--raw", "--no-abbrev", "--format=commit %H"
    )
    versions: list[tuple[str, str, str]] = []
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
        files.append((f"{commit}:{name}", f"{repo} {commit}:{name}", name[:-3], None, data))
    return files


# --- CRM (any SQLAlchemy URL) --------------------------------------------------------------------

_TABLES = {
    name: sa.table(name, *(sa.column(c.name) for c in SCHEMAS[name])) for name in _CRM_TABLES
}


@functools.cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url)


def _crm_where(url: str, table: str) -> str:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return f"{Path(parsed.database).name}:{table}"
    return f"{parsed.render_as_string(hide_password=True)}:{table}"


def _catalog_sensitive(conn: sa.Connection, table: str) -> set[str]:
    """Columns the database's own column_catalog marks sensitive (if it has one)."""
    if not sa.inspect(conn).has_table("column_catalog"):
        return set()
    catalog = sa.table(
        "column_catalog", sa.column("table_name"), sa.column("column_name"), sa.column("sensitive")
    )
    rows = conn.execute(
        sa.select(catalog.c.column_name).where(
            catalog.c.table_name == table, catalog.c.sensitive == 1
        )
    )
    return {r[0] for r in rows}


def _read_crm(
    src: str | Path | DataSources | None,
    table: str,
    *,
    as_of: TimeLike | None,
    columns: Sequence[str] | None,
    include_sensitive: bool,
    conditions: Sequence[sa.ColumnElement[bool]] = (),
    in_lists: dict[str, Sequence[str] | None] | None = None,
) -> pd.DataFrame:
    """Select ``columns`` of ``table`` with every filter in the SQL, then validate the rows."""
    sources = _sources(src)
    where = _crm_where(sources.crm_url, table)
    t = _TABLES[table]
    id_col = KEYS[table][0]
    with _engine(sources.crm_url).connect() as conn:
        inspector = sa.inspect(conn)
        if not inspector.has_table(table):
            raise SourceError("table is missing from the CRM database", path=where)
        db_columns = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        _check_header(list(db_columns), table, where=where, row=None)
        sensitive = set(sensitive_columns(table)) | _catalog_sensitive(conn, table)
        names = [c.name for c in SCHEMAS[table]]
        if columns is None:
            wanted = [n for n in names if include_sensitive or n not in sensitive]
        else:
            for name in columns:
                if name not in names:
                    raise SourceError(
                        f"unknown column; {table} has {', '.join(names)}", path=where, field=name
                    )
                if name in sensitive and not include_sensitive:
                    raise SourceError(
                        "is sensitive; pass include_sensitive=True to read it",
                        path=where,
                        field=name,
                    )
            wanted = [n for n in names if n == id_col or n in columns]
        selected = wanted + (
            ["updated_at"] if as_of is not None and "updated_at" not in wanted else []
        )
        stmt = sa.select(*(t.c[n] for n in selected)).where(*conditions).order_by(t.c[id_col])
        if as_of is not None:
            stmt = stmt.where(
                t.c.updated_at <= _sql_bound(_utc(as_of, "as_of"), db_columns["updated_at"])
            )
        temp_tables = []
        try:
            for name, values in (in_lists or {}).items():
                if values is None:
                    continue
                values = sorted({str(v) for v in values})
                if len(values) <= MAX_IN_LIST:
                    stmt = stmt.where(t.c[name].in_(values))
                    continue
                temp = sa.Table(
                    f"digestkit_filter_{name}",
                    sa.MetaData(),
                    sa.Column("value", sa.String, primary_key=True),
                    prefixes=["TEMPORARY"],
                )
                temp.create(conn)
                temp_tables.append(temp)
                conn.execute(temp.insert(), [{"value": v} for v in values])
                stmt = stmt.where(t.c[name].in_(sa.select(temp.c.value)))
            frame = pd.read_sql_query(stmt, conn)
        finally:
            for temp in temp_tables:
                temp.drop(conn)
            if temp_tables:
                conn.commit()  # some drivers run DDL outside the transaction; make the drop stick
    ids = frame[id_col]
    frame = _coerce(frame, table, where=where, locate=lambda i: f"{id_col} {ids.iloc[i]}")
    _check_unique(frame, table, where=where, locate=lambda i: f"{id_col} {ids.iloc[i]}")
    if as_of is not None:
        # The SQL bound is coarse (whole seconds, text or native timestamps); this one is exact.
        frame = frame[frame["updated_at"] <= _utc(as_of, "as_of")]
    return frame[wanted].reset_index(drop=True)


def _sql_bound(as_of: pd.Timestamp, column_type: Any) -> Any:
    """An upper bound for ``updated_at <= as_of`` in the column's own representation.

    ISO text compares correctly as text only at equal precision, so the bound is the next whole
    second: it lets through every row at or before ``as_of`` (and a few after, filtered later).
    """
    bound = as_of.floor("s") + pd.Timedelta(seconds=1)
    if isinstance(column_type, sa.DateTime):
        return (
            bound.to_pydatetime()
            if column_type.timezone
            else bound.tz_localize(None).to_pydatetime()
        )
    return bound.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_tiers(tiers: Sequence[str] | None) -> None:
    unknown = [t for t in tiers or () if t not in TIERS]
    if unknown:
        raise SourceError(f"unknown tier '{unknown[0]}'; known: {', '.join(TIERS)}", field="tier")


def load_accounts(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    account_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """CRM accounts as they stood at ``as_of`` (updated_at <= as_of), filtered in SQL."""
    _check_tiers(tiers)
    t = _TABLES["accounts"]
    conditions = []
    if tiers is not None:
        conditions.append(t.c.tier.in_(list(tiers)))
    if approved_only:
        conditions.append(t.c.record_status == "approved")
    return _read_crm(
        src,
        "accounts",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        conditions=conditions,
        in_lists={"account_id": account_ids},
    )


def load_contacts(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    account_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """CRM contacts (names, e-mails and phones only with ``include_sensitive=True``)."""
    return _read_crm(
        src,
        "contacts",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        in_lists={"account_id": account_ids},
    )


def load_entitlements(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    product_ids: Sequence[str] | None = None,
    account_ids: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    active_on: TimeLike | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """Entitlements, filtered in SQL; ``active_on`` keeps those with starts_on <= day <= ends_on."""
    _check_tiers(tiers)
    t = _TABLES["entitlements"]
    conditions = []
    if tiers is not None:
        conditions.append(t.c.tier.in_(list(tiers)))
    if approved_only:
        conditions.append(t.c.record_status == "approved")
    if active_on is not None:
        day = _utc(active_on, "active_on").strftime("%Y-%m-%d")
        conditions += [t.c.starts_on <= day, t.c.ends_on >= day]
    frame = _read_crm(
        src,
        "entitlements",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        conditions=conditions,
        in_lists={"product_id": product_ids, "account_id": account_ids},
    )
    if {"starts_on", "ends_on"} <= set(frame.columns):
        ids = frame["entitlement_id"]
        _check_order(
            frame,
            "starts_on",
            "ends_on",
            where=_crm_where(_sources(src).crm_url, "entitlements"),
            locate=lambda i: f"entitlement_id {ids.iloc[i]}",
        )
    return frame


def count_entitlement_accounts(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    active_on: TimeLike | None = None,
    deviating_from_minutes: int | None = None,
    group_by: Sequence[str] = (),
    count_deviating_from: int | None = None,
) -> pd.DataFrame:
    """Distinct accounts with a matching entitlement, counted in SQL, per ``group_by`` group.

    ``deviating_from_minutes=N`` keeps entitlements whose terms differ from an N-minute initial
    response (another ``initial_response_minutes`` or any ``notification_variant``). Besides
    columns, ``group_by`` takes ``terms``: the notification variant, or "<N>-minute initial
    response" when there is none. ``count_deviating_from=N`` adds a ``deviating`` column: the
    accounts among them with such different terms, counted in the same scan. Nothing sensitive
    can be grouped by, and no row leaves the database: a digest only needs counts. Returns the
    ``group_by`` columns and ``accounts``.
    """
    _check_tiers(tiers)
    allowed = ("tier", "product_id", "notification_variant", "initial_response_minutes", "terms")
    for name in group_by:
        if name not in allowed:
            raise SourceError(f"cannot group by it; choose from {', '.join(allowed)}", field=name)
    sources = _sources(src)
    where = _crm_where(sources.crm_url, "entitlements")
    t = _TABLES["entitlements"]

    def deviates(minutes: int) -> sa.ColumnElement[bool]:
        return sa.or_(
            t.c.notification_variant.is_not(None), t.c.initial_response_minutes != int(minutes)
        )

    conditions: list[sa.ColumnElement[bool]] = []
    if tiers is not None:
        conditions.append(t.c.tier.in_(list(tiers)))
    if approved_only:
        # Nearly every record is approved: through its index that filter reads most of the table,
        # so it is written as an expression no index serves and the selective tier index is used.
        conditions.append(sa.func.coalesce(t.c.record_status, "") == "approved")
    if active_on is not None:
        day = _utc(active_on, "active_on").strftime("%Y-%m-%d")
        conditions += [t.c.starts_on <= day, t.c.ends_on >= day]
    if deviating_from_minutes is not None:
        conditions.append(deviates(deviating_from_minutes))
    terms = sa.func.coalesce(
        t.c.notification_variant,
        sa.cast(t.c.initial_response_minutes, sa.String) + "-minute initial response",
    ).label("terms")
    keys = [terms if name == "terms" else t.c[name] for name in group_by]
    counts = [sa.func.count(sa.distinct(t.c.account_id)).label("accounts")]
    if count_deviating_from is not None:
        deviating = sa.case((deviates(count_deviating_from), t.c.account_id), else_=None)
        counts.append(sa.func.count(sa.distinct(deviating)).label("deviating"))

    def count(extra: list[sa.ColumnElement[bool]], edge: Any = None) -> pd.DataFrame:
        columns = list(counts)
        if edge is not None:
            columns.append(
                sa.func.sum(sa.case((t.c.updated_at >= edge, 1), else_=0)).label("_edge")
            )
        stmt = sa.select(*keys, *columns).where(*conditions, *extra).group_by(*keys).order_by(*keys)
        return pd.read_sql_query(stmt, conn)

    with _engine(sources.crm_url).connect() as conn:
        if not sa.inspect(conn).has_table("entitlements"):
            raise SourceError("table is missing from the CRM database", path=where)
        if as_of is None:
            frame = count([])
        else:
            when = _utc(as_of, "as_of")
            column_type = {
                c["name"]: c["type"] for c in sa.inspect(conn).get_columns("entitlements")
            }["updated_at"]
            bound = _sql_bound(when, column_type)
            second = _sql_second(when, column_type)
            # The bound is the next whole second. The same scan counts the rows of as_of's own
            # second; only when there are some are they checked exactly in pandas, and those
            # really after as_of excluded by id in a second count.
            frame = count([t.c.updated_at <= bound], edge=second)
            if frame["_edge"].fillna(0).sum() > 0:
                edge = pd.read_sql_query(
                    sa.select(t.c.entitlement_id, t.c.updated_at).where(
                        t.c.updated_at >= second, t.c.updated_at <= bound
                    ),
                    conn,
                )
                stamps = pd.to_datetime(
                    edge["updated_at"], utc=True, errors="coerce", format="ISO8601"
                )
                late = edge.loc[~(stamps <= when), "entitlement_id"].astype(str).tolist()
                if late:
                    frame = count([t.c.updated_at <= bound, t.c.entitlement_id.not_in(late)])
            frame = frame.drop(columns="_edge", errors="ignore")
    if not group_by and frame.empty:
        frame = pd.DataFrame({name: [0] for name in frame.columns})
    for name in ("accounts", "deviating"):
        if name in frame:
            frame[name] = frame[name].astype("int64")
    return frame


def _sql_second(when: pd.Timestamp, column_type: Any) -> Any:
    """The start of ``when``'s second, comparable with the column (ISO text sorts by prefix)."""
    start = when.floor("s")
    if isinstance(column_type, sa.DateTime):
        return (
            start.to_pydatetime()
            if column_type.timezone
            else start.tz_localize(None).to_pydatetime()
        )
    return start.strftime("%Y-%m-%dT%H:%M:%S")


# --- registry and exception register (append-only CSV) -------------------------------------------


def _csv_locator(path: Path) -> Locate:
    """Map a data-row position to its file line (header = line 1), counting quoted newlines."""

    def locate(pos: int) -> str:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            start, seen = 1, -1
            for record in reader:
                if record:  # pandas skips blank lines, so they do not count as rows
                    if seen == pos:
                        return f"line {start}"
                    seen += 1
                start = reader.line_num + 1
        return f"line {pos + 2}"

    return locate


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    # Replays and bursts read the same registry and register for many as_of times.
    return _cached(_CSVS, (table, file_key([path])), lambda: _parse_csv(path, table))


def _parse_csv(path: Path, table: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, dtype="string", keep_default_na=False, na_values=[""], encoding="utf-8"
        )
    except pd.errors.EmptyDataError as exc:
        raise SourceError("file is empty; it needs at least the header line", path=path) from exc
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SourceError(
            f"not valid CSV: {exc}".strip(),
            path=path,
            row=f"line {line.group(1)}" if line else None,
        ) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})", path=path) from exc
    _check_header(list(frame.columns), table, where=str(path), row="line 1")
    locate = _csv_locator(path)
    frame = _coerce(frame, table, where=str(path), locate=locate)
    _check_unique(frame, table, where=str(path), locate=locate)
    return frame


def _latest(
    frame: pd.DataFrame, table: str, *, as_of: TimeLike | None, history: bool
) -> pd.DataFrame:
    id_col = KEYS[table][0]
    if as_of is not None:
        frame = frame[frame["recorded_at"] <= _utc(as_of, "as_of")]
    frame = frame.sort_values([id_col, "recorded_at"], kind="stable")
    if not history:
        frame = frame.drop_duplicates(id_col, keep="last")
    return frame.reset_index(drop=True)


def load_products(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each product's latest recorded version at ``as_of`` (every version with ``history=True``)."""
    path = _sources(src).registry / "products.csv"
    return _latest(_read_csv(path, "products"), "products", as_of=as_of, history=history)


def load_teams(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each team's latest recorded version at ``as_of`` (every version with ``history=True``)."""
    path = _sources(src).registry / "teams.csv"
    return _latest(_read_csv(path, "teams"), "teams", as_of=as_of, history=history)


def load_known_issues(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each known issue's latest recorded version at ``as_of`` (all with ``history=True``)."""
    path = _sources(src).registry / "known_issues.csv"
    return _latest(_read_csv(path, "known_issues"), "known_issues", as_of=as_of, history=history)


def load_exceptions(
    src: str | Path | DataSources | None = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """Each exception's latest version at ``as_of``; ``summary`` only with include_sensitive."""
    path = _sources(src).exceptions
    frame = _read_csv(path, "exceptions")
    _check_order(frame, "valid_from", "valid_to", where=str(path), locate=_csv_locator(path))
    frame = _latest(frame, "exceptions", as_of=as_of, history=history)
    if not include_sensitive:
        frame = frame.drop(columns=list(sensitive_columns("exceptions")))
    return frame


# --- change feed ---------------------------------------------------------------------------------

_EVENT_FIELDS = tuple(c.name for c in SCHEMAS["events"])
_SHA256 = re.compile(r"[0-9a-f]{64}")


_EVENT_IDS = ("event_id", "runbook_id", "revision", "actor")
_EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _event_problem(event: Any) -> tuple[str | None, str] | None:
    """(field, problem) for an invalid feed event, None for a valid one."""
    if not isinstance(event, dict):
        return None, f"not a JSON object but {type(event).__name__}"
    for key in event:
        if key not in _EVENT_FIELDS:
            named = key if _EVENT_ID.fullmatch(str(key)) else None
            return named, f"unknown field; events have {', '.join(_EVENT_FIELDS)}"
    # Reasons name the field and the rule, never the value: they are logged and kept.
    for key in _EVENT_FIELDS:
        if key not in event:
            return key, "missing field"
        if not isinstance(event[key], str) or not event[key].strip():
            return key, f"must be non-empty text, not {type(event[key]).__name__}"
    for key in _EVENT_IDS:
        if not _EVENT_ID.fullmatch(event[key]):
            return key, "is not an id (letters, digits, '.', '_', '-'; no spaces or slashes)"
    if event["type"] not in EVENT_TYPES:
        return "type", f"is not one of {', '.join(EVENT_TYPES)}"
    try:
        occurred = datetime.fromisoformat(event["occurred_at"])
    except ValueError:
        return "occurred_at", "is not an ISO-8601 timestamp"
    if occurred.tzinfo is None:
        return "occurred_at", "has no time zone (end it with Z)"
    if not _SHA256.fullmatch(event["content_sha256"]):
        return "content_sha256", "is not 64 lowercase hex digits"
    return None


def iter_feed(path: str | Path | DataSources | None = None) -> Iterator[FeedLine]:
    """Every non-blank line of the feed, in order; a bad line gives ``error`` instead of raising."""
    path = _sources(path).feed if path is None or isinstance(path, DataSources) else Path(path)
    if not Path(path).is_file():
        raise SourceError(
            "the change feed does not exist; pass --feed the events.jsonl of the feed", path=path
        )
    with Path(path).open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = _feed_line(line_no, raw)
            if line is not None:
                yield line


def _feed_line(line_no: int, raw: bytes) -> FeedLine | None:
    """The FeedLine of one raw line; None for a blank one."""
    # Only the last line can lack its newline: the writer may still be writing it.
    partial = not raw.endswith(b"\n")
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        error = f"not UTF-8 text (byte {exc.start})"
        return FeedLine(line_no, None, error, text=repr(raw.rstrip(b"\r\n")), partial=partial)
    if not text.strip():
        return None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        error = f"not valid JSON: {exc.msg} (column {exc.colno})"
        return FeedLine(line_no, None, error, text=text, partial=partial)
    problem = _event_problem(event)
    if problem is None:
        return FeedLine(line_no, event, None, text=text, partial=partial)
    field, message = problem
    error = f"field '{field}': {message}" if field else message
    return FeedLine(line_no, None, error, field=field, text=text, partial=partial)


def load_feed(src: str | Path | DataSources | None = None, *, strict: bool = True) -> pd.DataFrame:
    """The feed's events in file order; exact re-deliveries (same event twice) are dropped.

    ``strict`` raises on the first bad line or conflicting event_id; otherwise those are skipped.
    """
    path = _sources(src).feed
    events, lines, first_line = [], [], {}
    for line in iter_feed(path):
        if line.event is not None and line.event["event_id"] in first_line:
            earlier = events[first_line[line.event["event_id"]]]
            if earlier == line.event:
                continue
            if strict:
                raise SourceError(
                    f"event_id {line.event['event_id']} conflicts with line "
                    f"{lines[first_line[line.event['event_id']]]}",
                    path=path,
                    row=f"line {line.line_no}",
                    field="event_id",
                )
            continue
        if line.event is None:
            if strict:
                message = line.error or ""
                if line.field:
                    message = message.removeprefix(f"field '{line.field}': ")
                raise SourceError(message, path=path, row=f"line {line.line_no}", field=line.field)
            continue
        first_line[line.event["event_id"]] = len(events)
        events.append(line.event)
        lines.append(line.line_no)
    frame = pd.DataFrame(events, columns=list(_EVENT_FIELDS))
    return _coerce(frame, "events", where=str(path), locate=lambda i: f"line {lines[i]}")


# --- audit, summary, documentation ---------------------------------------------------------------


def snapshot_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a table's column names and values, independent of dtype backends and units."""
    text = frame.to_csv(
        index=False, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S.%fZ", na_rep="<NA>"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _span(series: pd.Series) -> str:
    values = series.dropna()
    if values.empty:
        return "-"
    fmt = "%Y-%m-%d" if series.dt.tz is None else "%Y-%m-%dT%H:%MZ"
    return f"{values.min().strftime(fmt)} .. {values.max().strftime(fmt)}"


def summarize(src: str | Path | DataSources | None = None) -> str:
    """A short human summary of every source: counts, revisions per runbook, date ranges."""
    sources = _sources(src)
    out = [f"data: {sources.root}"]
    revisions = load_revisions(sources)
    kind = "git repository" if sources.runbooks_are_git else "folder"
    out.append(f"runbooks ({kind} {sources.runbooks}): {len(revisions)} revisions")
    for runbook_id, group in revisions.groupby("runbook_id", sort=True):
        statuses = ", ".join(
            f"{r} {s}" for r, s in zip(group["revision"], group["status"], strict=True)
        )
        out.append(f"  {runbook_id}: {statuses}; published {_span(group['published_at'])}")
    with _engine(sources.crm_url).connect() as conn:
        for table in _CRM_TABLES:
            t = _TABLES[table]
            count, first, last = conn.execute(
                sa.select(sa.func.count(), sa.func.min(t.c.updated_at), sa.func.max(t.c.updated_at))
            ).one()
            out.append(f"crm {table}: {count} rows; updated {first} .. {last}")
    for name, frame in (
        ("products", load_products(sources, history=True)),
        ("teams", load_teams(sources, history=True)),
        ("known_issues", load_known_issues(sources, history=True)),
        ("exceptions", load_exceptions(sources, history=True)),
    ):
        ids = frame[KEYS[name][0]].nunique()
        out.append(
            f"{name}: {ids} ids, {len(frame)} versions; recorded {_span(frame['recorded_at'])}"
        )
    lines = list(iter_feed(sources.feed))
    good = load_feed(sources, strict=False)
    bad = [f"line {line.line_no}" for line in lines if line.error]
    out.append(
        f"feed: {len(lines)} lines, {len(good)} events, {len(lines) - len(good) - len(bad)} "
        f"re-delivered, {len(bad)} malformed ({', '.join(bad) or 'none'}); "
        f"occurred {_span(good['occurred_at'])}"
    )
    out.append(f"gold labels: {sources.gold or 'none'}")
    return "\n".join(out)


_WHERE = {
    "revisions": "`runbooks/<runbook_id>/<revision>.md` (YAML front matter + Markdown body)",
    "accounts": "CRM database (`crm.sqlite` or `crm_url`), table `accounts`",
    "contacts": "CRM database, table `contacts`",
    "entitlements": "CRM database, table `entitlements`",
    "products": "`registry/products.csv` (append-only)",
    "teams": "`registry/teams.csv` (append-only)",
    "known_issues": "`registry/known_issues.csv` (append-only)",
    "exceptions": "`exceptions/register.csv` (append-only)",
    "events": "`feed/events.jsonl` (one JSON object per line)",
}


def schema_markdown() -> str:
    """The source schemas as Markdown (docs/sources.md is this text)."""
    out = [
        "# Source schemas",
        "",
        "Generated from `digestkit.sources.SCHEMAS` by `digestkit.sources.schema_markdown()`;",
        "do not edit by hand. Timestamps are ISO-8601 UTC text ending in `Z`, dates `YYYY-MM-DD`,",
        "and an empty CSV cell is null. Sensitive columns (below, plus any column the CRM's",
        "`column_catalog` table marks `sensitive = 1`) are only read with `include_sensitive=True`",
        "and never appear in outputs.",
        "",
        "## Loading rules",
        "",
        f"- `sources.toml` (optional, in the data directory) may set {', '.join(_SOURCE_KEYS)};",
        "  paths (and relative `sqlite:///` paths) are relative to the data directory.",
        "- A revision file starts with YAML front matter holding exactly",
        f"  {', '.join(FRONT_MATTER_KEYS)}; `runbook_id` must match its folder",
        "  (git: its file name `<runbook_id>.md`) and `revision` its file name.",
        "  A git runbook repository gives one revision per committed version.",
        "- `seq` orders a runbook's revisions by revision id in natural order (r2 before r10).",
        "- `as_of`: revisions published later are hidden (drafts stay); CRM rows updated later",
        "  are hidden; append-only tables give, per id, the latest version recorded by then.",
        "- CRM filters (`as_of`, `tiers`, `approved_only`, `active_on`, `product_ids`,",
        f"  `account_ids`, `columns`) run in SQL; lists over {MAX_IN_LIST} ids use a temp table.",
        "- The feed is read line by line; an event delivered twice is kept once, a different",
        "  event reusing an event_id is an error (skipped when not strict).",
    ]
    for table, columns in SCHEMAS.items():
        out += [
            "",
            f"## {table}",
            "",
            f"Source: {_WHERE[table]}. Key: {', '.join(KEYS[table])}.",
            "",
            "| column | type | nullable | sensitive | description |",
            "|---|---|---|---|---|",
        ]
        for col in columns:
            dtype = f"{col.dtype}: {', '.join(col.values)}" if col.values else col.dtype
            out.append(
                f"| `{col.name}` | {dtype} | {'yes' if col.nullable else 'no'} | "
                f"{'yes' if col.sensitive else 'no'} | {col.doc} |"
            )
    return "\n".join(out) + "\n"
