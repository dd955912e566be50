"""What the context join reports: the kinds of :class:`Finding`, their ``details`` and sources.

A finding is one statement about a revision's context (a carried-forward assumption or a flag),
with the :class:`SourceRef` of every record or line range it rests on and the JSON-ready
``details`` its sentence was built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict, get_args

__all__ = [
    "CARRIED_KINDS",
    "FLAG_KINDS",
    "AmbiguousCarveOutDetails",
    "AmbiguousReferenceDetails",
    "CarriedKind",
    "Details",
    "EntitlementDetails",
    "ExceptionDetails",
    "ExceptionStatus",
    "Finding",
    "FindingKind",
    "FindingPart",
    "FlagKind",
    "ImpactAssumptionDetails",
    "OpenQuestionDetails",
    "OrphanedExceptionDetails",
    "OwnershipDetails",
    "PagerConflictDetails",
    "RedactionDetails",
    "ReferenceKind",
    "SourceRef",
    "StaleOwnershipDetails",
    "StatedIn",
    "System",
    "TeamConflictDetails",
    "UnchangedSectionsDetails",
    "UnknownReferenceDetails",
]

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
    "ambiguous_reference",
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


class AmbiguousReferenceDetails(TypedDict):
    """A product name several registry products carry: every one of them, never a guess."""

    reference_kind: ReferenceKind
    value: str
    product_ids: list[str]


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
    | AmbiguousReferenceDetails
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
