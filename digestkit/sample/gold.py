"""The gold oracle: which changes and issues a correct digest reports for each published revision.

Changes come from the scenario's planted list, located by the rendered line spans; issues are
recomputed from the generated sources by simple rules, as of the revision's publication time.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pandas as pd

from digestkit.clock import format_utc, parse_utc
from digestkit.sample.markdown import Rendered
from digestkit.sample.scenario import Revision, S1State
from digestkit.sample.world import (
    BRIDGE_TITLE,
    S1,
    S1_TITLE,
    VARIANT_10MIN,
    Change,
    IssueKind,
    World,
)

__all__ = ["EXPIRING_WITHIN_DAYS", "STALE_AFTER_DAYS", "gold_labels"]

STALE_AFTER_DAYS = 90
EXPIRING_WITHIN_DAYS = 30


def _as_of(frame: pd.DataFrame, key: str, at: str) -> pd.DataFrame:
    """Latest row per ``key`` recorded at or before ``at`` (ISO text compares in time order)."""
    known = frame[frame["recorded_at"] <= at]
    return known.sort_values("recorded_at", kind="stable").groupby(key, sort=True).tail(1)


def _span(rendered: Rendered, key: str) -> list[int]:
    parts = key.split("+")
    return [rendered.spans[parts[0]][0], rendered.spans[parts[-1]][1]]


def _section_of(rendered: Rendered, title: str, line: int) -> list[str]:
    for heading, (first, last) in rendered.sections.values():
        if first <= line <= last:
            return [title, heading]
    return [title]


def _section_texts(rendered: Rendered) -> dict[str, str]:
    return {
        heading: "\n".join(rendered.lines[first - 1 : last])
        for heading, (first, last) in rendered.sections.values()
    }


#: One entry of the labels file, as JSON-ready values.
Label = dict[str, Any]


def _changes(title: str, old: Rendered, new: Rendered, planted: list[Change]) -> list[Label]:
    out = []
    for cls, kind, unit, key, ref in planted:
        old_lines = None if kind == "added" else _span(old, key)
        new_lines = None if kind == "removed" else _span(new, key)
        section = (
            _section_of(new, title, new_lines[0])
            if new_lines
            else _section_of(old, title, _span(old, key)[0])
        )
        out.append(
            {
                "class": cls,
                "kind": kind,
                "unit": unit,
                "section": section,
                "old_lines": old_lines,
                "new_lines": new_lines,
                "ref": ref,
            }
        )
    return out


SCOPE_CLAIM = re.compile(
    r"(Premium Plus|Premium|Standard)(?: tier)? accounts"
    r" receive an initial update within (\d+) minutes"
)
OPEN_MARKERS = ("TBD", "pending product-owner confirmation")


def _issues(
    runbook_id: str, state: S1State | None, new: Rendered, at: str, world: World
) -> list[Label]:
    """The planted issues that hold for one published revision as of ``at``, by simple rules."""
    title = S1_TITLE if runbook_id == S1 else BRIDGE_TITLE
    day = at[:10]
    soon = (date.fromisoformat(day) + timedelta(days=EXPIRING_WITHIN_DAYS)).isoformat()
    stale_before = format_utc(parse_utc(at) - timedelta(days=STALE_AFTER_DAYS))
    issues: list[Label] = []

    def issue(kind: IssueKind, ref: str | None, key: str | None, **extra: Any) -> None:
        lines = _span(new, key) if key else None
        section = _section_of(new, title, lines[0]) if lines else None
        issues.append({"kind": kind, "ref": ref, **extra, "section": section, "lines": lines})

    register = _as_of(world.register.rows, "exception_id", at).set_index("exception_id")
    headings = {heading for heading, _ in new.sections.values()}
    live = register[
        (register["status"] == "approved")
        & (register["runbook_id"] == runbook_id)
        & (register["valid_to"].isna() | (register["valid_to"] >= day))
    ]
    for eid in live.index[~live["section"].isin(headings)]:
        issue("orphaned_exception", eid, None, section_ref=live.at[eid, "section"])
    if state is not None:
        products = _as_of(world.registry.product_rows, "product_id", at).set_index("product_id")
        teams = _as_of(world.registry.team_rows, "team", at)
        pagers = set(teams["pager"]) | set(products["escalation_pager"])
        team_by_name = dict(zip(teams["display_name"], teams["team"], strict=True))
        for pid, (_, primary, secondary, _) in state.paging:
            verified = str(products.at[pid, "last_verified_at"])
            if verified < stale_before:
                issue("stale_ownership", pid, f"paging:{pid}", last_verified_at=verified)
            for pager in (primary, secondary):
                if pager not in pagers:
                    issue("unknown_reference", pager, f"paging:{pid}")
        for pid, (_, team_name, _) in state.ownership:
            if team_by_name.get(team_name) != products.at[pid, "owning_team"]:
                issue(
                    "ownership_conflict",
                    pid,
                    f"owner:{pid}",
                    registry_team=products.at[pid, "owning_team"],
                )
        approved = []
        for eid in state.exceptions:
            row = register.loc[eid] if eid in register.index else None
            if row is None or row["status"] != "approved":
                issue(
                    "exception_not_approved",
                    eid,
                    f"exc:{eid}",
                    status=None if row is None else row["status"],
                )
                continue
            approved.append(eid)
            if row["valid_to"] is not None and row["valid_to"] < day:
                issue("exception_expired", eid, f"exc:{eid}", valid_to=row["valid_to"])
            elif row["valid_to"] is not None and row["valid_to"] <= soon:
                issue("exception_expiring", eid, f"exc:{eid}", valid_to=row["valid_to"])
        groups = register.loc[approved].groupby(["account_id", "product_id"], sort=True)
        for (_, product), group in groups:
            if group["handling"].nunique() > 1:
                ids = sorted(group.index)
                issue("ambiguous_carve_out", str(product), f"exc:{ids[0]}+exc:{ids[-1]}", refs=ids)
        ent = world.crm.entitlements
        for key, text in state.scope:
            match = SCOPE_CLAIM.search(text)
            if not match:
                continue
            tier, minutes = match.group(1), int(match.group(2))
            faster = (
                (ent["tier"] == tier)
                & (ent["record_status"] == "approved")
                & (ent["starts_on"] <= day)
                & (ent["ends_on"] >= day)
                & (ent["updated_at"] <= at)
                & (
                    (ent["initial_response_minutes"] < minutes)
                    | (ent["notification_variant"] == VARIANT_10MIN)
                )
            )
            if faster.any():
                issue(
                    "unsupported_impact_assumption",
                    VARIANT_10MIN,
                    key,
                    tier=tier,
                    stated_minutes=minutes,
                    contradicting_entitlements=int(faster.sum()),
                )
        for key, text in state.open_questions:
            for marker in OPEN_MARKERS:
                if marker in text:
                    issue("open_question", marker, key)
    return sorted(issues, key=lambda i: (i["kind"], str(i["ref"]), i["lines"] or [0]))


def _entry(new: Revision, old: Revision | None, at: str, world: World) -> Label:
    meta = new.meta
    old_texts = _section_texts(old.rendered) if old else {}
    return {
        "runbook_id": meta.runbook_id,
        "revision": meta.revision,
        "baseline": old.meta.revision if old else None,
        "as_of": at,
        "changes": _changes(meta.title, old.rendered, new.rendered, new.changes) if old else [],
        "issues": _issues(meta.runbook_id, new.state, new.rendered, at, world),
        "unchanged_sections": [
            [meta.title, heading]
            for heading, text in _section_texts(new.rendered).items()
            if old_texts.get(heading) == text
        ],
    }


def gold_labels(plans: list[list[Revision]], world: World) -> dict[str, Any]:
    """The labels file: for every published revision, its changes against the previous published
    revision of the same runbook and its issues as of its publication."""
    revisions: dict[str, Label] = {}
    for plan in plans:
        baseline: Revision | None = None
        for revision in plan:
            at = revision.meta.published_at
            if revision.meta.status != "published" or at is None:  # drafts, withdrawn
                continue
            key = f"{revision.meta.runbook_id}@{revision.meta.revision}"
            revisions[key] = _entry(revision, baseline, at, world)
            baseline = revision
    return {
        "schema_version": 1,
        "thresholds": {
            "stale_after_days": STALE_AFTER_DAYS,
            "expiring_within_days": EXPIRING_WITHIN_DAYS,
        },
        "revisions": revisions,
    }
