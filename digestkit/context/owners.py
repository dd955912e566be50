"""Who owns each product the runbook names, and who is paged first, against the registry.

Ownership and first pagers are read from table rows and from prose
(:func:`digestkit.ownership.prose_statements`) alike. A disagreement with the registry is an
``ownership_conflict`` (never resolved here), an unverified registry record a
``stale_ownership`` flag, and an agreement in unchanged lines an ``ownership`` claim carried
forward.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pandas as pd

from digestkit.context.findings import Finding, StatedIn
from digestkit.context.reading import Reading
from digestkit.context.tables import Product, norm_name
from digestkit.ownership import ProseStatement, prose_statements
from digestkit.runbook import Unit

__all__ = ["ownership_findings"]


def ownership_findings(reading: Reading, stale_after_days: int) -> list[Finding]:
    """Paging paths, ownership and stale registry records: table rows first, then prose."""
    check = _Owners(reading)
    return check.table_rows(stale_after_days) + check.prose()


@lru_cache(maxsize=8)
def _statements(names: tuple[str, ...]) -> Callable[[str], tuple[ProseStatement, ...]]:
    """:func:`prose_statements` about the products ``names``, remembered per text: a replay reads
    the same paragraphs in many revisions against the same registry names."""

    @lru_cache(maxsize=16384)
    def statements(text: str) -> tuple[ProseStatement, ...]:
        return tuple(prose_statements(text, names))

    return statements


def _cell(unit: Unit, *words: str) -> tuple[str, str] | None:
    """The (header, value) of the first cell whose header contains one of ``words``."""
    for header, value in unit.cells.items():
        h = header.lower()
        if any(w in h for w in words):
            return header, value.strip().strip("`").strip()
    return None


def _calendar_days(since: pd.Timestamp, until: pd.Timestamp) -> int:
    """Whole calendar days from one date to the other, as exception expiry is counted."""
    return (until.date() - since.date()).days


class _Owners:
    def __init__(self, reading: Reading) -> None:
        self.r = reading
        self._table_owned: set[str] = set()  # product ids whose ownership a table row states

    def table_rows(self, stale_after_days: int) -> list[Finding]:
        r = self.r
        findings: list[Finding] = []
        stale_seen: set[str] = set()
        for unit in r.units(kinds=("table_row",)):
            product_cell = _cell(unit, "product", "service")
            if product_cell is None:
                continue
            if unit.key is None:  # the table's header row
                continue
            name = product_cell[1]
            product = r.product_by_name.get(norm_name(name))
            if product is None:
                findings.append(r.ambiguous(name, unit) or r.unknown("product", name, unit))
                continue
            for header, value in unit.cells.items():
                h = header.lower()
                if ("on-call" in h or "secondary" in h or "pager" in h) and value.strip():
                    pager = value.strip().strip("`")
                    if pager not in r.known_pagers:
                        findings.append(r.unknown("pager", pager, unit, column=header))
                    elif "primary" in h and pager != product.escalation_pager:
                        findings.append(self._pager_conflict(unit, product, pager, "table"))
            team_cell = _cell(unit, "team", "owner")
            if team_cell is not None:
                self._table_owned.add(product.product_id)
                findings += self._ownership(unit, product, team_cell[1])
            if product.product_id not in stale_seen:
                stale_seen.add(product.product_id)
                age = _calendar_days(product.last_verified_at, r.as_of)
                if age > stale_after_days:
                    findings.append(
                        Finding(
                            "stale_ownership",
                            f"Ownership of {product.product_name} ({product.product_id}) was last "
                            f"verified {age} days before {r.as_of:%Y-%m-%d} "
                            f"(threshold {stale_after_days} days).",
                            (
                                r.lines(unit),
                                r.registry(product.product_id, "last_verified_at"),
                            ),
                            {
                                "product_id": product.product_id,
                                "last_verified_at": product.last_verified_at.isoformat(),
                                "age_days": age,
                            },
                        )
                    )
        return findings

    def prose(self) -> list[Finding]:
        """Ownership and first-paging sentences, checked against the registry like table rows;
        each cites its own lines."""
        r = self.r
        findings: list[Finding] = []
        names = {p.product_name for p in r.product_by_name.values()} | {
            found[0].product_name for found in r.ambiguous_products.values()
        }
        statements = _statements(tuple(sorted(names)))
        for unit in r.units(kinds=("paragraph", "list_item", "blockquote")):
            for statement in statements(unit.norm):
                product = r.product_by_name.get(norm_name(statement.product))
                if product is None:  # a name several products carry
                    flag = r.ambiguous(statement.product, unit)
                    findings += [flag] if flag is not None else []
                    continue
                if statement.kind == "owner":
                    findings += self._ownership(unit, product, statement.value, "prose")
                elif statement.value not in r.known_pagers:
                    findings.append(r.unknown("pager", statement.value, unit))
                elif statement.value != product.escalation_pager:
                    findings.append(self._pager_conflict(unit, product, statement.value, "prose"))
        return findings

    def _ownership(
        self, unit: Unit, product: Product, team_name: str, stated_in: StatedIn = "table"
    ) -> list[Finding]:
        r = self.r
        team = r.team_by_display.get(norm_name(team_name))
        if team is None and team_name in r.team_display:
            team = team_name  # the runbook used the slug
        if team is None:
            return [r.unknown("team", team_name, unit)]
        if team != product.owning_team:
            registry_name = r.team_display.get(product.owning_team, product.owning_team)
            says = (
                f"The runbook assigns {product.product_name} to {team_name}"
                if stated_in == "table"
                else f"The runbook states in prose (lines {unit.lines[0]}-{unit.lines[1]}) "
                f"that {team_name} owns {product.product_name}"
            )
            return [
                Finding(
                    "ownership_conflict",
                    f"{says}; the registry lists {registry_name} ({product.owning_team}) as "
                    "owning team. Not resolved here: confirm with the product owner.",
                    (r.lines(unit), r.registry(product.product_id, "owning_team")),
                    {
                        "product_id": product.product_id,
                        "runbook_team": team,
                        "registry_team": product.owning_team,
                        "stated_in": stated_in,
                    },
                )
            ]
        # A sentence agreeing with a table row that says the same adds nothing to carry forward.
        if stated_in == "prose" and product.product_id in self._table_owned:
            return []
        if r.unchanged(unit):
            return [
                Finding(
                    "ownership",
                    f"{product.product_name} is owned by {team_name}, as in the registry.",
                    (r.lines(unit), r.registry(product.product_id, "owning_team")),
                    {"product_id": product.product_id, "team": team},
                )
            ]
        return []

    def _pager_conflict(
        self, unit: Unit, product: Product, pager: str, stated_in: StatedIn
    ) -> Finding:
        r = self.r
        where = (
            "" if stated_in == "table" else f" (in prose, lines {unit.lines[0]}-{unit.lines[1]})"
        )
        return Finding(
            "ownership_conflict",
            f"The runbook pages {pager} first for {product.product_name}{where}; the registry "
            f"lists {product.escalation_pager} as its escalation pager. "
            "Not resolved here: confirm with the product owner.",
            (r.lines(unit), r.registry(product.product_id, "escalation_pager")),
            {
                "product_id": product.product_id,
                "runbook_pager": pager,
                "registry_pager": product.escalation_pager,
                "stated_in": stated_in,
            },
        )
