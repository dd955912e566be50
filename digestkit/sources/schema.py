"""The schema catalogue: every source table's columns, vocabularies and keys, declared once.

The loaders, the sample-world generator and the documentation all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from digestkit.exceptions import SourceError

__all__ = [
    "EVENT_TYPES",
    "EXCEPTION_KINDS",
    "EXCEPTION_STATUSES",
    "FRONT_MATTER_KEYS",
    "KEYS",
    "KNOWN_ISSUE_STATUSES",
    "PRODUCT_STATUSES",
    "RECORD_STATUSES",
    "REVISION_STATUSES",
    "SCHEMAS",
    "TIERS",
    "Column",
    "ColumnType",
    "EventType",
    "ExceptionKind",
    "ExceptionStatus",
    "KnownIssueStatus",
    "ProductStatus",
    "RecordStatus",
    "RevisionStatus",
    "Tier",
    "schema",
    "sensitive_columns",
]

ColumnType = Literal["string", "int", "float", "date", "datetime", "category"]
Tier = Literal["Standard", "Premium", "Premium Plus"]
RevisionStatus = Literal["draft", "published", "withdrawn"]
RecordStatus = Literal["approved", "pending"]
ExceptionKind = Literal[
    "handling carve-out",
    "contractual notification variant",
    "temporary staffing overlay",
]
ExceptionStatus = Literal["approved", "pending", "rejected", "revoked"]
ProductStatus = Literal["active", "deprecated", "retired"]
KnownIssueStatus = Literal["open", "mitigated", "closed"]
EventType = Literal["runbook.published", "runbook.draft_saved", "runbook.withdrawn"]

# The value tuples keep the Literal order: it is the order of each pandas category.
TIERS: tuple[Tier, ...] = get_args(Tier)
REVISION_STATUSES: tuple[RevisionStatus, ...] = get_args(RevisionStatus)
RECORD_STATUSES: tuple[RecordStatus, ...] = get_args(RecordStatus)
EXCEPTION_KINDS: tuple[ExceptionKind, ...] = get_args(ExceptionKind)
EXCEPTION_STATUSES: tuple[ExceptionStatus, ...] = get_args(ExceptionStatus)
PRODUCT_STATUSES: tuple[ProductStatus, ...] = get_args(ProductStatus)
KNOWN_ISSUE_STATUSES: tuple[KnownIssueStatus, ...] = get_args(KnownIssueStatus)
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


@dataclass(frozen=True)
class Column:
    """One column of a source table.

    ``dtype`` is one of ``string``, ``int``, ``float``, ``date`` (calendar day), ``datetime``
    (UTC timestamp) or ``category`` (then ``values`` lists what is allowed).
    """

    name: str
    dtype: ColumnType
    doc: str
    nullable: bool = False
    sensitive: bool = False
    values: tuple[str, ...] = ()


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
        C("path", "string", "Path of the revision file in its repository (folder or git tree)."),
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
    # CRM severity-one cases: only what tells whether a digest came before the first live case.
    "cases": (
        C("case_id", "string", "Severity-one case id, e.g. CASE-000123."),
        C("account_id", "string", "Pseudonymous account id of the customer (accounts)."),
        C("product_id", "string", "Product the case is about (registry product_id)."),
        C("opened_at", "datetime", "When the case was opened (UTC)."),
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
    "cases": ("case_id",),
    "events": ("event_id",),
}

#: The keys a revision's YAML front matter holds, exactly.
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


def schema(table: str) -> tuple[Column, ...]:
    """The columns of ``table``; SourceError for a table that is not in ``SCHEMAS``."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise SourceError(f"unknown table '{table}'; known: {', '.join(SCHEMAS)}") from None


def sensitive_columns(table: str) -> tuple[str, ...]:
    """Columns of ``table`` that hold customer-sensitive data (never in outputs)."""
    return tuple(c.name for c in schema(table) if c.sensitive)
