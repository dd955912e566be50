"""Loaders for the six source systems, each returning a validated pandas DataFrame.

The schema of every table is declared once, in ``SCHEMAS`` (:mod:`~digestkit.sources.schema`);
the loaders, the sample-world generator and the documentation all read it from there. One module
per source system: :mod:`~digestkit.sources.runbooks` (folder or git repository),
:mod:`~digestkit.sources.crm` (any SQLAlchemy URL), :mod:`~digestkit.sources.registry` and
:mod:`~digestkit.sources.register` (append-only CSVs), :mod:`~digestkit.sources.feed` (the
change feed); :mod:`~digestkit.sources.config` says where each lives (``sources.toml``),
:mod:`~digestkit.sources.validate` checks and types their rows, and
:mod:`~digestkit.sources.summary` describes them.
"""

from digestkit.exceptions import SourceError
from digestkit.sources.cases import load_cases as load_cases  # `as`: an explicit re-export
from digestkit.sources.config import (
    DEFAULT_DATA,
    DEFAULT_MAX_REVISION_BYTES,
    DataSources,
    FileStamp,
    SourcesLike,
    file_key,
    open_sources,
)
from digestkit.sources.crm import (
    MAX_IN_LIST,
    NameCandidates,
    count_entitlement_accounts,
    crm_file,
    find_name_candidates,
    load_accounts,
    load_contacts,
    load_entitlements,
)
from digestkit.sources.feed import FeedLine, iter_feed, load_feed
from digestkit.sources.register import load_exceptions
from digestkit.sources.registry import (
    NAMED_TABLES,
    load_known_issues,
    load_products,
    load_teams,
    name_conflicts,
    name_key,
)
from digestkit.sources.runbooks import (
    RevisionProblem,
    get_revision,
    load_revisions,
    revision_history,
    revision_problems,
)
from digestkit.sources.schema import (
    EVENT_TYPES,
    EXCEPTION_KINDS,
    EXCEPTION_STATUSES,
    FRONT_MATTER_KEYS,
    KEYS,
    KNOWN_ISSUE_STATUSES,
    PRODUCT_STATUSES,
    RECORD_STATUSES,
    REVISION_STATUSES,
    SCHEMAS,
    TIERS,
    Column,
    sensitive_columns,
)
from digestkit.sources.summary import schema_markdown, snapshot_sha256, summarize
from digestkit.sources.validate import TimeLike

__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_MAX_REVISION_BYTES",
    "EVENT_TYPES",
    "EXCEPTION_KINDS",
    "EXCEPTION_STATUSES",
    "FRONT_MATTER_KEYS",
    "KEYS",
    "KNOWN_ISSUE_STATUSES",
    "MAX_IN_LIST",
    "NAMED_TABLES",
    "PRODUCT_STATUSES",
    "RECORD_STATUSES",
    "REVISION_STATUSES",
    "SCHEMAS",
    "TIERS",
    "Column",
    "DataSources",
    "FeedLine",
    "FileStamp",
    "NameCandidates",
    "RevisionProblem",
    "SourceError",
    "SourcesLike",
    "TimeLike",
    "count_entitlement_accounts",
    "crm_file",
    "file_key",
    "find_name_candidates",
    "get_revision",
    "iter_feed",
    "load_accounts",
    "load_contacts",
    "load_entitlements",
    "load_exceptions",
    "load_feed",
    "load_known_issues",
    "load_products",
    "load_revisions",
    "load_teams",
    "name_conflicts",
    "name_key",
    "open_sources",
    "revision_history",
    "revision_problems",
    "schema_markdown",
    "sensitive_columns",
    "snapshot_sha256",
    "summarize",
]
