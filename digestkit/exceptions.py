"""The exceptions digestkit raises: one base class, one subclass per kind of failure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
]


class DigestkitError(Exception):
    """Base class for every error digestkit raises on purpose."""


class SourceError(DigestkitError):
    """Raised when a source system's data is missing, malformed or inconsistent.

    The message names the file (or table), the row or line, and the field, so the user can fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}" if isinstance(row, int) else str(row))
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class MarkdownError(DigestkitError):
    """Raised when a revision file is not UTF-8 text or not Markdown."""


class RevisionError(DigestkitError):
    """Raised when a revision is unknown, or not published where a published one is needed."""


class ScopeError(DigestkitError):
    """Raised when a digest or typed text says something outside its informational scope.

    ``violations`` holds what was found (scope-guard violations or sensitive-data findings).
    """

    def __init__(self, message: str, *, violations: Sequence[object] = ()) -> None:
        self.violations = list(violations)
        super().__init__(message)


class EventError(DigestkitError):
    """Raised when a change-feed event is malformed or does not match the runbook repository."""


class WorkspaceError(DigestkitError):
    """Raised when the handoff workspace is missing a digest or its state refuses an action."""


class UsageError(DigestkitError):
    """Raised when options or arguments are wrong or do not fit together (nothing was done)."""


class NotebookError(DigestkitError):
    """Raised when a notebook cell fails; a failed notebook is never rendered or posted.

    Like nbclient's ``CellExecutionError`` it keeps ``cell_index``, ``ename`` and ``evalue``.
    """

    def __init__(
        self,
        notebook: str | Path,
        *,
        cell_index: int | None = None,
        ename: str = "",
        evalue: str = "",
        reason: str = "",
    ) -> None:
        self.notebook = str(notebook)
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        where = f"cell {cell_index}" if cell_index is not None else "a cell"
        detail = f"{ename}: {evalue}" if ename else reason or "failed"
        super().__init__(f"{self.notebook}: {where} failed ({detail}); nothing was posted")
