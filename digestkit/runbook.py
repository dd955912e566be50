"""The structural model of one runbook revision: sections, units with line ranges, typed facts.

``parse_runbook`` runs markdown-it-py (CommonMark plus GFM tables) over a revision and returns a
:class:`Runbook`: the YAML front matter, the sections (heading paths) and the *units* inside them
(headings, list items with their nesting, table rows keyed by the header row, paragraphs, block
quotes, code and HTML blocks, thematic breaks, link reference definitions). Every unit keeps its
1-based inclusive line range in the file, a stable locator, a normalized form used by the diff
(``norm``: inline text without emphasis markers, list markers or line wrapping, link targets kept)
and the typed facts found in it (:func:`extract_facts`).

Input decisions: a UTF-8 BOM and CRLF/CR line endings are accepted; NUL bytes, other control
characters, invalid UTF-8, JSON, HTML and XML documents, and files named like data (``.csv``,
``.json``, ...) raise :class:`~digestkit.exceptions.MarkdownError`;
an empty file is valid Markdown and parses to a runbook without units.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from digestkit.exceptions import MarkdownError

FACT_KINDS = (
    "pager",
    "team",
    "checkpoint",
    "duration",
    "product",
    "exception",
    "tier",
    "open_question",
)
TIERS = ("Premium Plus", "Premium", "Standard")

_WORD_RE = re.compile(r"\w+")
_NAME_CHAR_RE = re.compile(r"[\w-]")
_PAGER_RE = re.compile(
    r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)*-(?:oncall|primary|secondary|pager)(?![\w-])"
)
_EXCEPTION_RE = re.compile(r"\bEXC-\d+\b")
_UNIT = r"(minutes?|mins?|m|hours?|hrs?|h)\b"
_TPLUS_RE = re.compile(r"\bT\s?\+\s?(\d+)\s*" + _UNIT.replace(r")\b", r")?\b"))
_WITHIN_RE = re.compile(r"\bwithin\s+(\d+)\s*" + _UNIT, re.IGNORECASE)
_EVERY_RE = re.compile(r"\bevery\s+(\d+)\s*" + _UNIT, re.IGNORECASE)
_DURATION_RE = re.compile(r"\b(\d+)\s*" + _UNIT, re.IGNORECASE)
_ESCALATE_RE = re.compile(r"\bescalat\w*\b[^.;\n]{0,25}$", re.IGNORECASE)
# "Premium Support" is the name of the service, not a tier.
_TIER_RE = re.compile(r"\b(Premium Plus|Premium|Standard)\b(?!\s+Support\b)")
_OPEN_RE = re.compile(
    r"\b(?:TBD|TBC|TODO)\b"
    r"|\b(?i:pending)\b[^.;\n]{0,60}?\b(?i:confirmation)\b"
    r"|\b(?i:open question)",
)
# Necessary conditions: every pager slug, tier or open-question match contains _WORDY_HINT_RE;
# every exception id, checkpoint or duration match contains _NUMERIC_HINT_RE (all units begin
# with m or h).
_WORDY_HINT_RE = re.compile(
    r"-(?:oncall|primary|secondary|pager)|Premium|Standard|TB[DC]|TODO|(?i:pending|open question)"
)
_NUMERIC_HINT_RE = re.compile(r"\d\s*(?i:[mh])|EXC-\d|T\s?\+\s?\d")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACE_RE = re.compile(r"\s+")
_FM_KEY_RE = re.compile(r"^([^\s#:][^:]*):(?:\s|$)")
# Characters that start an inline rule of CommonMark (escapes, code, emphasis, links, images,
# autolinks and raw HTML, entities); without them inline parsing yields the text unchanged.
_INLINE_MARKUP_RE = re.compile(r"[\\`*_\[<&]")


@dataclass(frozen=True)
class Fact:
    """A typed fact stated in a runbook, with the 1-based line it is on.

    Time facts (``checkpoint``, ``duration``) carry their value in minutes as text ("15").
    ``subject`` is what the fact is about (a table row key or the one product a unit names);
    ``role`` refines the kind: pager ``primary``/``secondary``, team ``owner``, duration
    ``escalate_after``, checkpoint ``t_plus``/``within``/``every``.
    """

    kind: str
    value: str
    line: int
    subject: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Unit:
    """One block of a runbook: the smallest thing the diff matches, moves or redlines.

    ``kind`` is heading, list_item, table_row, paragraph, blockquote, code, html, rule (thematic
    break), reference (link reference definitions) or front_matter (one top-level YAML key, its
    name in ``key``). ``text`` is the raw source of the unit's own
    lines (a list item's text excludes its nested lists, which are units with ``depth + 1``);
    ``norm`` is its content with formatting removed. ``number`` is the rendered number of an
    ordered-list item and ``marker`` its literal marker ("3.", "-"). Table rows have ``cells``
    keyed by the header row and ``key`` = the first cell; the header row itself is a table_row
    unit with ``key`` None.
    """

    kind: str
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

    front_matter: dict
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

    def facts(self, kind: str | None = None) -> list[Fact]:
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
    suffix = Path(path).suffix.lower()
    if suffix in _NOT_MARKDOWN_SUFFIXES:
        raise MarkdownError(
            f"{path}: a {suffix} file is {_NOT_MARKDOWN_SUFFIXES[suffix]}, not a Markdown "
            "revision; pass the runbook's .md file."
        )
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
    source = _decode(text, name)
    lines = source.split("\n")
    front_matter, body_start = _front_matter(lines, name)
    # Blank the front matter instead of cutting it so token line maps stay file line numbers.
    body = "\n".join([""] * body_start + lines[body_start:])
    _reject_non_markdown(body, name)
    md, env = _markdown(), {}
    tokens = md.parse(body, env)
    builder = _Builder(
        lines, env, products=tuple(products), teams=tuple(teams), pagers=tuple(pagers)
    )
    builder.add_front_matter(front_matter, body_start)
    builder.walk(tokens)
    builder.add_orphans(body_start)
    units, sections = builder.finish()
    line_count = len(lines) - 1 if source.endswith("\n") else len(lines)
    return Runbook(front_matter, sections, units, path, line_count if source else 0)


def extract_facts(
    text: str,
    first_line: int,
    *,
    products: Iterable[str] = (),
    teams: Iterable[str] = (),
    pagers: Iterable[str] = (),
) -> list[Fact]:
    """Typed facts in ``text`` (whose first line is ``first_line``), in order of appearance.

    Products, teams and pagers given as registries are matched exactly (case-insensitive, whole
    words); pagers are also recognized by their slug form (``*-oncall``, ``-primary``,
    ``-secondary``, ``-pager``). If the text names exactly one product, the other facts get it
    as their subject.
    """
    found: list[tuple[int, Fact]] = []

    def add(pos: int, kind: str, value: str, role: str | None = None) -> None:
        line = first_line + text.count("\n", 0, pos)
        found.append((pos, Fact(kind, value, line, None, role)))

    taken: list[tuple[int, int]] = []
    # Most units state few facts: one scan each decides whether the word-like and the numeric
    # patterns can match at all (each prefilter is implied by the patterns it guards).
    wordy = _WORDY_HINT_RE.search(text) is not None
    numeric = _NUMERIC_HINT_RE.search(text) is not None
    for m in _PAGER_RE.finditer(text) if wordy else ():
        add(m.start(), "pager", m.group(0))
    for names, kind in ((pagers, "pager"), (teams, "team"), (products, "product")):
        for start, matched, canonical in _phrases(names).finditer(text):
            if kind == "pager" and _PAGER_RE.fullmatch(matched):
                continue
            add(start, kind, canonical)
    if numeric:
        for m in _EXCEPTION_RE.finditer(text):
            add(m.start(), "exception", m.group(0))
        for m in _TPLUS_RE.finditer(text):
            add(m.start(), "checkpoint", _minutes(m.group(1), m.group(2) or "min"), "t_plus")
            taken.append(m.span())
        for regex, role in ((_WITHIN_RE, "within"), (_EVERY_RE, "every")):
            for m in regex.finditer(text):
                add(m.start(), "checkpoint", _minutes(m.group(1), m.group(2)), role)
                taken.append(m.span())
        for m in _DURATION_RE.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            role = "escalate_after" if _ESCALATE_RE.search(text, 0, m.start()) else None
            add(m.start(), "duration", _minutes(m.group(1), m.group(2)), role)
    if wordy:
        for m in _TIER_RE.finditer(text):
            add(m.start(), "tier", m.group(1))
        for m in _OPEN_RE.finditer(text):
            add(m.start(), "open_question", _SPACE_RE.sub(" ", m.group(0)))
    facts = [f for _, f in sorted(found, key=lambda pf: pf[0])]
    named = {f.value for f in facts if f.kind == "product"}
    if len(named) == 1:
        subject = named.pop()
        facts = [f if f.kind == "product" else _with_subject(f, subject) for f in facts]
    return _dedupe(facts)


# ----------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Block structure only: inline content is parsed on demand by _inline_norm, and only for
    # text that has inline markup at all (most runbook lines have none).
    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


def _decode(text: str | bytes, name: str) -> str:
    if isinstance(text, bytes):
        if b"\x00" in text:
            line = text[: text.index(b"\x00")].count(b"\n") + 1
            raise MarkdownError(
                f"{name}: line {line}: contains NUL bytes, so it is a binary file, not a Markdown "
                "revision; pass the runbook's .md file."
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise MarkdownError(
                f"{name}: line {line}: byte {exc.start} is not valid UTF-8; re-save the revision "
                "as UTF-8 Markdown."
            ) from exc
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise MarkdownError(
            f"{name}: line {line}: contains control character {bad.group(0)!r}; this looks like a "
            "binary file, not a Markdown revision."
        )
    return text


# Any text parses as Markdown, so a data file passed by mistake would "diff" as one paragraph;
# these suffixes name formats that are never a runbook revision.
_NOT_MARKDOWN_SUFFIXES = {
    ".csv": "a comma-separated table",
    ".tsv": "a tab-separated table",
    ".json": "a JSON document",
    ".jsonl": "a JSON Lines file",
    ".ndjson": "a JSON Lines file",
    ".yaml": "a YAML document",
    ".yml": "a YAML document",
    ".xml": "an XML document",
    ".html": "an HTML page",
    ".htm": "an HTML page",
    ".ipynb": "a Jupyter notebook",
    ".sqlite": "a database",
    ".db": "a database",
    ".xlsx": "a spreadsheet",
    ".xls": "a spreadsheet",
    ".docx": "a Word document",
    ".pdf": "a PDF document",
    ".zip": "an archive",
    ".gz": "an archive",
}
_DOCUMENT_RE = re.compile(r"\A\s*<(?:!doctype\s+html|html[\s>]|\?xml\s)", re.IGNORECASE)


def _reject_non_markdown(body: str, name: str) -> None:
    stripped = body.strip()
    if _DOCUMENT_RE.match(stripped):
        raise MarkdownError(
            f"{name}: the file is an HTML or XML document, not a Markdown revision; "
            "pass the runbook's .md file."
        )
    if stripped[:1] in ("{", "["):
        try:
            json.loads(stripped)
        except ValueError:
            return
        raise MarkdownError(
            f"{name}: the file is a JSON document, not a Markdown revision; "
            "pass the runbook's .md file."
        )


def _front_matter(lines: list[str], name: str) -> tuple[dict, int]:
    """Parse leading ``---`` YAML front matter; return it and the index of the first body line."""
    if not lines or lines[0].rstrip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise MarkdownError(
            f"{name}: line 1: front matter opened with '---' is never closed; "
            "add a closing '---' line."
        )
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise MarkdownError(
            f"{name}: line {line}: front matter is not valid YAML ({reason})."
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MarkdownError(
            f"{name}: line 2: front matter must be a YAML mapping (key: value), "
            f"got {type(data).__name__}."
        )
    return data, end + 1


class _Phrases:
    """Registry names found in text: exact, case-insensitive, whole words, longest first.

    Thousands of product names make one regex alternation slow (it tries every name at every
    position), so names are indexed by their first word and only those candidates are compared.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.by_first: dict[str, list[tuple[str, str]]] = {}
        for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
            first = _WORD_RE.match(name)
            key = first.group(0).casefold() if first else ""
            self.by_first.setdefault(key, []).append((name.casefold(), name))
        odd = self.by_first.pop("", [])  # names that do not start with a word character
        self.odd_names = {folded: name for folded, name in odd}
        alternatives = "|".join(re.escape(n) for _, n in odd)
        self.odd = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I) if odd else None

    def finditer(self, text: str) -> list[tuple[int, str, str]]:
        """(position, text found, registry spelling) of every non-overlapping match."""
        hits = []
        end = 0
        for word in _WORD_RE.finditer(text) if self.by_first else ():
            start = word.start()
            if start < end or (start and _NAME_CHAR_RE.match(text, start - 1)):
                continue
            for folded, name in self.by_first.get(word.group(0).casefold(), ()):
                stop = start + len(name)
                if text[start:stop].casefold() == folded and not _NAME_CHAR_RE.match(text, stop):
                    hits.append((start, text[start:stop], name))
                    end = stop
                    break
        if self.odd is not None:
            for m in self.odd.finditer(text):
                if not any(a <= m.start() < a + len(f) for a, f, _ in hits):
                    name = self.odd_names.get(m.group(0).casefold(), m.group(0))
                    hits.append((m.start(), m.group(0), name))
            hits.sort()
        return hits


_PHRASES: dict[int, tuple[object, _Phrases]] = {}


def _phrases(names: Iterable[str]) -> _Phrases:
    # Keyed by identity: callers pass the same registry tuple for every unit of a document, and
    # hashing thousands of names per unit would cost more than the matching.
    cached = _PHRASES.get(id(names))
    if cached is None or cached[0] is not names:
        if len(_PHRASES) > 64:
            _PHRASES.clear()
        cached = (names, _Phrases(tuple(names)))
        _PHRASES[id(names)] = cached
    return cached[1]


def _minutes(amount: str, unit: str) -> str:
    return str(int(amount) * 60) if unit.lower().startswith("h") else str(int(amount))


def _with_subject(fact: Fact, subject: str | None) -> Fact:
    if fact.subject is not None or subject is None:
        return fact
    return Fact(fact.kind, fact.value, fact.line, subject, fact.role)


def _dedupe(facts: Iterable[Fact]) -> list[Fact]:
    seen: set[tuple] = set()
    out = []
    for f in facts:
        key = (f.kind, f.value, f.subject, f.role)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _column_role(header: str) -> tuple[str, str | None] | None:
    """The fact a table column states, from its header text."""
    h = header.casefold()
    if "primary" in h:
        return "pager", "primary"
    if "secondary" in h:
        return "pager", "secondary"
    if "escalat" in h:
        return "duration", "escalate_after"
    if "team" in h or "owner" in h:
        return "team", "owner"
    if "product" in h:
        return "product", None
    if "pager" in h or "on-call" in h or "oncall" in h:
        return "pager", None
    if "tier" in h:
        return "tier", None
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "_"


def _inline_norm(token: Token, env: dict) -> str:
    """Plain content of an inline token: text and code, link targets kept, emphasis dropped.

    Callers collapse whitespace, so text without inline markup is returned as it is: parsing it
    would only turn its line breaks into spaces. ``env`` holds the link reference definitions.
    """
    if not _INLINE_MARKUP_RE.search(token.content):
        return token.content
    md = _markdown()
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
    return _SPACE_RE.sub(" ", text).strip()


@dataclass
class _Open:
    """A unit being built while its tokens stream by."""

    kind: str
    section: tuple[str, ...]
    start: int
    end: int
    locator: str
    depth: int = 0
    number: int | None = None
    marker: str = ""
    parts: list[str] = field(default_factory=list)
    holes: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _Table:
    headers: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    row_map: tuple[int, int] = (0, 0)
    index: int = 0
    in_head: bool = False


class _Builder:
    """Turns the markdown-it token stream into units and sections."""

    def __init__(self, lines: list[str], env: dict, *, products, teams, pagers) -> None:
        self.lines = lines
        self.inline_env = env  # markdown-it's env of the block parse: reference definitions
        self.products, self.teams, self.pagers = products, teams, pagers
        self.units: list[dict] = []
        self.headings: list[tuple[int, tuple[str, ...], int]] = []  # (line0, path, level)
        self.path: tuple[str, ...] = ()
        self.levels: list[int] = []
        self.counters: dict[tuple[tuple[str, ...], str], int] = {}
        self.owners: list[_Open] = []
        self.lists: list[dict] = []
        self.quote_depth = 0
        self.table: _Table | None = None
        self.covered: list[tuple[int, int]] = []

    # -- locators
    def _count(self, what: str, scope: tuple[str, ...] | None = None) -> int:
        key = (scope if scope is not None else self.path, what)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def _prefix(self) -> str:
        return "/".join(_slug(t) for t in self.path) or "_"

    # -- token walk
    def walk(self, tokens: list[Token]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            t = tok.type
            inside = bool(self.owners) or self.quote_depth > 0
            if t == "heading_open" and not inside:
                self._heading(tok, tokens[i + 1])
                i += 2
            elif t in ("bullet_list_open", "ordered_list_open"):
                self._list_open(tok)
            elif t in ("bullet_list_close", "ordered_list_close"):
                if self.lists:
                    self.lists.pop()
            elif t == "list_item_open":
                self._item_open(tok)
            elif t == "list_item_close":
                if self.lists and self.lists[-1]["token"] is not None:
                    self._close_owner()
            elif t == "blockquote_open":
                if not inside:
                    self.owners.append(self._open("blockquote", tok, "quote"))
                self.quote_depth += 1
            elif t == "blockquote_close":
                self.quote_depth -= 1
                if self.quote_depth == 0 and self.owners and self.owners[-1].kind == "blockquote":
                    self._close_owner()
            elif t == "inline":
                self._inline(tok)
            elif t in ("fence", "code_block", "html_block", "hr"):
                self._leaf(tok)
            elif t == "paragraph_open" and not inside:
                self.owners.append(self._open("paragraph", tok, "p"))
            elif t == "paragraph_close" and self.owners and self.owners[-1].kind == "paragraph":
                self._close_owner()
            elif t == "table_open" and not inside:
                self.table = _Table(index=self._count("table"))
            elif t == "table_close" and self.table is not None and not inside:
                self.table = None
            elif t == "thead_open" and self.table is not None and not inside:
                self.table.in_head = True
            elif t == "thead_close" and self.table is not None and not inside:
                self.table.in_head = False
            elif t == "tr_open" and self.table is not None and not inside:
                self.table.cells = []
                self.table.row_map = (tok.map[0], tok.map[1]) if tok.map else (0, 1)
            elif t == "tr_close" and self.table is not None and not inside:
                self._row()
            i += 1

    def _open(self, kind: str, tok: Token, what: str, **extra) -> _Open:
        start, end = tok.map if tok.map else (0, 1)
        locator = f"{self._prefix()}:{what}{self._count(what)}"
        return _Open(kind, self.path, start, end, locator, **extra)

    def _heading(self, tok: Token, inline: Token) -> None:
        level = int(tok.tag[1])
        title = _collapse(_inline_norm(inline, self.inline_env)) or "(untitled)"
        while self.levels and self.levels[-1] >= level:
            self.levels.pop()
            self.path = self.path[:-1]
        self.levels.append(level)
        self.path = (*self.path, title)
        start, end = tok.map
        self.headings.append((start, self.path, level))
        locator = f"{self._prefix()}:heading{self._count('heading')}"
        self._emit("heading", self.path, start, end, [], title, locator)

    def _list_open(self, tok: Token) -> None:
        owner = self.owners[-1] if self.owners else None
        if self.quote_depth > 0 or (owner is not None and owner.kind != "list_item"):
            self.lists.append({"token": None})  # content of a quote or paragraph-like owner
            return
        if owner is not None and tok.map:
            owner.holes.append((tok.map[0], tok.map[1]))
        parent = (
            owner.locator if owner is not None else f"{self._prefix()}:list{self._count('list')}"
        )
        start = int(tok.attrGet("start") or 1) if tok.type == "ordered_list_open" else None
        depth = sum(1 for entry in self.lists if entry["token"] is not None)
        self.lists.append({"token": tok, "start": start, "n": 0, "parent": parent, "depth": depth})

    def _item_open(self, tok: Token) -> None:
        entry = self.lists[-1] if self.lists else {"token": None}
        if entry["token"] is None:
            return
        entry["n"] += 1
        number = entry["start"] + entry["n"] - 1 if entry["start"] is not None else None
        marker = f"{tok.info}{tok.markup}" if number is not None else tok.markup
        start, end = tok.map
        self.owners.append(
            _Open(
                "list_item",
                self.path,
                start,
                end,
                f"{entry['parent']}.{entry['n']}",
                depth=entry["depth"],
                number=number,
                marker=marker,
            )
        )

    def _inline(self, tok: Token) -> None:
        if self.table is not None and not self.owners and self.quote_depth == 0:
            self.table.cells.append(_collapse(_inline_norm(tok, self.inline_env)))
        elif self.owners:
            self.owners[-1].parts.append(_inline_norm(tok, self.inline_env))

    def _leaf(self, tok: Token) -> None:
        content = tok.content
        if tok.type in ("fence", "code_block"):
            # Code keeps its indentation; only trailing spaces and the fence are formatting.
            content = "\n".join(line.rstrip() for line in content.strip("\n").split("\n"))
            if tok.type == "fence" and tok.info:
                content = f"{tok.info.strip()}\n{content}"
        elif tok.type == "hr":
            content = "---"
        if self.owners or self.quote_depth > 0:
            if self.owners:
                self.owners[-1].parts.append(content)
            return
        kind, what = {
            "fence": ("code", "code"),
            "code_block": ("code", "code"),
            "html_block": ("html", "html"),
            "hr": ("rule", "rule"),
        }[tok.type]
        norm = content if kind == "code" else _collapse(content)
        start, end = tok.map
        locator = f"{self._prefix()}:{what}{self._count(what)}"
        self._emit(kind, self.path, start, end, [], norm, locator)

    def _row(self) -> None:
        table = self.table
        start, end = table.row_map
        base = f"{self._prefix()}:table{table.index}"
        if table.in_head:
            table.headers = list(table.cells)
            # The delimiter row (alignment) belongs to the header row's unit.
            self._emit(
                "table_row",
                self.path,
                start,
                end + 1,
                [],
                " | ".join(table.cells),
                f"{base}.header",
                cells={h: h for h in table.cells},
            )
            return
        headers = table.headers or [f"column {k + 1}" for k in range(len(table.cells))]
        cells = {
            headers[k] if k < len(headers) else f"column {k + 1}": v
            for k, v in enumerate(table.cells)
        }
        key = table.cells[0] if table.cells else ""
        self._emit(
            "table_row",
            self.path,
            start,
            end,
            [],
            " | ".join(table.cells),
            f"{base}.row[{key}]",
            key=key,
            cells=cells,
        )

    def _close_owner(self) -> None:
        o = self.owners.pop()
        norm = _collapse(" ".join(o.parts))
        self._emit(
            o.kind,
            o.section,
            o.start,
            o.end,
            o.holes,
            norm,
            o.locator,
            depth=o.depth,
            number=o.number,
            marker=o.marker,
        )

    def _emit(self, kind, section, start, end, holes, norm, locator, **extra) -> None:
        span = range(start, min(end, len(self.lines)))
        own = [k for k in span if not any(a <= k < b for a, b in holes)] if holes else list(span)
        while own and not self.lines[own[-1]].strip():
            own.pop()
        if not own:
            own = [start]
        self.covered.append((start, end))
        self.units.append(
            {
                "kind": kind,
                "section": section,
                "own": own,
                "norm": norm,
                "locator": locator,
                **extra,
            }
        )

    def add_front_matter(self, data: dict, body_start: int) -> None:
        """One front_matter unit per top-level key, spanning the key's lines, keyed by the key."""
        starts = []
        for k in range(1, body_start - 1):
            m = _FM_KEY_RE.match(self.lines[k])
            if m and m.group(1).strip("'\"") in {str(key) for key in data}:
                starts.append((k, m.group(1).strip("'\"")))
        for n, (start, key) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else body_start
            # The '---' delimiters belong to the first and last entries, so they are never orphans.
            start = 0 if n == 0 else start
            value = next(v for kk, v in data.items() if str(kk) == key)
            norm = f"{key}: {json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)}"
            self.covered.append((start, end))
            self.units.append(
                {
                    "kind": "front_matter",
                    "section": (),
                    "own": [k for k in range(start, end) if self.lines[k].strip()] or [start],
                    "norm": norm,
                    "locator": f"front-matter:{key}",
                    "key": key,
                }
            )

    def add_orphans(self, body_start: int) -> None:
        """Non-blank lines no token claims (link reference definitions) become reference units."""
        claimed = bytearray(len(self.lines))
        for a, b in self.covered:
            claimed[a:b] = b"\x01" * (min(b, len(self.lines)) - a)
        run: list[int] = []
        orphans: list[list[int]] = []
        for k in range(body_start, len(self.lines)):
            if not claimed[k] and self.lines[k].strip():
                run.append(k)
            elif run:
                orphans.append(run)
                run = []
        if run:
            orphans.append(run)
        for run in orphans:
            section = self._section_at(run[0])
            scope = "/".join(_slug(t) for t in section) or "_"
            locator = f"{scope}:ref{self._count('ref', section)}"
            text = " ".join(self.lines[k] for k in run)
            self.units.append(
                {
                    "kind": "reference",
                    "section": section,
                    "own": run,
                    "norm": _collapse(text),
                    "locator": locator,
                }
            )

    def _section_at(self, line0: int) -> tuple[str, ...]:
        path: tuple[str, ...] = ()
        for start, p, _ in self.headings:
            if start > line0:
                break
            path = p
        return path

    def finish(self) -> tuple[tuple[Unit, ...], tuple[Section, ...]]:
        self.units.sort(key=lambda u: u["own"][0])
        registry = set(self.products)
        table_products = {
            u["cells"][h]
            for u in self.units
            if u["kind"] == "table_row" and u.get("key") is not None
            for h in u["cells"]
            if _column_role(h) == ("product", None) and u["cells"][h]
        }
        products = tuple(sorted(registry | table_products))
        units = tuple(self._unit(u, products) for u in self.units)
        return units, self._sections()

    def _unit(self, u: dict, products: tuple[str, ...]) -> Unit:
        own = u["own"]
        text = "\n".join(self.lines[k] for k in own)
        first = own[0] + 1
        facts = extract_facts(text, first, products=products, teams=self.teams, pagers=self.pagers)
        if u["kind"] == "front_matter":
            facts = []
        elif u["kind"] == "heading":
            # A heading titled "Open questions" names a section; it is not itself an open question.
            facts = [f for f in facts if f.kind != "open_question"]
        cells = u.get("cells", {})
        if u["kind"] == "table_row" and u.get("key") is not None:
            prose = [f if f.kind == "product" else _with_subject(f, u["key"]) for f in facts]
            facts = _dedupe([*self._cell_facts(cells, u["key"], first), *prose])
            typed = {(f.kind, f.value) for f in facts if f.role is not None}
            facts = [f for f in facts if f.role is not None or (f.kind, f.value) not in typed]
        return Unit(
            kind=u["kind"],
            section=u["section"],
            text=text,
            norm=u["norm"],
            lines=(first, own[-1] + 1),
            locator=u["locator"],
            number=u.get("number"),
            depth=u.get("depth", 0),
            key=u.get("key"),
            cells=cells,
            facts=tuple(facts),
            marker=u.get("marker", ""),
        )

    def _cell_facts(self, cells: dict[str, str], key: str, line: int) -> list[Fact]:
        facts = []
        for header, value in cells.items():
            role = _column_role(header)
            if role is None or not value:
                continue
            kind, sub = role
            if _OPEN_RE.search(value):
                facts.append(Fact("open_question", value, line, key, sub))
            elif kind == "duration":
                m = _DURATION_RE.search(value)
                if m:
                    facts.append(Fact(kind, _minutes(m.group(1), m.group(2)), line, key, sub))
            elif kind == "product":
                facts.append(Fact(kind, value, line, None, None))
            else:
                facts.append(Fact(kind, value, line, key, sub))
        return facts

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
