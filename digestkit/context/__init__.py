"""Context join: resolve a revision's references against the CRM, registry and exception register.

:func:`assess` reads the sources as they stood at ``as_of`` and returns typed :class:`Finding`
objects: assumptions carried forward, and flags (ownership conflicts, stale ownership, exception
problems, unsupported customer-impact assumptions, unknown references, open questions). Every
finding cites where its facts come from, in the revision's body: the front matter (its change
reason) is not what the runbook says. Ownership and first pagers are read from table rows and
from prose (:mod:`digestkit.ownership`) alike; an exception is in force from ``valid_from`` to
``valid_to``. Accounts are only ever counted, never named.

- :mod:`~digestkit.context.findings` — the finding kinds, their ``details`` and sources;
- :mod:`~digestkit.context.tables` — :func:`load_context`: the source records as of a time,
  indexed, with the exceptions in force and entitlement counts cached per context;
- :mod:`~digestkit.context.reading` — a revision as the checks read it (body, changes, citations);
- :mod:`~digestkit.context.owners` — ownership, first pagers and stale ownership;
- :mod:`~digestkit.context.carveouts` — referenced exceptions, orphaned and ambiguous carve-outs;
- :mod:`~digestkit.context.entitlements` — promised response times against CRM entitlements;
- :mod:`~digestkit.context.revision` — unchanged sections and open questions;
- :mod:`~digestkit.context.join` — :func:`assess`, every check in the digest's order.
"""

from digestkit.context.findings import (
    CARRIED_KINDS,
    FLAG_KINDS,
    AmbiguousCarveOutDetails,
    AmbiguousReferenceDetails,
    CarriedKind,
    Details,
    EntitlementDetails,
    ExceptionDetails,
    ExceptionStatus,
    Finding,
    FindingKind,
    FindingPart,
    FlagKind,
    ImpactAssumptionDetails,
    OpenQuestionDetails,
    OrphanedExceptionDetails,
    OwnershipDetails,
    PagerConflictDetails,
    RedactionDetails,
    ReferenceKind,
    SourceRef,
    StaleOwnershipDetails,
    StatedIn,
    System,
    TeamConflictDetails,
    UnchangedSectionsDetails,
    UnknownReferenceDetails,
)
from digestkit.context.join import EXPIRING_WITHIN_DAYS, STALE_AFTER_DAYS, assess
from digestkit.context.revision import quote
from digestkit.context.tables import (
    AmbiguousCarveOut,
    ContextTables,
    EntitlementCounts,
    InForce,
    Lookups,
    Product,
    load_context,
)

__all__ = [
    "CARRIED_KINDS",
    "EXPIRING_WITHIN_DAYS",
    "FLAG_KINDS",
    "STALE_AFTER_DAYS",
    "AmbiguousCarveOut",
    "AmbiguousCarveOutDetails",
    "AmbiguousReferenceDetails",
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
