"""digestkit: grounded handoff digests for published revisions of a support escalation runbook."""

from importlib.metadata import PackageNotFoundError, version

from digestkit.exceptions import (
    DigestkitError,
    EventError,
    MarkdownError,
    RevisionError,
    ScopeError,
    SourceError,
    WorkspaceError,
)

try:
    __version__ = version("digestkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def build_digest(*args, **kwargs):
    """Build the digest of one published revision; see :func:`digestkit.digest.build_digest`."""
    from digestkit.digest import build_digest as _build_digest

    return _build_digest(*args, **kwargs)


__all__ = [
    "DigestkitError",
    "EventError",
    "MarkdownError",
    "RevisionError",
    "ScopeError",
    "SourceError",
    "WorkspaceError",
    "__version__",
    "build_digest",
]
