"""Loaders for the six source systems, each returning a validated pandas DataFrame.

The schema of every table is declared once, in ``SCHEMAS`` (:mod:`~digestkit.sources.schema`);
the loaders, the sample-world generator and the documentation all read it from there. One module
per source system: :mod:`~digestkit.sources.runbooks` (folder or git repository),
:mod:`~digestkit.sources.crm` (any SQLAlchemy URL), :mod:`~digestkit.sources.registry` and
:mod:`~digestkit.sources.register` (append-only CSVs), :mod:`~digestkit.sources.feed` (the
change feed); :mod:`~digestkit.sources.config` says where each lives (``sources.toml``),
:mod:`~digestkit.sources.validate` checks and types their rows, and
:mod:`~digestkit.sources.summary` describes them. :mod:`~digestkit.sources.revisions` reads the
runbook repository as records, without pandas or SQLAlchemy.

``import digestkit.sources`` stays light: the loaders are imported from their modules on first
use (and are those modules' own objects), so a command that only reads revisions never imports
pandas or SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

from digestkit.exceptions import SourceError
from digestkit.sources.config import (
    DEFAULT_DATA,
    DEFAULT_MAX_REVISION_BYTES,
    DataSources,
    FileStamp,
    SourcesLike,
    file_key,
    open_sources,
)
from digestkit.sources.names import RegistryNames, registry_names
from digestkit.sources.revisions import (
    Repository,
    Revision,
    RevisionProblem,
    RevisionState,
    read_repository,
    read_revision,
    revision_problems,
    revision_records,
    revision_states,
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

if TYPE_CHECKING:
    from digestkit.sources.cases import load_cases as load_cases  # `as`: an explicit re-export
    from digestkit.sources.crm import (
        MAX_IN_LIST,
        count_entitlement_accounts,
        crm_file,
        load_accounts,
        load_contacts,
        load_entitlements,
    )
    from digestkit.sources.feed import FeedLine, iter_feed, load_feed
    from digestkit.sources.lookup import NameCandidates, find_name_candidates
    from digestkit.sources.register import load_exceptions
    from digestkit.sources.registry import (
        NAMED_TABLES,
        load_known_issues,
        load_products,
        load_teams,
        name_conflicts,
        name_key,
    )
    from digestkit.sources.runbooks import get_revision, load_revisions, revision_history
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
    "RegistryNames",
    "Repository",
    "Revision",
    "RevisionProblem",
    "RevisionState",
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
    "read_repository",
    "read_revision",
    "registry_names",
    "revision_history",
    "revision_problems",
    "revision_records",
    "revision_states",
    "schema_markdown",
    "sensitive_columns",
    "snapshot_sha256",
    "summarize",
]

# The names imported under TYPE_CHECKING above, imported from their modules on first use.
__getattr__, _, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "cases": ["load_cases"],
        "crm": [
            "MAX_IN_LIST",
            "count_entitlement_accounts",
            "crm_file",
            "load_accounts",
            "load_contacts",
            "load_entitlements",
        ],
        "feed": ["FeedLine", "iter_feed", "load_feed"],
        "lookup": ["NameCandidates", "find_name_candidates"],
        "register": ["load_exceptions"],
        "registry": [
            "NAMED_TABLES",
            "load_known_issues",
            "load_products",
            "load_teams",
            "name_conflicts",
            "name_key",
        ],
        "runbooks": ["get_revision", "load_revisions", "revision_history"],
        "summary": ["schema_markdown", "snapshot_sha256", "summarize"],
        "validate": ["TimeLike"],
    },
)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
