"""What the sources hold, for people and records: a summary, content hashes, the schema docs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from digestkit.sources.config import SOURCE_KEYS, SourcesLike, resolve_sources
from digestkit.sources.crm import MAX_IN_LIST, crm_spans
from digestkit.sources.feed import iter_feed, load_feed
from digestkit.sources.register import load_exceptions
from digestkit.sources.registry import load_known_issues, load_products, load_teams
from digestkit.sources.runbooks import load_revisions
from digestkit.sources.schema import FRONT_MATTER_KEYS, KEYS, SCHEMAS
from digestkit.sources.validate import DAY_FORMAT

__all__ = ["schema_markdown", "snapshot_sha256", "summarize"]

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
    kind = "git repository" if sources.runbooks_are_git else "folder"
    out.append(f"runbooks ({kind} {sources.runbooks}): {len(revisions)} revisions")
    for runbook_id, group in revisions.groupby("runbook_id", sort=True):
        statuses = ", ".join(
            f"{r} {s}" for r, s in zip(group["revision"], group["status"], strict=True)
        )
        out.append(f"  {runbook_id}: {statuses}; published {_span(group['published_at'])}")
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
        "`column_catalog` table marks `sensitive = 1`) are only read with `include_sensitive=True`",
        "and never appear in outputs.",
        "",
        "## Loading rules",
        "",
        f"- `sources.toml` (optional, in the data directory) may set {', '.join(SOURCE_KEYS)};",
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


def _span(series: pd.Series[Any]) -> str:
    """``first .. last`` of a date or UTC-time column, to the day or minute; ``-`` if empty."""
    values = series.dropna()
    if values.empty:
        return "-"
    fmt = DAY_FORMAT if series.dt.tz is None else "%Y-%m-%dT%H:%MZ"
    return f"{values.min().strftime(fmt)} .. {values.max().strftime(fmt)}"
