"""YAML front matter of a Markdown revision: the one parser every reader of revisions uses.

YAML aliases are refused (a few hundred bytes of nested aliases expand to gigabytes), and error
messages name the line and the rule, never the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from digestkit.exceptions import MarkdownError

__all__ = ["FrontMatter", "FrontMatterError", "natural_key", "parse_front_matter"]

FENCE = "---"
CLOSERS = ("---", "...")


class FrontMatterError(MarkdownError):
    """Raised when a revision's front matter is unclosed, not YAML or not a mapping.

    ``line`` is the 1-based file line the problem is on; ``reason`` says what rule it breaks.
    """

    def __init__(self, reason: str, *, line: int | str) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"front matter line {line}: {reason}")


@dataclass(frozen=True)
class FrontMatter:
    """Parsed front matter: the mapping and where it sits in the file.

    ``first_line``/``last_line`` are the 1-based lines of the YAML itself (fences excluded);
    ``body_start`` is the 0-based index of the first line after the closing fence.
    """

    data: dict[str, Any]
    first_line: int
    last_line: int
    body_start: int


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
            raise yaml.MarkedYAMLError(
                problem="YAML aliases (*name) are not allowed in front matter",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_front_matter(lines: list[str]) -> FrontMatter | None:
    """The front matter opening ``lines`` (a ``---`` first line), or ``None`` if there is none.

    Raises :class:`FrontMatterError` when it is unclosed, not valid YAML, uses aliases or is not a
    mapping of string keys.
    """
    if not lines or lines[0].rstrip() != FENCE:
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in CLOSERS), None)
    if end is None:
        raise FrontMatterError(
            "opened with '---' but never closed; add a closing '---' line", line=1
        )
    try:
        data = yaml.load("\n".join(lines[1:end]), Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line: int | str = mark.line + 2 if mark is not None else 2
        context = getattr(exc, "context_mark", None)
        if context is not None and context.line + 2 != line:
            line = f"{line} (in what starts on line {context.line + 2})"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise FrontMatterError(f"invalid YAML: {problem}", line=line) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(
            f"must be a YAML mapping (key: value), got {type(data).__name__}", line=2
        )
    if not all(isinstance(key, str) for key in data):
        raise FrontMatterError("every key must be a string", line=2)
    return FrontMatter(data=data, first_line=2, last_line=end, body_start=end + 1)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key ordering embedded numbers by value: ``r2`` before ``r10``."""
    return tuple(
        (1, int(part)) if i % 2 else (0, part) for i, part in enumerate(re.split(r"(\d+)", text))
    )
