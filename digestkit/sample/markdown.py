"""A small Markdown document model and its writer, recording the line span of every unit.

The sample runbooks are built from these blocks so the gold labels' line numbers come from the
rendering, never from hand-counted constants.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Block",
    "Bullets",
    "Item",
    "Para",
    "Rendered",
    "Section",
    "Span",
    "Steps",
    "Table",
    "render",
]

#: First and last line of a unit (1-based, inclusive, counting the front matter).
Span = tuple[int, int]

YAML_WORDS = ("null", "true", "false", "yes", "no", "on", "off")  # would not stay text
PLAIN_SCALAR = re.compile(r"[A-Za-z][A-Za-z0-9 ._/-]*[A-Za-z0-9.]")


@dataclass
class Item:
    """An ordered-list item; ``numbers`` overrides the numbering of its children."""

    key: str
    text: str
    children: list[Item] = field(default_factory=list)
    numbers: list[int] | None = None


@dataclass
class Para:
    """A paragraph, wrapped at ``width`` columns."""

    key: str
    text: str
    width: int = 100


@dataclass
class Bullets:
    """A bullet list of (unit key, text) items."""

    items: list[tuple[str, str]]
    marker: str = "-"


@dataclass
class Steps:
    """A numbered list, possibly nested."""

    items: list[Item]


@dataclass
class Table:
    """A pipe table of (unit key, cells) rows."""

    header: tuple[str, ...]
    rows: list[tuple[str, tuple[str, ...]]]


Block = Para | Bullets | Steps | Table


@dataclass
class Section:
    """An H2 section."""

    key: str
    heading: str
    blocks: list[Block]


@dataclass(frozen=True)
class Rendered:
    """A rendered revision file and where each unit landed in it."""

    text: str
    spans: dict[str, Span]  # unit key -> its lines
    sections: dict[str, tuple[str, Span]]  # section key -> heading, its lines
    lines: list[str]


def _yaml_scalar(value: str | None) -> str:
    if value is None:
        return "null"
    if PLAIN_SCALAR.fullmatch(value) and value not in YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


class _Writer:
    """Appends lines and records the span of every unit it writes."""

    def __init__(self, front_matter: Mapping[str, str | None]) -> None:
        self.lines = ["---", *(f"{k}: {_yaml_scalar(v)}" for k, v in front_matter.items()), "---"]
        self.lines.append("")
        self.spans: dict[str, Span] = {}
        self.sections: dict[str, tuple[str, Span]] = {}

    def add(self, line: str) -> int:
        self.lines.append(line)
        return len(self.lines)

    def steps(self, items: list[Item], indent: int, numbers: list[int] | None) -> None:
        for item, number in zip(items, numbers or range(1, len(items) + 1), strict=True):
            marker = f"{number}. "
            first = self.add(" " * indent + marker + item.text)
            self.steps(item.children, indent + len(marker), item.numbers)
            self.spans[item.key] = (first, len(self.lines))

    def block(self, block: Block) -> None:
        if isinstance(block, Para):
            first = len(self.lines) + 1
            for line in textwrap.wrap(block.text, block.width, break_on_hyphens=False):
                self.add(line)
            self.spans[block.key] = (first, len(self.lines))
        elif isinstance(block, Bullets):
            for key, text in block.items:
                n = self.add(f"{block.marker} {text}")
                self.spans[key] = (n, n)
        elif isinstance(block, Steps):
            self.steps(block.items, 0, None)
        else:
            self.add("| " + " | ".join(block.header) + " |")
            self.add("|" + "|".join(" --- " for _ in block.header) + "|")
            for key, cells in block.rows:
                n = self.add("| " + " | ".join(cells) + " |")
                self.spans[key] = (n, n)
        self.add("")

    def section(self, section: Section) -> None:
        first = self.add(f"## {section.heading}")
        self.spans[f"heading:{section.key}"] = (first, first)
        self.add("")
        for block in section.blocks:
            self.block(block)
        self.sections[section.key] = (section.heading, (first, len(self.lines) - 1))


def render(
    front_matter: Mapping[str, str | None], title: str, intro: Para, sections: list[Section]
) -> Rendered:
    """Write a revision: front matter (in mapping order), an H1 title, the intro, the sections."""
    writer = _Writer(front_matter)
    writer.add(f"# {title}")
    writer.add("")
    writer.block(intro)
    for section in sections:
        writer.section(section)
    lines = writer.lines
    while lines[-1] == "":
        lines.pop()
    return Rendered("\n".join(lines) + "\n", writer.spans, writer.sections, lines)
