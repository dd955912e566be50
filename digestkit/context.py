"""Context join: resolve a revision's references against the CRM, registry and exception register.

:func:`assess` reads the sources as they stood at ``as_of`` and returns typed :class:`Finding`
objects: assumptions carried forward, and flags (ownership conflicts, stale ownership, exception
problems, unsupported customer-impact assumptions, unknown references, open questions). Every
finding cites where its facts come from, in the revision's body: the front matter (its change
reason) is not what the runbook says. Ownership and first pagers are read from table rows and
from prose (:mod:`digestkit.ownership`) alike; an exception is in force from ``valid_from`` to
``valid_to``. Accounts are only ever counted, never named.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, partial
from typing import Any, Literal, NamedTuple, NotRequired, TypedDict, cast, get_args

import pandas as pd

from digestkit import sources as src_mod
from digestkit.ownership import prose_statements
from digestkit.runbook import Runbook, Unit

__all__ = [
    "CARRIED_KINDS",
    "EXPIRING_WITHIN_DAYS",
    "FLAG_KINDS",
    "STALE_AFTER_DAYS",
    "AmbiguousCarveOut",
    "AmbiguousCarveOutDetails",
    "CarriedKind",
    "ContextTables",
    "Details",
    "EntitlementCounts",
    "EntitlementDetails",
    "ExceptionDetails",
    "ExceptionStatus",
    "Finding",
    "FindingKind",
    "FindingPart",
    "FlagKind",
    "ImpactAssumptionDetails",
    "InForce",
    "Lookups",
    "OpenQuestionDetails",
    "OrphanedExceptionDetails",
    "OwnershipDetails",
    "PagerConflictDetails",
    "Product",
    "RedactionDetails",
    "ReferenceKind",
    "SourceRef",
    "StaleOwnershipDetails",
    "StatedIn",
    "System",
    "TeamConflictDetails",
    "UnchangedSectionsDetails",
    "UnknownReferenceDetails",
    "assess",
    "load_context",
    "quote",
]

STALE_AFTER_DAYS = 90
EXPIRING_WITHIN_DAYS = 30

System = Literal["runbook", "crm", "registry", "exceptions"]
"""The source system a :class:`SourceRef` points into."""
FlagKind = Literal[
    "ownership_conflict",
    "stale_ownership",
    "exception_not_approved",
    "exception_expired",
    "exception_expiring",
    "exception_not_in_force",
    "orphaned_exception",
    "ambiguous_carve_out",
    "unsupported_impact_assumption",
    "unknown_reference",
    "open_question",
    "customer_data_redacted",
]
CarriedKind = Literal["entitlement_assumption", "exception", "ownership", "unchanged_sections"]
FindingKind = FlagKind | CarriedKind
FindingPart = Literal["carried_forward", "open_questions", "flags"]
"""The digest parts a finding goes to (the changed steps come from the diff, not from here)."""
ReferenceKind = Literal["product", "pager", "team", "exception"]
# The register's vocabulary (sources.EXCEPTION_STATUSES), which sources validates on load.
ExceptionStatus = Literal["approved", "pending", "rejected", "revoked"]


# ``details`` of each finding kind: the JSON-ready ids and values its sentence was built from.
class UnchangedSectionsDetails(TypedDict):
    sections: list[list[str]]
    baseline_ref: str


class OwnershipDetails(TypedDict):
    product_id: str
    team: str


StatedIn = Literal["table", "prose"]
"""Where the runbook states an ownership or paging mapping: a table row or a sentence."""


class TeamConflictDetails(TypedDict):
    product_id: str
    runbook_team: str
    registry_team: str
    stated_in: StatedIn


class PagerConflictDetails(TypedDict):
    product_id: str
    runbook_pager: str
    registry_pager: str
    stated_in: StatedIn


class StaleOwnershipDetails(TypedDict):
    product_id: str
    last_verified_at: str
    age_days: int


class UnknownReferenceDetails(TypedDict):
    reference_kind: ReferenceKind
    value: str


class ExceptionDetails(TypedDict):
    """An exception the runbook references (carried forward, not approved, not in force yet,
    expired, expiring)."""

    exception_id: str
    status: ExceptionStatus
    valid_from: NotRequired[str]
    valid_to: NotRequired[str]


class OrphanedExceptionDetails(TypedDict):
    exception_id: str
    section: str


class AmbiguousCarveOutDetails(TypedDict):
    exception_ids: list[str]
    account_id: str
    product_id: str


class EntitlementDetails(TypedDict):
    tier: str
    minutes: int
    accounts: int


class ImpactAssumptionDetails(EntitlementDetails):
    deviating_accounts: int


class OpenQuestionDetails(TypedDict):
    markers: list[str]


class RedactionDetails(TypedDict):
    """Customer data replaced on one runbook line: what it was (kind and id, never the value)
    and what the digest shows instead."""

    line: int
    what: list[str]
    replaced_by: list[str]


Details = (
    UnchangedSectionsDetails
    | OwnershipDetails
    | TeamConflictDetails
    | PagerConflictDetails
    | StaleOwnershipDetails
    | UnknownReferenceDetails
    | ExceptionDetails
    | OrphanedExceptionDetails
    | AmbiguousCarveOutDetails
    | EntitlementDetails
    | ImpactAssumptionDetails
    | OpenQuestionDetails
    | RedactionDetails
)
"""What a finding's ``details`` holds, by kind (``details`` in the digest JSON)."""

FLAG_KINDS: tuple[FlagKind, ...] = get_args(FlagKind)
CARRIED_KINDS: tuple[CarriedKind, ...] = get_args(CarriedKind)

_MINUTES = re.compile(r"\bwithin\s+(\d+)\s*(?:minutes|mins?)\b", re.IGNORECASE)
_EXCEPTION_ID = re.compile(r"\bEXC-\d+\b")


@dataclass(frozen=True)
class SourceRef:
    """A pointer to the record or lines a statement rests on."""

    system: System
    id: str
    locator: str

    def to_dict(self) -> dict[str, str]:
        """The reference as in the digest JSON: system, id, locator."""
        return {"system": self.system, "id": self.id, "locator": self.locator}


@dataclass(frozen=True)
class Finding:
    """One statement about the revision's context, with its sources."""

    kind: FindingKind
    text: str
    sources: tuple[SourceRef, ...]
    details: Details

    @property
    def part(self) -> FindingPart:
        """Where the finding goes in the digest: carried forward, open questions or flags."""
        if self.kind in CARRIED_KINDS:
            return "carried_forward"
        return "open_questions" if self.kind == "open_question" else "flags"


class Product(NamedTuple):
    """A product's registry record, as the context checks read it."""

    product_id: str
    product_name: str
    owning_team: str
    escalation_pager: str
    last_verified_at: pd.Timestamp


class Lookups(NamedTuple):
    """The registry and register indexed for resolving a runbook's references."""

    product_by_name: dict[str, Product]  # normalized product name -> record
    team_by_display: dict[str, str]  # normalized display name -> team slug
    team_display: dict[str, str]  # team slug -> display name
    known_pagers: set[str]
    exceptions: pd.DataFrame  # indexed by exception_id


class EntitlementCounts(NamedTuple):
    """Approved, active entitlements of a tier, counted against a promised response time."""

    accounts: int
    deviating: int  # accounts with terms other than the promised minutes
    by_terms: pd.DataFrame  # deviating accounts per terms (columns terms, accounts)


class AmbiguousCarveOut(NamedTuple):
    """Exceptions in force that give one account and product different handlings."""

    account_id: str
    product_id: str
    exception_ids: tuple[str, ...]
    handling: tuple[str, ...]


class InForce(NamedTuple):
    """A runbook's approved, valid exceptions and the ambiguous carve-outs among them."""

    sections: pd.DataFrame  # exception_id, section, normed (normalized section title)
    ambiguous: list[AmbiguousCarveOut]


@dataclass(frozen=True)
class ContextTables:
    """The source records a digest reads, each as it stood at ``as_of``.

    Registry and register tables are small and loaded whole; entitlements stay in the CRM and
    are only counted (:meth:`entitlement_counts`), so a million accounts cost a few SQL counts.
    """

    as_of: pd.Timestamp
    products: pd.DataFrame
    teams: pd.DataFrame
    exceptions: pd.DataFrame
    sources: src_mod.DataSources

    @cached_property
    def lookups(self) -> Lookups:
        """The tables indexed for lookups; computed once, every digest of the context shares it."""
        return _lookups(self)

    def in_force(self, runbook_id: str) -> InForce:
        """The runbook's approved, valid exceptions (see :class:`InForce`), once per runbook."""
        return self._in_force(runbook_id)

    def entitlement_counts(self, tier: str, minutes: int) -> EntitlementCounts:
        """Accounts with approved, active ``tier`` entitlements and, of them, those whose terms
        are other than ``minutes`` minutes (in all and per terms)."""
        return self._entitlement_counts(tier, minutes)

    # Caches that live and die with the context (a digest's context cache decides how long).
    @cached_property
    def _in_force(self) -> Callable[[str], InForce]:
        return cache(partial(_in_force, self))

    @cached_property
    def _entitlement_counts(self) -> Callable[[str, int], EntitlementCounts]:
        return cache(partial(_count_entitlements, self))

    @cached_property
    def _table_hashes(self) -> dict[str, str]:
        # A cached context serves many digests: hash its tables once.
        return {
            name: src_mod.snapshot_sha256(getattr(self, name))
            for name in ("products", "teams", "exceptions")
        }

    def snapshot_hashes(self, counts_used: Iterable[tuple[str, int]]) -> dict[str, str]:
        """sha256 of every table read; entitlements as the counts of ``counts_used``."""
        rows = []
        for tier, minutes in sorted(set(counts_used)):
            total, deviating, by_terms = self.entitlement_counts(tier, minutes)
            terms = ";".join(f"{a}={b}" for a, b in by_terms.itertuples(index=False))
            rows.append(
                {"tier": tier, "minutes": minutes, "accounts": total, "deviating": deviating,
                 "terms": terms}
            )  # fmt: skip
        counts = pd.DataFrame(
            rows,
            columns=["tier", "minutes", "accounts", "deviating", "terms"],
        )
        return {**self._table_hashes, "entitlements": src_mod.snapshot_sha256(counts)}


def _count_entitlements(context: ContextTables, tier: str, minutes: int) -> EntitlementCounts:
    count = src_mod.count_entitlement_accounts
    as_of = context.as_of
    # One scan counts the accounts and, of them, those with other terms (an account may deviate
    # in two ways, so the per-terms counts below need not add up to it).
    first = count(
        context.sources,
        as_of=as_of,
        tiers=[tier],
        approved_only=True,
        active_on=as_of,
        count_deviating_from=minutes,
    ).iloc[0]
    total, deviating = int(first["accounts"]), int(first["deviating"])
    if int(first["deviating_terms"]) == 1:
        # One other terms: the deviating accounts are its accounts, so no second scan.
        by_terms = pd.DataFrame(
            {"terms": [str(first["deviating_term"])], "accounts": [deviating]}
        ).astype({"accounts": "int64"})
    elif deviating:
        by_terms = count(
            context.sources,
            as_of=as_of,
            tiers=[tier],
            approved_only=True,
            active_on=as_of,
            deviating_from_minutes=minutes,
            group_by=["terms"],
        )
    else:
        by_terms = pd.DataFrame(columns=["terms", "accounts"])
    return EntitlementCounts(total, deviating, by_terms)


def load_context(sources: src_mod.DataSources, *, as_of: pd.Timestamp) -> ContextTables:
    """The registry and exception register as of ``as_of``; entitlements are counted on demand."""
    return ContextTables(
        as_of=as_of,
        products=src_mod.load_products(sources, as_of=as_of),
        teams=src_mod.load_teams(sources, as_of=as_of),
        exceptions=src_mod.load_exceptions(sources, as_of=as_of),
        sources=sources,
    )


def assess(
    new: Runbook,
    *,
    revision_ref: str,
    runbook_id: str,
    context: ContextTables,
    changed_lines: Iterable[tuple[int, int]] = (),
    changed_sections: Iterable[Sequence[str]] = (),
    baseline: Runbook | None = None,
    baseline_ref: str | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
    expiring_within_days: int = EXPIRING_WITHIN_DAYS,
) -> list[Finding]:
    """Resolve every reference of ``new`` against the context and return the findings.

    ``changed_lines`` are the new-side line ranges the diff reported and ``changed_sections``
    the heading paths of every change (removals included); statements inside them are not
    "carried forward" (they are reported as changes instead).
    """
    resolver = _Resolver(new, revision_ref, runbook_id, context, list(changed_lines), baseline)
    findings: list[Finding] = []
    if baseline is not None and baseline_ref is not None:
        findings += resolver.unchanged_sections(baseline_ref, changed_sections)
    findings += resolver.paging_and_ownership(stale_after_days)
    findings += resolver.prose_ownership()
    findings += resolver.referenced_exceptions(expiring_within_days)
    findings += resolver.register_problems()
    findings += resolver.impact_assumptions()
    findings += resolver.open_questions()
    return findings


def quote(text: str, limit: int = 90) -> str:
    """Runbook ``text`` on one line, cut at a word boundary to fit ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


_LIST_MARKER = re.compile(r"\s*(?:\d+[.)]|[-*+])\s+")


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _cell(unit: Unit, *words: str) -> tuple[str, str] | None:
    """The (header, value) of the first cell whose header contains one of ``words``."""
    for header, value in unit.cells.items():
        h = header.lower()
        if any(w in h for w in words):
            return header, value.strip().strip("`").strip()
    return None


def _lookups(context: ContextTables) -> Lookups:
    products, teams = context.products, context.teams
    records = products[list(Product._fields)].itertuples(index=False, name=None)
    product_by_name = {
        _norm(n): Product(*row) for n, row in zip(products["product_name"], records, strict=True)
    }
    team_by_display = {
        _norm(n): t for n, t in zip(teams["display_name"], teams["team"], strict=True)
    }
    team_display = dict(zip(teams["team"], teams["display_name"], strict=True))
    known_pagers = set(products["escalation_pager"]) | set(teams["pager"])
    exceptions = context.exceptions.set_index("exception_id", drop=False)
    return Lookups(product_by_name, team_by_display, team_display, known_pagers, exceptions)


def _in_force(context: ContextTables, runbook_id: str) -> InForce:
    """The runbook's approved, valid exceptions (id, section, normalized section), and the
    (account, product, ids, handlings) of those that give one account and product two handlings.

    Both depend on the context only, so a replay computes them once per runbook and as_of.
    """
    exc = context.exceptions
    as_of = context.as_of
    today = as_of.tz_localize(None).normalize() if as_of.tzinfo else as_of
    in_force = exc[
        (exc["runbook_id"] == runbook_id)
        & (exc["status"] == "approved")
        & (exc["valid_from"] <= today)
        & (exc["valid_to"].isna() | (exc["valid_to"] >= today))
    ]
    sections = in_force[["exception_id", "section"]].astype(object)
    normed = {title: _norm(title) for title in sections["section"].unique()}
    sections = sections.assign(normed=sections["section"].map(normed))
    groups = in_force.groupby(["account_id", "product_id"], sort=True)["handling"].nunique()
    keys = groups[groups > 1].index
    candidates = in_force[
        pd.MultiIndex.from_frame(in_force[["account_id", "product_id"]]).isin(keys)
    ]
    ambiguous = []
    for account_id, product_id in keys:
        same = candidates[
            (candidates["account_id"] == account_id) & (candidates["product_id"] == product_id)
        ].sort_values("exception_id")
        handling = tuple(sorted(set(same["handling"])))
        ambiguous.append(
            AmbiguousCarveOut(account_id, product_id, tuple(same["exception_id"]), handling)
        )
    return InForce(sections, ambiguous)


def _calendar_days(since: pd.Timestamp, until: pd.Timestamp) -> int:
    """Whole calendar days from one date to the other, as exception expiry is counted."""
    return (until.date() - since.date()).days


class _Resolver:
    def __init__(
        self,
        new: Runbook,
        revision_ref: str,
        runbook_id: str,
        context: ContextTables,
        changed: list[tuple[int, int]],
        baseline: Runbook | None,
    ) -> None:
        self.new = new
        self.ref = revision_ref
        self.runbook_id = runbook_id
        self.ctx = context
        self.as_of = context.as_of
        self.baseline = baseline
        lookups = context.lookups
        self.product_by_name = lookups.product_by_name
        self.team_by_display = lookups.team_by_display
        self.team_display = lookups.team_display
        self.known_pagers = lookups.known_pagers
        self.exceptions = lookups.exceptions
        # Changed line ranges, sorted with running maxima of their ends: an overlap test is one
        # bisection, not a scan of every change (large diffs have thousands).
        spans = sorted(changed)
        self._starts = [a for a, _ in spans]
        self._reach = list(itertools.accumulate((b for _, b in spans), max))
        # Only the body states what the runbook says: an id named in the front matter's
        # change_reason is not "referenced by the runbook" (the header reports the reason).
        self.body = tuple(u for u in new.units if u.kind != "front_matter")
        self._table_owned: set[str] = set()  # product ids whose ownership a table row states

    # -- citations -------------------------------------------------------------------------
    def lines(self, unit: Unit) -> SourceRef:
        return SourceRef("runbook", self.ref, f"L{unit.lines[0]}-L{unit.lines[1]}")

    def registry(self, product_id: str, locator: str) -> SourceRef:
        return SourceRef("registry", product_id, locator)

    def exception(self, exception_id: str, locator: str) -> SourceRef:
        return SourceRef("exceptions", exception_id, locator)

    def body_lines(self) -> SourceRef:
        """The whole body, front matter excluded: what "this revision does not have" rests on."""
        first = min((u.lines[0] for u in self.body), default=1)
        return SourceRef("runbook", self.ref, f"L{first}-L{max(first, self.new.line_count)}")

    def untouched(self, lines: tuple[int, int]) -> bool:
        first, last = lines
        # Changes starting at or before ``last`` overlap when one of them reaches ``first``.
        n = bisect.bisect_right(self._starts, last)
        return n == 0 or self._reach[n - 1] < first

    def unchanged(self, unit: Unit) -> bool:
        return self.untouched(unit.lines)

    def units(self, *title_words: str, kinds: tuple[str, ...] = ()) -> list[Unit]:
        out = []
        for unit in self.body:
            title = unit.section[-1].lower() if unit.section else ""
            if (not title_words or any(w in title for w in title_words)) and (
                not kinds or unit.kind in kinds
            ):
                out.append(unit)
        return out

    def unchanged_sections(
        self, baseline_ref: str, changed_sections: Iterable[Sequence[str]]
    ) -> list[Finding]:
        touched = {tuple(path) for path in changed_sections}
        sections = [
            s
            for s in self.new.sections
            if len(s.path) == 2
            and not any(path[: len(s.path)] == s.path for path in touched)
            and self.untouched(s.lines)
        ]
        if not sections:
            return []
        names = ", ".join(s.title for s in sections)
        baseline = baseline_ref.rsplit("@", 1)[-1]
        return [
            Finding(
                "unchanged_sections",
                f"Unchanged since {baseline}: {names}.",
                tuple(
                    SourceRef("runbook", self.ref, f"L{s.lines[0]}-L{s.lines[1]}") for s in sections
                ),
                {"sections": [list(s.path) for s in sections], "baseline_ref": baseline_ref},
            )
        ]

    # -- paging paths and ownership boundaries ----------------------------------------------
    def paging_and_ownership(self, stale_after_days: int) -> list[Finding]:
        findings: list[Finding] = []
        stale_seen: set[str] = set()
        for unit in self.units(kinds=("table_row",)):
            product_cell = _cell(unit, "product", "service")
            if product_cell is None:
                continue
            if unit.key is None:  # the table's header row
                continue
            name = product_cell[1]
            product = self.product_by_name.get(_norm(name))
            if product is None:
                findings.append(self._unknown("product", name, unit))
                continue
            for header, value in unit.cells.items():
                h = header.lower()
                if ("on-call" in h or "secondary" in h or "pager" in h) and value.strip():
                    pager = value.strip().strip("`")
                    if pager not in self.known_pagers:
                        findings.append(self._unknown("pager", pager, unit, column=header))
                    elif "primary" in h and pager != product.escalation_pager:
                        findings.append(self._pager_conflict(unit, product, pager, "table"))
            team_cell = _cell(unit, "team", "owner")
            if team_cell is not None:
                self._table_owned.add(product.product_id)
                findings += self._ownership(unit, product, team_cell[1])
            if product.product_id not in stale_seen:
                stale_seen.add(product.product_id)
                age = _calendar_days(product.last_verified_at, self.as_of)
                if age > stale_after_days:
                    findings.append(
                        Finding(
                            "stale_ownership",
                            f"Ownership of {product.product_name} ({product.product_id}) was last "
                            f"verified {age} days before {self.as_of:%Y-%m-%d} "
                            f"(threshold {stale_after_days} days).",
                            (
                                self.lines(unit),
                                self.registry(product.product_id, "last_verified_at"),
                            ),
                            {
                                "product_id": product.product_id,
                                "last_verified_at": product.last_verified_at.isoformat(),
                                "age_days": age,
                            },
                        )
                    )
        return findings

    def _ownership(
        self, unit: Unit, product: Product, team_name: str, stated_in: StatedIn = "table"
    ) -> list[Finding]:
        team = self.team_by_display.get(_norm(team_name))
        if team is None and team_name in self.team_display:
            team = team_name  # the runbook used the slug
        if team is None:
            return [self._unknown("team", team_name, unit)]
        if team != product.owning_team:
            registry_name = self.team_display.get(product.owning_team, product.owning_team)
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
                    (self.lines(unit), self.registry(product.product_id, "owning_team")),
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
        if self.unchanged(unit):
            return [
                Finding(
                    "ownership",
                    f"{product.product_name} is owned by {team_name}, as in the registry.",
                    (self.lines(unit), self.registry(product.product_id, "owning_team")),
                    {"product_id": product.product_id, "team": team},
                )
            ]
        return []

    def _pager_conflict(
        self, unit: Unit, product: Product, pager: str, stated_in: StatedIn
    ) -> Finding:
        where = (
            "" if stated_in == "table" else f" (in prose, lines {unit.lines[0]}-{unit.lines[1]})"
        )
        return Finding(
            "ownership_conflict",
            f"The runbook pages {pager} first for {product.product_name}{where}; the registry "
            f"lists {product.escalation_pager} as its escalation pager. "
            "Not resolved here: confirm with the product owner.",
            (self.lines(unit), self.registry(product.product_id, "escalation_pager")),
            {
                "product_id": product.product_id,
                "runbook_pager": pager,
                "registry_pager": product.escalation_pager,
                "stated_in": stated_in,
            },
        )

    def prose_ownership(self) -> list[Finding]:
        """Ownership and first-paging sentences (:mod:`digestkit.ownership`), checked against
        the registry like table rows; each cites its own lines."""
        findings: list[Finding] = []
        names = tuple(p.product_name for p in self.product_by_name.values())
        for unit in self.units(kinds=("paragraph", "list_item", "blockquote")):
            for statement in prose_statements(unit.norm, names):
                product = self.product_by_name[_norm(statement.product)]
                if statement.kind == "owner":
                    findings += self._ownership(unit, product, statement.value, "prose")
                elif statement.value not in self.known_pagers:
                    findings.append(self._unknown("pager", statement.value, unit))
                elif statement.value != product.escalation_pager:
                    findings.append(self._pager_conflict(unit, product, statement.value, "prose"))
        return findings

    def _unknown(
        self, what: ReferenceKind, value: str, unit: Unit, column: str | None = None
    ) -> Finding:
        where = f" ({column})" if column else ""
        table = "exception register" if what == "exception" else "registry"
        return Finding(
            "unknown_reference",
            f"The runbook names {what} {value}{where}, which the {table} does not list "
            f"as of {self.as_of:%Y-%m-%d}.",
            (self.lines(unit),),
            {"reference_kind": what, "value": value},
        )

    # -- exceptions ---------------------------------------------------------------------------
    def referenced_exception_units(self) -> dict[str, Unit]:
        found: dict[str, Unit] = {}
        for unit in self.body:
            for fact in unit.facts:
                if fact.kind == "exception":
                    found.setdefault(fact.value, unit)
            for match in _EXCEPTION_ID.findall(unit.text):
                found.setdefault(match, unit)
        return found

    def referenced_exceptions(self, expiring_within_days: int) -> list[Finding]:
        findings: list[Finding] = []
        for exc_id, unit in sorted(self.referenced_exception_units().items()):
            if exc_id not in self.exceptions.index:
                findings.append(self._unknown("exception", exc_id, unit))
                continue
            exc = self.exceptions.loc[exc_id]
            cite = (self.lines(unit), self.exception(exc_id, "status"))
            status = cast(ExceptionStatus, str(exc["status"]))
            details: ExceptionDetails = {"exception_id": exc_id, "status": status}
            if exc["status"] != "approved":
                findings.append(
                    Finding(
                        "exception_not_approved",
                        f"The runbook references exception {exc_id}, whose register status is "
                        f"{exc['status']} as of {self.as_of:%Y-%m-%d}.",
                        cite,
                        details,
                    )
                )
                continue
            valid_from: Any = exc["valid_from"]  # a date: the register requires it
            start = pd.Timestamp(valid_from).date()
            if start > self.as_of.date():
                details["valid_from"] = start.isoformat()
                findings.append(
                    Finding(
                        "exception_not_in_force",
                        f"The runbook references exception {exc_id}, which is approved but not "
                        f"in force yet: it applies from {start.isoformat()} "
                        f"({(start - self.as_of.date()).days} days after {self.as_of:%Y-%m-%d}).",
                        (self.lines(unit), self.exception(exc_id, "valid_from")),
                        details,
                    )
                )
                continue
            valid_to: Any = exc["valid_to"]  # a date, or NaT for an open-ended exception
            if pd.notna(valid_to):
                end = pd.Timestamp(valid_to).date()
                days_left = (end - self.as_of.date()).days
                details["valid_to"] = end.isoformat()
                cite = (self.lines(unit), self.exception(exc_id, "valid_to"))
                if days_left < 0:
                    findings.append(
                        Finding(
                            "exception_expired",
                            f"The runbook references exception {exc_id}, which expired on "
                            f"{end.isoformat()}.",
                            cite,
                            details,
                        )
                    )
                    continue
                if days_left <= expiring_within_days:
                    findings.append(
                        Finding(
                            "exception_expiring",
                            f"Exception {exc_id}, referenced by the runbook, expires on "
                            f"{end.isoformat()} ({days_left} days after "
                            f"{self.as_of:%Y-%m-%d}).",
                            cite,
                            details,
                        )
                    )
                    continue
            if self.unchanged(unit):
                findings.append(
                    Finding(
                        "exception",
                        f"Exception {exc_id} ({exc['kind']}, {exc['product_id']}) is "
                        f"{'still ' if self.baseline is not None else ''}approved and in force.",
                        (self.lines(unit), self.exception(exc_id, "status")),
                        details,
                    )
                )
        return findings

    def register_problems(self) -> list[Finding]:
        """Orphaned and ambiguous carve-outs among the runbook's approved, valid exceptions."""
        sections, ambiguous = self.ctx.in_force(self.runbook_id)
        findings: list[Finding] = []
        titles = {_norm(s.title) for s in self.new.sections}
        old_titles = {_norm(s.title) for s in self.baseline.sections} if self.baseline else set()
        orphaned = sections[~sections["normed"].isin(titles)]
        for row in orphaned.itertuples():
            how = "removed or renamed" if row.normed in old_titles else "missing"
            findings.append(
                Finding(
                    "orphaned_exception",
                    f"Approved exception {row.exception_id} points to section "
                    f"'{row.section}', which this revision does not have ({how}).",
                    (
                        self.exception(str(row.exception_id), "section"),
                        self.body_lines(),
                    ),
                    {"exception_id": str(row.exception_id), "section": str(row.section)},
                )
            )
        for account_id, product_id, ids, handling in ambiguous:
            findings.append(
                Finding(
                    "ambiguous_carve_out",
                    f"Approved exceptions {', '.join(ids)} apply to the same account "
                    f"({account_id}) and product ({product_id}) with different handling "
                    f"({', '.join(handling)}).",
                    tuple(self.exception(i, "handling") for i in ids),
                    {
                        "exception_ids": list(ids),
                        "account_id": account_id,
                        "product_id": product_id,
                    },
                )
            )
        return findings

    # -- entitlement assumptions --------------------------------------------------------------
    def impact_assumptions(self) -> list[Finding]:
        findings: list[Finding] = []
        for unit in self.units(kinds=("list_item", "paragraph")):
            tiers = [f.value for f in unit.facts if f.kind == "tier"]
            minutes = _MINUTES.search(unit.text)
            if not tiers or minutes is None:
                continue
            # "Premium Plus" also contains "Premium": the longest tier named is the subject.
            tier = max(tiers, key=len)
            promised = int(minutes.group(1))
            accounts, deviating, by_terms = self.ctx.entitlement_counts(tier, promised)
            query = f"tier={tier};record_status=approved;active_on={self.as_of:%Y-%m-%d}"
            if deviating:
                terms = ", ".join(f"{t} ({n})" for t, n in by_terms.itertuples(index=False))
                findings.append(
                    Finding(
                        "unsupported_impact_assumption",
                        f"The runbook states an initial update within {promised} minutes for "
                        f"{tier} accounts; {deviating} of {accounts} active {tier} accounts "
                        f"(approved records) have different contractual terms: {terms}.",
                        (self.lines(unit), SourceRef("crm", "entitlements", query + ";deviating")),
                        {
                            "tier": tier,
                            "minutes": promised,
                            "accounts": accounts,
                            "deviating_accounts": deviating,
                        },
                    )
                )
            elif self.unchanged(unit):
                findings.append(
                    Finding(
                        "entitlement_assumption",
                        f"{tier}: initial update within {promised} minutes — {accounts} active "
                        "accounts, approved records.",
                        (self.lines(unit), SourceRef("crm", "entitlements", query)),
                        {"tier": tier, "minutes": promised, "accounts": accounts},
                    )
                )
        return findings

    # -- open questions -----------------------------------------------------------------------
    def open_questions(self) -> list[Finding]:
        findings = []
        for unit in self.body:
            markers = sorted({f.value for f in unit.facts if f.kind == "open_question"})
            if markers:
                section = " › ".join(unit.section[1:] or unit.section)
                text = quote(_LIST_MARKER.sub("", unit.text, count=1))
                findings.append(
                    Finding(
                        "open_question",
                        f"Open question in {section} (lines {unit.lines[0]}-{unit.lines[1]}), "
                        f"marked {', '.join(repr(m) for m in markers)}: “{text}”",
                        (self.lines(unit),),
                        {"markers": markers},
                    )
                )
        return findings
