"""digestkit: grounded handoff digests for published revisions of a support escalation runbook.

``import digestkit`` stays light (no pandas, papermill or SQLAlchemy): the functions below are
imported from their modules on first use, and are those modules' own function objects.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import lazy_loader

from digestkit.exceptions import (
    DigestkitError,
    EventError,
    MarkdownError,
    NotebookError,
    RevisionError,
    ScopeError,
    SourceError,
    UsageError,
    WorkspaceError,
)

if TYPE_CHECKING:
    from digestkit.digest import build_digest
    from digestkit.events import process_feed, run_event, watch
    from digestkit.workspace import open_workspace

try:
    __version__ = version("digestkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


__all__ = [
    "DigestkitError",
    "EventError",
    "MarkdownError",
    "NotebookError",
    "RevisionError",
    "ScopeError",
    "SourceError",
    "UsageError",
    "WorkspaceError",
    "__version__",
    "build_digest",
    "open_workspace",
    "process_feed",
    "run_event",
    "watch",
]

# The names imported under TYPE_CHECKING above, imported from their modules on first use.
__getattr__, _, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "digest": ["build_digest"],
        "events": ["process_feed", "run_event", "watch"],
        "workspace": ["open_workspace"],
    },
)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
