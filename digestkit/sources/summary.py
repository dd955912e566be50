"""What the sources hold, for people and records: a summary, content hashes, the schema docs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from digestkit.sources.config import (
    DEFAULT_MAX_REVISION_BYTES,
    SOURCE_KEYS,
    SourcesLike,
    resolve_sources,
)
from digestkit.sources.crm import MAX_IN_LIST, crm_spans
from digestkit.sources.feed import iter_feed, load_feed
from digestkit.sources.register import load_exceptions
from digestkit.sources.registry import (
    NAMED_TABLES,
    load_known_issues,
    load_products,
    load_teams,
    name_conflicts,
)
from digestkit.sources.runbooks import load_revisions, revision_problems
from digestkit.sources.schema import FRONT_MATTER_KEYS, KEYS, SCHEMAS
from digestkit.sources.validate import DAY_FORMAT

__all__ = ["schema_markdown", "snapshot_sha256", "summarize"]

_WHERE = {
    "revisions": "`runbooks/<runbook_id>/<revision>.md` (YAML front matter + Markdown body),"
    " or a git repository",
    "accounts": "CRM database (`crm.sqlite` or `crm_url`), table `accounts`",
    "contacts": "CRM database, table `contacts`",
    "entitlements": "CRM database, table `entitlements`",
    "products": "`registry/products.csv` (append-only)",
    "teams": "`registry/teams.csv` (append-only)",
    "known_issues": "`registry/known_issues.csv` (append-only)",
    "exceptions": "`exceptions/register.csv` (append-only)",
    "cases": "CRM database, table `cases` (severity-one cases; optional: evaluation only)",
    "events": "`feed/events.jsonl` (one JSON object per line)",
}


def snapshot_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a table's column names and values, independent of dtype backends and units.

    Hashed from the values' bytes, column by column, without rendering the table as text: a
    replay hashes one context's tables per as-of time.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([str(name) for name in frame.columns]).encode("utf-8"))
    digest.update(len(frame).to_bytes(8, "little"))
    for name in frame.columns:
        for part in _column_bytes(frame[name]):
            digest.update(part)
    return digest.hexdigest()


def _column_bytes(column: pd.Series[Any]) -> Iterator[bytes]:
    """A column as bytes: which values are missing, a kind tag, then the values.

    Times are microseconds since the epoch (UTC for zone-aware columns) whatever the unit;
    numbers 64-bit; anything else text, as its lengths and its UTF-8 characters.
    """
    missing = column.isna().to_numpy(dtype=bool)
    yield np.packbits(missing).tobytes()
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        yield b"T" + _microseconds(column.dt.tz_convert(None))
    elif pd.api.types.is_datetime64_dtype(dtype):
        yield b"N" + _microseconds(column)
    elif pd.api.types.is_bool_dtype(dtype):
        yield b"B" + column.to_numpy(dtype="uint8", na_value=0).tobytes()
    elif pd.api.types.is_integer_dtype(dtype):
        yield b"I" + column.to_numpy(dtype="int64", na_value=0).tobytes()
    elif pd.api.types.is_float_dtype(dtype):
        yield b"F" + column.to_numpy(dtype="float64", na_value=0.0).tobytes()
    else:
        text = [str(value) for value in column.to_numpy(dtype=object, na_value="")]
        yield b"S" + np.fromiter(map(len, text), dtype="int64", count=len(text)).tobytes()
        yield "".join(text).encode("utf-8")


def _microseconds(times: pd.Series[Any]) -> bytes:
    values: np.ndarray[Any, np.dtype[np.int64]] = times.dt.as_unit("us").to_numpy().view("int64")
    return values.tobytes()


def summarize(src: SourcesLike = None) -> str:
    """A short human summary of every source: counts, revisions per runbook, date ranges."""
    sources = resolve_sources(src)
    out = [f"data: {sources.root}"]
    revisions = load_revisions(sources)
    problems = revision_problems(sources)
    kind = "git repository" if sources.runbooks_are_git else "folder"
    unread = f"; {len(problems)} file(s) not read (below)" if problems else ""
    out.append(f"runbooks ({kind} {sources.runbooks}): {len(revisions)} revisions{unread}")
    for runbook_id, group in revisions.groupby("runbook_id", sort=True):
        statuses = ", ".join(
            f"{r} {s}" for r, s in zip(group["revision"], group["status"], strict=True)
        )
        out.append(f"  {runbook_id}: {statuses}; published {_span(group['published_at'])}")
    out += [f"  problem: {problem.error}" for problem in problems]
    for table, span in crm_spans(sources).items():
        out.append(
            f"crm {table}: {span.rows} rows; updated {span.first_update} .. {span.last_update}"
        )
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
        if name in NAMED_TABLES:
            id_col, name_col = NAMED_TABLES[name]
            clashes = name_conflicts(frame.drop_duplicates(id_col, keep="last"), name)
            for _, group in clashes.groupby("name_key", sort=True):
                out.append(
                    f"  ambiguous: {len(group)} {name} named '{group[name_col].iloc[0]}' "
                    f"({', '.join(group[id_col])})"
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


def schema_markdown() -> str:
    """The source schemas as Markdown (docs/sources.md is this text)."""
    out = [
        "# Source schemas",
        "",
        "Generated from `digestkit.sources.SCHEMAS` by `digestkit.sources.schema_markdown()`;",
        "do not edit by hand. Timestamps are ISO-8601 UTC text ending in `Z`, dates `YYYY-MM-DD`,",
        "and an empty CSV cell is null. Sensitive columns (below, plus any column the CRM's",
        "`column_catalog` table marks `sensitive`: 1 or true, and any value but empty or a clear",
        "no such as 0 or false) are only read with `include_sensitive=True` and never appear in",
        "outputs.",
        "",
        "## Loading rules",
        "",
        f"- `sources.toml` (optional, in the data directory) may set {', '.join(SOURCE_KEYS)};",
        "  paths (and relative `sqlite:///` paths) are relative to the data directory.",
        "- A revision file starts with YAML front matter (no aliases) holding exactly",
        f"  {', '.join(FRONT_MATTER_KEYS)}. In a folder repository it is",
        "  `<runbook_id>/<revision>.md` and must say so. In a git repository (a work tree or a",
        "  bare one) any `.md` file anywhere whose front matter names a `runbook_id` or a",
        "  `revision` is one; other files (a README) are ignored. A revision's life (draft,",
        "  published, withdrawn, corrected) is successive commits of the main line (first",
        "  parents): the latest wins, and `as_of` reads each revision as its last commit by then",
        "  left it (uncommitted edits do not count). A shallow clone is refused: fetch the full",
        "  history (`git fetch --unshallow`).",
        "- A revision file over `max_revision_bytes` (default"
        f" {DEFAULT_MAX_REVISION_BYTES // 1024 // 1024} MiB), not UTF-8, with",
        "  broken front matter, or claiming a revision another file also claims is left out and",
        "  listed as a problem (`revision_problems`, `digestkit sources`); the other revisions",
        "  still load. Errors name the file, line, field and rule, never the value.",
        "- `seq` orders a runbook's revisions by revision id in natural order (r2 before r10).",
        "- `as_of`: revisions published later are hidden (drafts stay); CRM rows updated later",
        "  are hidden; append-only tables give, per id, the latest version recorded by then.",
        "- CRM filters (`as_of`, `tiers`, `approved_only`, `active_on`, `product_ids`,",
        "  `account_ids`, `columns`) run in SQL with values bound as each column's own type",
        "  (native DATE, TIMESTAMP, BOOLEAN in PostgreSQL; ISO text in SQLite); lists over",
        f"  {MAX_IN_LIST} ids use one array parameter in PostgreSQL (read-only replicas work),",
        "  a temporary table elsewhere. `postgresql://` URLs use psycopg 3:",
        "  `pip install 'digestkit[postgres]'`. A database fault (driver missing, server down,",
        "  unknown database, locked or corrupt file, lost connection) is a one-line error naming",
        "  the source (password masked) and what to do.",
        "- The sensitive-data screen asks the CRM only about a text's words, by a key of each",
        "  name's first and last word (`lookup_key`); `digestkit sources --index-sql sqlite` (or",
        "  `postgresql`) prints the indexes on those keys, which the sample CRM has. Without",
        "  them each lookup reads every name row.",
        "- Runbooks name products and teams by `product_name` / `display_name`, matched",
        "  ignoring case and runs of spaces; a name two ids carry is ambiguous: `name_conflicts`",
        "  lists every row carrying it, to be cited, never resolved by picking one.",
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


def _span(series: pd.Series[Any]) -> str:
    """``first .. last`` of a date or UTC-time column, to the day or minute; ``-`` if empty."""
    values = series.dropna()
    if values.empty:
        return "-"
    fmt = DAY_FORMAT if series.dt.tz is None else "%Y-%m-%dT%H:%MZ"
    return f"{values.min().strftime(fmt)} .. {values.max().strftime(fmt)}"
