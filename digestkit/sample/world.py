"""The sample world's shared model: runbook names, kinds of planted cases, generated state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BRIDGE",
    "BRIDGE_SECTIONS",
    "BRIDGE_TITLE",
    "CHECKPOINTS",
    "PAGING_ROWS_MAX",
    "S1",
    "S1_TITLE",
    "VARIANT_10MIN",
    "Change",
    "ChangeClass",
    "ChangeKind",
    "Columns",
    "Crm",
    "IssueKind",
    "PlantedException",
    "Product",
    "Register",
    "Registry",
    "RevisionStatus",
    "Unit",
    "World",
]

S1 = "premium-s1-escalation"
S1_TITLE = "Premium Support Severity-1 Escalation Runbook"
BRIDGE = "premium-comms-bridge"
BRIDGE_TITLE = "Premium Incident Communication Bridge Runbook"
#: The main runbook's checkpoints heading until r8 renames it (an exception points at it).
CHECKPOINTS = "Incident-communication checkpoints"
BRIDGE_SECTIONS = ("Bridge roles", "Bridge steps", "Update cadence")
VARIANT_10MIN = "contractual-10min-initial-update"
#: Products beyond this many get no paging or ownership row in the main runbook.
PAGING_ROWS_MAX = 40

RevisionStatus = Literal["published", "draft", "withdrawn"]
ChangeClass = Literal[
    "paging_target_changed",
    "checkpoint_time_changed",
    "formatting_only",
    "step_added",
    "step_removed",
    "step_reworded",
    "exception_added",
    "steps_reordered",
    "list_renumbered",
    "ownership_moved",
    "exception_removed",
    "exception_pending_referenced",
    "open_question_added",
    "section_renamed",
    "escalate_after_changed",
    "unknown_reference_added",
]
#: ``None`` marks a formatting-only edit, which is not a change.
ChangeKind = Literal["added", "removed", "modified", "moved", "renumbered"] | None
Unit = Literal["table_row", "list_item", "paragraph", "heading"]
IssueKind = Literal[
    "orphaned_exception",
    "stale_ownership",
    "unknown_reference",
    "ownership_conflict",
    "exception_not_approved",
    "exception_expired",
    "exception_expiring",
    "ambiguous_carve_out",
    "unsupported_impact_assumption",
    "open_question",
]

# One planted change: (class, kind, unit, unit key, ref). The key names rendered units (``a+b``
# for the span from a to b), so line numbers come from the rendering.
Change = tuple[ChangeClass, ChangeKind, Unit, str, str | None]

#: Generated table columns, one array per column name.
Columns = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class Product:
    """A product as the runbook and the registry name it."""

    product_id: str
    name: str
    team: str
    boundary: str
    pager: str


@dataclass(frozen=True)
class Registry:
    """The product registry: current catalogue and the append-only CSV tables."""

    products: list[Product]
    product_names: dict[str, str]
    team_names: dict[str, str]
    product_rows: pd.DataFrame
    team_rows: pd.DataFrame
    known_issues: pd.DataFrame


@dataclass(frozen=True)
class Crm:
    """The CRM tables, column-wise, and each account's first contact (an index into contacts)."""

    accounts: Columns
    contacts: Columns
    entitlements: Columns
    first_contact: npt.NDArray[np.int64]

    def tables(self) -> dict[str, Columns]:
        """The tables by name, in the order they are written."""
        return {
            "accounts": self.accounts,
            "contacts": self.contacts,
            "entitlements": self.entitlements,
        }


@dataclass(frozen=True)
class PlantedException:
    """What the runbook text needs to know of a planted exception."""

    account_id: str
    product_id: str
    kind: str
    status: str


@dataclass(frozen=True)
class Register:
    """The exception register (every version, time-ordered) and the planted exceptions."""

    rows: pd.DataFrame
    planted: dict[str, PlantedException]


@dataclass(frozen=True)
class World:
    """Everything generated, kept in memory for writing and for computing the gold labels."""

    registry: Registry
    crm: Crm
    register: Register
