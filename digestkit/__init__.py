"""digestkit: grounded handoff digests for published revisions of a support escalation runbook.

``import digestkit`` stays light (no pandas, papermill or SQLAlchemy): the functions below are
imported from their modules on first use, and are those modules' own function objects.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

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

# Public name -> the module that defines it.
_LAZY = {
    "build_digest": "digestkit.digest",
    "open_workspace": "digestkit.workspace",
    "process_feed": "digestkit.events",
    "run_event": "digestkit.events",
    "watch": "digestkit.events",
}

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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'digestkit' has no attribute '{name}'")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
