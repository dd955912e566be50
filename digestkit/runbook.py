"""The structural model of one runbook revision: sections, units with line ranges, typed facts.

``parse_runbook`` runs markdown-it-py (CommonMark plus GFM tables) over a revision and returns a
:class:`Runbook`: the YAML front matter, the sections (heading paths) and the *units* inside them
(headings, list items with their nesting, code blocks of their own even inside a step, table
rows keyed by the header row, paragraphs, block quotes, HTML blocks, thematic breaks, one unit
per link reference definition, one per front-matter key). Every unit keeps its 1-based inclusive
line range in the file, a stable locator, a normalized form used by the diff (``norm``: inline
text without emphasis markers, list markers, line wrapping or curly quotes, link targets kept)
and the typed facts found in it (:mod:`digestkit.facts`; none from code or front matter).

Input decisions (:mod:`digestkit.revision_input`): a UTF-8 BOM and CRLF/CR line endings are
accepted; NUL bytes, other control characters, invalid UTF-8, JSON, HTML and XML documents, and
files named like data (``.csv``, ``.json``, ...) raise :class:`~digestkit.exceptions.MarkdownError`;
an empty file is valid Markdown and parses to a runbook without units.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from markdown_it import MarkdownIt
from markdown_it.token import Token

from digestkit.exceptions import MarkdownError
from digestkit.facts import (
    FACT_KINDS,
    TIERS,
    Fact,
    FactFinder,
    FactKind,
    cell_facts,
    column_role,
    dedupe,
    extract_facts,
    with_subject,
)
from digestkit.frontmatter import FrontMatterError, parse_front_matter
from digestkit.revision_input import decode_revision, refuse_data_file, refuse_non_markdown

__all__ = [
    "FACT_KINDS",
    "TIERS",
    "UNIT_KINDS",
    "Fact",
    "Runbook",
    "Section",
    "Unit",
    "UnitKind",
    "extract_facts",
    "markdown_parser",
    "parse_runbook",
    "read_runbook",
]

UnitKind = Literal[
    "heading",
    "list_item",
    "table_row",
    "paragraph",
    "blockquote",
    "code",
    "html",
    "rule",
    "reference",
    "front_matter",
]
UNIT_KINDS: tuple[UnitKind, ...] = get_args(UnitKind)

_FM_KEY_RE = re.compile(r"^([^\s#:][^:]*):(?:\s|$)")
_REF_LABEL_RE = re.compile(r"^ {0,3}\[((?:[^\]\\]|\\.)+)\]:")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'"})
_CURLY_RE = re.compile("[“”„‘’‚]")
# Characters that start an inline rule of CommonMark (escapes, code, emphasis, links, images,
# autolinks and raw HTML, entities); without them inline parsing yields the text unchanged.
_INLINE_MARKUP_RE = re.compile(r"[\\`*_\[<&]")


@dataclass(frozen=True, slots=True)
class Unit:
    """One block of a runbook: the smallest thing the diff matches, moves or redlines.

    ``kind`` is heading, list_item, table_row, paragraph, blockquote, code, html, rule (thematic
    break), reference (link reference definitions) or front_matter (one top-level YAML key, its
    name in ``key``). ``text`` is the raw source of the unit's own
    lines (a list item's text excludes its nested lists, which are units with ``depth + 1``);
    ``norm`` is its content with formatting removed. ``number`` is the rendered number of an
    ordered-list item and ``marker`` its literal marker ("3.", "-"). Table rows have ``cells``
    keyed by the header row and ``key`` = the first cell; the header row itself is a table_row
    unit with ``key`` None. A code block inside a list item is a unit of its own, nested under the
    item (``depth`` one more, locator ``<item>.code1``); its ``norm`` is the code without its fence
    and indentation, its fence info string (language) is ``info``. A link reference definition's
    ``key`` is its label. ``level`` is a heading's level (1-6). Curly quotes read as straight ones
    in ``norm``.
    """

    kind: UnitKind
    section: tuple[str, ...]
    text: str
    norm: str
    lines: tuple[int, int]
    locator: str
    number: int | None = None
    depth: int = 0
    key: str | None = None
    cells: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    facts: tuple[Fact, ...] = ()
    marker: str = ""
    level: int = 0
    info: str = ""


# Unit is frozen, so its dataclass __init__ sets each of its 14 fields through
# object.__setattr__: about 1 us a unit, the largest cost of building units after the parse.
# The builder fills the slots through their descriptors instead (_new_unit, about half that);
# a field added to Unit fails this unpacking at import, and tests compare both constructions.
(
    _set_kind,
    _set_section,
    _set_text,
    _set_norm,
    _set_lines,
    _set_locator,
    _set_number,
    _set_depth,
    _set_key,
    _set_cells,
    _set_facts,
    _set_marker,
    _set_level,
    _set_info,
) = (Unit.__dict__[f.name].__set__ for f in fields(Unit))


def _new_unit(
    kind: UnitKind,
    section: tuple[str, ...],
    text: str,
    norm: str,
    lines: tuple[int, int],
    locator: str,
    number: int | None,
    depth: int,
    key: str | None,
    cells: dict[str, str],
    facts: tuple[Fact, ...],
    marker: str,
    level: int,
    info: str,
) -> Unit:
    """``Unit(kind, section, ...)``, built without the frozen dataclass's setattr calls."""
    unit: Unit = object.__new__(Unit)
    _set_kind(unit, kind)
    _set_section(unit, section)
    _set_text(unit, text)
    _set_norm(unit, norm)
    _set_lines(unit, lines)
    _set_locator(unit, locator)
    _set_number(unit, number)
    _set_depth(unit, depth)
    _set_key(unit, key)
    _set_cells(unit, cells)
    _set_facts(unit, facts)
    _set_marker(unit, marker)
    _set_level(unit, level)
    _set_info(unit, info)
    return unit


@dataclass(frozen=True)
class Section:
    """A heading and its extent: heading line through the last non-blank line of the section."""

    path: tuple[str, ...]
    title: str
    level: int
    lines: tuple[int, int]


@dataclass(frozen=True)
class Runbook:
    """A parsed revision: front matter, sections and units in document order."""

    front_matter: dict[str, Any]
    sections: tuple[Section, ...]
    units: tuple[Unit, ...]
    path: str | None
    line_count: int

    def section_titles(self) -> list[str]:
        """Titles of all sections in document order."""
        return [s.title for s in self.sections]

    def units_in(self, section_title: str) -> list[Unit]:
        """Non-heading units of every section titled ``section_title``, subsections included."""
        return [u for u in self.units if u.kind != "heading" and section_title in u.section]

    def table_rows(self, section_title: str) -> list[Unit]:
        """Data rows (header rows excluded) of the tables under ``section_title``."""
        return [
            u for u in self.units_in(section_title) if u.kind == "table_row" and u.key is not None
        ]

    def facts(self, kind: FactKind | None = None) -> list[Fact]:
        """All facts of the revision, optionally of one kind, in document order."""
        return [f for u in self.units for f in u.facts if kind is None or f.kind == kind]


def read_runbook(
    path: str | Path,
    *,
    products: Iterable[str] = (),
    teams: Iterable[str] = (),
    pagers: Iterable[str] = (),
) -> Runbook:
    """Read and parse a revision file; MarkdownError (naming the file) if it is not Markdown."""
    refuse_data_file(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MarkdownError(f"{path}: cannot read the revision file ({exc.strerror}).") from exc
    return parse_runbook(data, path=str(path), products=products, teams=teams, pagers=pagers)


def parse_runbook(
    text: str | bytes,
    *,
    path: str | None = None,
    products: Iterable[str] = (),
    teams: Iterable[str] = (),
    pagers: Iterable[str] = (),
) -> Runbook:
    """Parse a revision's Markdown (bytes or text) into a :class:`Runbook`.

    >>> rb = parse_runbook("# Steps\\n1. Page payments-oncall within 15 minutes.\\n")
    >>> [(u.kind, u.lines, u.number) for u in rb.units]
    [('heading', (1, 1), None), ('list_item', (2, 2), 1)]
    """
    name = path or "<text>"
    source = decode_revision(text, name)
    lines = source.split("\n")
    try:
        found = parse_front_matter(lines)
    except FrontMatterError as exc:
        raise MarkdownError(f"{name}: line {exc.line}: front matter: {exc.reason}.") from exc
    front_matter = found.data if found is not None else {}
    body_start = found.body_start if found is not None else 0
    # Blank the front matter instead of cutting it so token line maps stay file line numbers.
    body = "\n".join([""] * body_start + lines[body_start:])
    refuse_non_markdown(body, name)
    blocks = _blocks(body)
    builder = _Builder(lines, blocks.env)
    builder.add_front_matter(front_matter, body_start)
    builder.add_blocks(blocks)
    builder.add_references(blocks.env)
    builder.add_orphans(body_start)
    finder = FactFinder(products=products, teams=teams, pagers=pagers)
    units, sections = builder.finish(finder, tuple(products), teams, pagers)
    line_count = len(lines) - 1 if source.endswith("\n") else len(lines)
    return Runbook(front_matter, sections, units, path, line_count if source else 0)


# ----------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The markdown-it-py parser of revisions: CommonMark plus GFM tables, block structure only."""
    # Block structure only: inline content is parsed on demand by _inline_norm, and only for
    # text that has inline markup at all (most runbook lines have none).
    # Line endings and NUL bytes are handled by decode_revision, so markdown-it's normalize rule
    # is not needed either.
    return MarkdownIt("commonmark").enable("table").disable(["normalize", "inline", "text_join"])


@lru_cache(maxsize=32)
def _blocks(body: str) -> _Blocks:
    """The units markdown-it's block tokens of ``body`` make, before their facts are read.

    Revisions that differ only in their front matter (blanked in ``body``) have the same block
    structure, so they share this. The tokens themselves are dropped here: a revision's tokens
    are many objects, which kept alive would make every later garbage collection slower.
    """
    env: dict[str, Any] = {}
    tokens = markdown_parser().parse(body, env)
    walker = _Builder(body.split("\n"), env)
    walker.walk(tokens)
    return _Blocks(
        tuple(walker.units), tuple(walker.headings), bytes(walker.claimed), walker.counters, env
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "_"


def _inline_norm(token: Token, env: dict[str, Any]) -> str:
    """Plain content of an inline token: text and code, link targets kept, emphasis dropped.

    Callers collapse whitespace, so text without inline markup is returned as it is: parsing it
    would only turn its line breaks into spaces. ``env`` holds the link reference definitions.
    """
    if not _INLINE_MARKUP_RE.search(token.content):
        return token.content
    md = markdown_parser()
    parts: list[str] = []
    hrefs: list[str] = []
    for child in md.inline.parse(token.content, md, env, []):
        t = child.type
        if t in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(child.content)
        elif t in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif t == "link_open":
            hrefs.append(str(child.attrGet("href") or ""))
        elif t == "link_close" and hrefs:
            parts.append(f" <{hrefs.pop()}>")
        elif t == "image":
            parts.append(f"{child.content} <{child.attrGet('src') or ''}>")
    return "".join(parts)


def _collapse(text: str) -> str:
    """Whitespace runs as one space (curly quotes are straightened once per revision, in
    ``finish``, where a revision has any)."""
    return " ".join(text.split())


def _span(tok: Token) -> tuple[int, int]:
    return (tok.map[0], tok.map[1]) if tok.map else (0, 1)


@dataclass(slots=True)
class _List:
    """An open list; ``owned`` is False for a list inside a quote or paragraph-like unit."""

    owned: bool
    start: int | None = None
    n: int = 0
    parent: str = ""
    depth: int = 0


@dataclass(slots=True)
class _Table:
    headers: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    row_map: tuple[int, int] = (0, 0)
    index: int = 0
    in_head: bool = False


@dataclass(slots=True)
class _Draft:
    """A unit being built while its tokens stream by, then before its text and facts are read
    from the file (``own``: its 0-based file lines, ``holes``: nested lists and code)."""

    kind: UnitKind
    section: tuple[str, ...]
    locator: str
    start: int = 0
    end: int = 0
    norm: str = ""
    number: int | None = None
    depth: int = 0
    marker: str = ""
    key: str | None = None
    cells: dict[str, str] | None = None
    level: int = 0
    info: str = ""
    # Made on first use and dropped when the unit closes: drafts stay alive (cached per body)
    # while the other revision is parsed, and every live list is work for the garbage collector.
    parts: list[str] | None = None
    holes: list[tuple[int, int]] | None = None
    codes: int = 0
    own: Sequence[int] = ()


def _part(owner: _Draft, text: str) -> None:
    if owner.parts is None:
        owner.parts = [text]
    else:
        owner.parts.append(text)


def _hole(owner: _Draft, tok: Token) -> None:
    if owner.holes is None:
        owner.holes = [_span(tok)]
    else:
        owner.holes.append(_span(tok))


_NO_FACTS = ("code", "front_matter")
_LEAVES: dict[str, tuple[UnitKind, str]] = {
    "fence": ("code", "code"),
    "code_block": ("code", "code"),
    "html_block": ("html", "html"),
    "hr": ("rule", "rule"),
}


@dataclass(frozen=True, slots=True)
class _Blocks:
    """What the token walk of a revision's body found (:func:`_blocks`): drafts, headings, the
    lines its units cover (one byte a line, 1 if covered), locator counters and markdown-it's
    env. Shared by the revisions with that body, so read, never changed: ``finish`` builds new
    units from the drafts."""

    drafts: tuple[_Draft, ...]
    headings: tuple[tuple[int, tuple[str, ...], int], ...]
    claimed: bytes
    counters: dict[tuple[tuple[str, ...], str], int]
    env: dict[str, Any]


class _Builder:
    """Turns the markdown-it token stream into units and sections."""

    def __init__(self, lines: list[str], env: dict[str, Any]) -> None:
        self.lines = lines
        self.inline_env = env  # markdown-it's env of the block parse: reference definitions
        self.units: list[_Draft] = []
        self.headings: list[tuple[int, tuple[str, ...], int]] = []  # (line0, path, level)
        self.path: tuple[str, ...] = ()
        self.prefix: tuple[tuple[str, ...], str] = ((), "_")
        self.levels: list[int] = []
        self.counters: dict[tuple[tuple[str, ...], str], int] = {}
        self.owners: list[_Draft] = []
        self.lists: list[_List] = []
        self.quote_depth = 0
        self.table: _Table | None = None
        # Lines of the units, one byte a line (1: claimed), marked as the walk emits units; the
        # few spans of front matter and link definitions are collected in covered.
        self.claimed = bytearray(len(lines))
        self.covered: list[tuple[int, int]] = []

    # -- locators
    def _count(self, what: str, scope: tuple[str, ...] | None = None) -> int:
        key = (scope if scope is not None else self.path, what)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def _prefix(self) -> str:
        if self.prefix[0] is not self.path:  # the slugged path, computed once per section
            self.prefix = (self.path, "/".join(_slug(t) for t in self.path) or "_")
        return self.prefix[1]

    # -- token walk
    def walk(self, tokens: Sequence[Token]) -> None:
        # Ordered by frequency: every list item brings an inline and a paragraph open/close.
        owners = self.owners
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            t = tok.type
            if t == "inline":
                self._inline(tok)
            elif t == "paragraph_open":
                if not owners and self.quote_depth == 0:
                    owners.append(self._open("paragraph", tok, "p"))
            elif t == "paragraph_close":
                if owners and owners[-1].kind == "paragraph":
                    self._close_owner()
            elif t == "list_item_open":
                self._item_open(tok)
            elif t == "list_item_close":
                if self.lists and self.lists[-1].owned:
                    self._close_owner()
            elif t == "heading_open" and not owners and self.quote_depth == 0:
                self._heading(tok, tokens[i + 1])
                i += 1
            elif t in ("bullet_list_open", "ordered_list_open"):
                self._list_open(tok)
            elif t in ("bullet_list_close", "ordered_list_close"):
                if self.lists:
                    self.lists.pop()
            elif t in _LEAVES:
                self._leaf(tok)
            elif t == "blockquote_open":
                if not owners and self.quote_depth == 0:
                    owners.append(self._open("blockquote", tok, "quote"))
                self.quote_depth += 1
            elif t == "blockquote_close":
                self.quote_depth -= 1
                if self.quote_depth == 0 and owners and owners[-1].kind == "blockquote":
                    self._close_owner()
            elif not owners and self.quote_depth == 0:
                self._table_token(tok)
            i += 1

    def _table_token(self, tok: Token) -> None:
        t, table = tok.type, self.table
        if t == "table_open":
            self.table = _Table(index=self._count("table"))
        elif table is None:
            return
        elif t == "table_close":
            self.table = None
        elif t in ("thead_open", "thead_close"):
            table.in_head = t == "thead_open"
        elif t == "tr_open":
            table.cells = []
            table.row_map = _span(tok)
        elif t == "tr_close":
            self._row(table)

    def _open(self, kind: UnitKind, tok: Token, what: str) -> _Draft:
        start, end = _span(tok)
        locator = f"{self._prefix()}:{what}{self._count(what)}"
        return _Draft(kind, self.path, locator, start, end)

    def _heading(self, tok: Token, inline: Token) -> None:
        level = int(tok.tag[1])
        # The section path keeps the title as written; the heading's norm reads quotes straight.
        title = _collapse(_inline_norm(inline, self.inline_env)) or "(untitled)"
        while self.levels and self.levels[-1] >= level:
            self.levels.pop()
            self.path = self.path[:-1]
        self.levels.append(level)
        self.path = (*self.path, title)
        start, end = _span(tok)
        self.headings.append((start, self.path, level))
        locator = f"{self._prefix()}:heading{self._count('heading')}"
        self._emit(_Draft("heading", self.path, locator, norm=title, level=level), start, end)

    def _list_open(self, tok: Token) -> None:
        owner = self.owners[-1] if self.owners else None
        if self.quote_depth > 0 or (owner is not None and owner.kind != "list_item"):
            self.lists.append(_List(owned=False))  # content of a quote or paragraph-like owner
            return
        if owner is not None and tok.map:
            _hole(owner, tok)
        parent = (
            owner.locator if owner is not None else f"{self._prefix()}:list{self._count('list')}"
        )
        start = int(tok.attrGet("start") or 1) if tok.type == "ordered_list_open" else None
        depth = sum(1 for entry in self.lists if entry.owned)
        self.lists.append(_List(owned=True, start=start, parent=parent, depth=depth))

    def _item_open(self, tok: Token) -> None:
        entry = self.lists[-1] if self.lists else None
        if entry is None or not entry.owned:
            return
        entry.n += 1
        number = entry.start + entry.n - 1 if entry.start is not None else None
        marker = f"{tok.info}{tok.markup}" if number is not None else tok.markup
        start, end = _span(tok)
        locator = f"{entry.parent}.{entry.n}"
        self.owners.append(
            # Positional (kind, section, locator, start, end, norm, number, depth, marker): fast.
            _Draft("list_item", self.path, locator, start, end, "", number, entry.depth, marker)
        )

    def _inline(self, tok: Token) -> None:
        if self.owners:
            _part(self.owners[-1], _inline_norm(tok, self.inline_env))
        elif self.table is not None and self.quote_depth == 0:
            self.table.cells.append(_collapse(_inline_norm(tok, self.inline_env)))

    def _leaf(self, tok: Token) -> None:
        content, info = tok.content, ""
        kind, what = _LEAVES[tok.type]
        if kind == "code":
            # Code keeps its indentation; only trailing spaces and the fence are formatting.
            content = "\n".join(line.rstrip() for line in content.strip("\n").split("\n"))
            info = tok.info.strip() if tok.type == "fence" else ""
        elif kind == "rule":
            content = "---"
        owner = self.owners[-1] if self.owners else None
        if owner is not None and kind == "code" and owner.kind == "list_item" and tok.map:
            # Code in a step is a unit of its own, nested under the step: compared line by line,
            # never folded into the step's prose.
            _hole(owner, tok)
            owner.codes += 1
            code = _Draft(
                "code",
                owner.section,
                f"{owner.locator}.code{owner.codes}",
                norm=content,
                depth=owner.depth + 1,
                info=info,
            )
            self._emit(code, *_span(tok))
            return
        if owner is not None or self.quote_depth > 0:
            if owner is not None:
                _part(owner, f"{info}\n{content}" if info else content)
            return
        norm = content if kind == "code" else _collapse(content)
        locator = f"{self._prefix()}:{what}{self._count(what)}"
        self._emit(_Draft(kind, self.path, locator, norm=norm, info=info), *_span(tok))

    def _row(self, table: _Table) -> None:
        start, end = table.row_map
        base = f"{self._prefix()}:table{table.index}"
        norm = " | ".join(table.cells)
        if table.in_head:
            table.headers = list(table.cells)
            cells = {h: h for h in table.cells}
            # The delimiter row (alignment) belongs to the header row's unit.
            header = _Draft("table_row", self.path, f"{base}.header", norm=norm, cells=cells)
            self._emit(header, start, end + 1)
            return
        headers = table.headers or [f"column {k + 1}" for k in range(len(table.cells))]
        cells = {
            headers[k] if k < len(headers) else f"column {k + 1}": v
            for k, v in enumerate(table.cells)
        }
        key = table.cells[0] if table.cells else ""
        locator = f"{base}.row[{key}]"
        self._emit(
            _Draft("table_row", self.path, locator, norm=norm, key=key, cells=cells), start, end
        )

    def _close_owner(self) -> None:
        o = self.owners.pop()
        o.norm = _collapse(" ".join(o.parts)) if o.parts else ""
        self._emit(o, o.start, o.end, o.holes)
        o.parts = o.holes = None

    def _emit(
        self, draft: _Draft, start: int, end: int, holes: list[tuple[int, int]] | None = None
    ) -> None:
        stop = min(end, len(self.lines))
        if holes:
            own = [k for k in range(start, stop) if not any(a <= k < b for a, b in holes)]
            while own and not self.lines[own[-1]].strip():
                own.pop()
            draft.own = own or [start]
        else:
            while stop > start and not self.lines[stop - 1].strip():
                stop -= 1
            draft.own = range(start, max(stop, start + 1))
        self.claimed[start:end] = b"\x01" * (min(end, len(self.lines)) - start)
        self.units.append(draft)

    def add_blocks(self, blocks: _Blocks) -> None:
        """The units, headings and locator counts of the body's token walk."""
        self.units.extend(blocks.drafts)
        self.headings.extend(blocks.headings)
        self.claimed = bytearray(blocks.claimed)
        self.counters = dict(blocks.counters)  # orphan references count on from here

    def add_front_matter(self, data: dict[str, Any], body_start: int) -> None:
        """One front_matter unit per top-level key, spanning the key's lines (blank lines inside a
        block value included, the ``---`` fences not), keyed by the key."""
        if not body_start:
            return
        self.covered.append((0, body_start))  # fences and comments are no unit's content
        closing = body_start - 1
        keys = {str(key) for key in data}
        starts = []
        for k in range(1, closing):
            m = _FM_KEY_RE.match(self.lines[k])
            if m and m.group(1).strip("'\"") in keys:
                starts.append((k, m.group(1).strip("'\"")))
        for n, (start, key) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else closing
            while end - 1 > start and not self.lines[end - 1].strip():
                end -= 1
            value = json.dumps(data[key], sort_keys=True, default=str, ensure_ascii=False)
            own = list(range(start, end))
            self.units.append(
                _Draft(
                    "front_matter",
                    (),
                    f"front-matter:{key}",
                    norm=f"{key}: {value}",
                    key=key,
                    own=own,
                )
            )

    def add_references(self, env: dict[str, Any]) -> None:
        """One reference unit per link reference definition, keyed by its normalized label."""
        for label, ref in env.get("references", {}).items():
            start, end = ref.get("map") or (None, None)
            if start is None or end is None:
                continue
            while end - 1 > start and not self.lines[end - 1].strip():
                end -= 1
            self.covered.append((start, end))
            section = self._section_at(start)
            m = _REF_LABEL_RE.match(self.lines[start])
            shown = m.group(1) if m else label
            title = f' "{ref["title"]}"' if ref.get("title") else ""
            norm = f"[{shown.casefold()}]: {ref.get('href', '')}{title}"
            scope = "/".join(_slug(t) for t in section) or "_"
            locator = f"{scope}:ref[{shown}]"
            self.units.append(
                _Draft("reference", section, locator, norm=norm, key=label, own=range(start, end))
            )

    def add_orphans(self, body_start: int) -> None:
        """Non-blank lines no token claims (a repeated link reference definition, which markdown-it
        ignores) become reference units, one per run of lines."""
        claimed = self.claimed
        for a, b in self.covered:
            claimed[a:b] = b"\x01" * (min(b, len(claimed)) - a)
        run: list[int] = []
        orphans: list[list[int]] = []
        k = claimed.find(0, body_start)  # nearly every line is claimed: jump to the others
        while k != -1:
            if run and (run[-1] != k - 1 or not self.lines[k].strip()):
                orphans.append(run)  # a claimed or a blank line ends a run
                run = []
            if self.lines[k].strip():
                run.append(k)
            k = claimed.find(0, k + 1)
        if run:
            orphans.append(run)
        for run in orphans:
            section = self._section_at(run[0])
            scope = "/".join(_slug(t) for t in section) or "_"
            locator = f"{scope}:ref{self._count('ref', section)}"
            text = " ".join(self.lines[k] for k in run)
            self.units.append(_Draft("reference", section, locator, norm=_collapse(text), own=run))

    def _section_at(self, line0: int) -> tuple[str, ...]:
        path: tuple[str, ...] = ()
        for start, p, _ in self.headings:
            if start > line0:
                break
            path = p
        return path

    def finish(
        self,
        finder: FactFinder,
        products: tuple[str, ...],
        teams: Iterable[str],
        pagers: Iterable[str],
    ) -> tuple[tuple[Unit, ...], tuple[Section, ...]]:
        self.units.sort(key=lambda u: u.own[0])
        # Curly and straight quotes are the same content (outside code, which is literal).
        curly = _CURLY_RE.search("\n".join(self.lines)) is not None
        table_products = {
            value
            for u in self.units
            if u.kind == "table_row" and u.key is not None
            for h, value in (u.cells or {}).items()
            if value and column_role(h) == ("product", None)
        }
        if not table_products <= set(products):
            names = tuple(sorted(set(products) | table_products))
            finder = FactFinder(products=names, teams=teams, pagers=pagers)
        lines = self.lines
        texts = [
            (lines[u.own.start] if len(u.own) == 1 else "\n".join(lines[u.own.start : u.own.stop]))
            if isinstance(u.own, range)
            else "\n".join(lines[k] for k in u.own)
            for u in self.units
        ]
        # Code and sample output state no facts ('AGE 4h' is not a duration); metadata neither.
        found = finder.find(
            [t if u.kind not in _NO_FACTS else "" for u, t in zip(self.units, texts, strict=True)],
            [u.own[0] + 1 for u in self.units],
        )
        units = tuple(
            self._unit(u, text, facts, curly)
            for u, text, facts in zip(self.units, texts, found, strict=True)
        )
        return units, self._sections()

    def _unit(self, u: _Draft, text: str, facts: Sequence[Fact], curly: bool) -> Unit:
        first = u.own[0] + 1
        norm = u.norm
        if curly and u.kind != "code" and _CURLY_RE.search(norm):
            norm = norm.translate(_QUOTES)
        if u.kind == "heading":
            # A heading titled "Open questions" names a section; it is not itself an open question.
            facts = [f for f in facts if f.kind != "open_question"]
        elif u.kind == "table_row" and u.key is not None:
            prose = [f if f.kind == "product" else with_subject(f, u.key) for f in facts]
            facts = dedupe([*cell_facts(u.cells or {}, u.key, first), *prose])
            typed = {(f.kind, f.value) for f in facts if f.role is not None}
            facts = [f for f in facts if f.role is not None or (f.kind, f.value) not in typed]
        return _new_unit(
            u.kind,
            u.section,
            text,
            norm,
            (first, u.own[-1] + 1),
            u.locator,
            u.number,
            u.depth,
            u.key,
            u.cells if u.cells is not None else {},
            tuple(facts),
            u.marker,
            u.level,
            u.info,
        )

    def _sections(self) -> tuple[Section, ...]:
        out = []
        heads = self.headings
        for n, (start, path, level) in enumerate(heads):
            stop = len(self.lines)
            for nxt, _, lvl in heads[n + 1 :]:
                if lvl <= level:
                    stop = nxt
                    break
            last = stop - 1
            while last > start and not self.lines[last].strip():
                last -= 1
            out.append(Section(path, path[-1], level, (start + 1, last + 1)))
        return tuple(out)
