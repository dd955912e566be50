"""The sources a brief cites, as a reader can check them, and the revision pages they link to.

Each ``[S#]`` shows the runbook lines it names, the registry row's or the exception's fields, or
a plain description of the CRM count; a runbook source links to its line on the revision page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digestkit import clock
from digestkit.brief.model import Cite, Context, QuotedSource
from digestkit.brief.wording import human_when, line_span, locator_lines, plain

__all__ = ["cites", "quote_sources", "revision_page"]

_SOURCE_LINES = 40  # longer runbook ranges (a whole revision) are read on the revision page
_EXCEPTION_FIELDS = ("exception_id", "product_id", "account_id", "kind", "handling", "status",
                     "valid_from", "valid_to", "section")  # fmt: skip
_PRODUCT_FIELDS = ("product_id", "product_name", "owning_team", "escalation_pager",
                   "last_verified_at", "status")  # fmt: skip


def cites(claim: Mapping[str, Any], refs: Mapping[tuple[str, str, str], str]) -> tuple[Cite, ...]:
    """The ``[S#]`` of each source ``claim`` cites; ``refs`` maps (system, id, locator) to S#."""
    out = []
    for s in claim.get("sources", []):
        ref = refs.get((s["system"], s["id"], s["locator"]))
        if ref is not None:
            out.append(Cite(ref, _source_label(s["system"], s["id"], s["locator"])))
    return tuple(out)


def _source_label(system: str, record: str, locator: str) -> str:
    span = locator_lines(locator)
    if system == "runbook" and span:
        return f"runbook {record}, {line_span(*span)}"
    if system == "crm":
        return "CRM entitlement count"
    return f"{system} {record}, {locator.replace('_', ' ')}"


def quote_sources(digest: Mapping[str, Any], ctx: Context) -> list[QuotedSource]:
    """Every source of ``digest`` with the lines, fields or description ``ctx`` has for it."""
    out = []
    for s in digest.get("sources", []):
        system, record, locator = s["system"], s["id"], s["locator"]
        span = locator_lines(locator)
        if system == "runbook" and span:
            text = ctx.texts.get(record)
            lines: tuple[tuple[int, str], ...] = ()
            more = 0
            if text is not None:
                all_lines = text.splitlines()
                wanted = range(span[0], min(span[1], len(all_lines)) + 1)
                lines = tuple((n, all_lines[n - 1]) for n in wanted[:_SOURCE_LINES])
                more = max(0, len(wanted) - _SOURCE_LINES)
            page = f"{ctx.pages}{record}.html#L{span[0]}" if ctx.pages is not None else None
            out.append(
                QuotedSource(s["ref"], system, record, line_span(*span), lines, more, page=page)
            )
        elif system == "registry":
            row = ctx.products.get(record, {})
            fields = tuple((f, _shown(row[f])) for f in _PRODUCT_FIELDS if f in row)
            if "owning_team" in row:
                fields += (("owning team name", ctx.teams.get(row["owning_team"], "—")),)
            out.append(
                QuotedSource(
                    s["ref"], "registry", record, f"field {locator}", fields=fields,
                    highlight=locator,
                )
            )  # fmt: skip
        elif system == "exceptions":
            row = ctx.exceptions.get(record, {})
            fields = tuple((f, _shown(row.get(f) or "—")) for f in _EXCEPTION_FIELDS if f in row)
            out.append(
                QuotedSource(
                    s["ref"], "exception register", record, f"field {locator}", fields=fields,
                    highlight=locator,
                )
            )  # fmt: skip
        else:
            out.append(
                QuotedSource(s["ref"], "CRM", record, "count", description=_crm_words(locator))
            )
    return out


def _shown(value: str) -> str:
    """A record's value for people: a midnight UTC time is a day (``valid_to``), others times."""
    if value.endswith("T00:00:00Z"):
        return plain(value[:10])
    return plain(value)


def _crm_words(locator: str) -> str:
    """The CRM count a locator names, in words (``tier=Premium;...;deviating``)."""
    parts = dict(p.split("=", 1) for p in locator.split(";") if "=" in p)
    active = parts.get("active_on")
    when = plain(active) if active else "the as-of date"
    what = (
        f"Accounts with an approved {parts.get('tier', '?')} entitlement active on {when}"
        if parts.get("record_status") == "approved"
        else f"Accounts with a {parts.get('tier', '?')} entitlement active on {when}"
    )
    if locator.endswith(";deviating"):
        what += ", of them those whose contract terms differ from the runbook's time"
    return what + ", counted in the CRM; no account is named."


def revision_page(runbook_id: str, revision: str, *, data: Any = None) -> dict[str, Any]:
    """What a revision page shows: the revision's header fields and its numbered lines."""
    from digestkit import minimize
    from digestkit import sources as src_mod

    src = src_mod.open_sources(data)
    row = src_mod.get_revision(src, runbook_id, revision)
    text = minimize.redact_text(str(row["text"]), src).text
    return {
        "ref": f"{runbook_id}@{revision}",
        "title": str(row["title"]),
        "runbook_id": runbook_id,
        "revision": revision,
        "status": str(row["status"]),
        "published": human_when(_iso(row.get("published_at"))),
        "lines": list(enumerate(text.splitlines(), start=1)),
    }


def _iso(value: Any) -> str | None:
    if value is None or value != value:
        return None
    if hasattr(value, "to_pydatetime"):
        return clock.format_utc(value.to_pydatetime())
    return str(value)
