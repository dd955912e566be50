"""Semantic diff of two runbook revisions: aligned units, change kinds, redlines and fact changes.

:mod:`digestkit.align` pairs the units of the two revisions and finds the moved pairs. Every
matched pair is then *moved*, *renumbered* (only the ordered-list number changed, both rendered
and literal), *modified* (normalized content differs) or unchanged; unmatched units are *added*
or *removed*. Pairs whose raw text differs but whose normalized content, number and position do
not are *formatting-only*: listed apart, not reported as changes.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from digestkit.align import MAX_FUZZY_PAIRS, MOVE_SCORE_CUTOFF, SCORE_CUTOFF, Aligner
from digestkit.redline import (
    Segment,
    line_segments,
    redline_text,
    segments_html,
    sentence_segments,
    word_segments,
)
from digestkit.runbook import Fact, Runbook, Unit, UnitKind, parse_runbook, read_runbook

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CHANGE_KINDS",
    "MAX_FUZZY_PAIRS",
    "MOVE_SCORE_CUTOFF",
    "SCHEMA_VERSION",
    "SCORE_CUTOFF",
    "Change",
    "ChangeKind",
    "Diff",
    "FactChange",
    "Segment",
    "Span",
    "change_to_dict",
    "diff_files",
    "diff_revisions",
    "diff_runbooks",
    "diff_texts",
    "md_escape",
    "segments_html",
    "to_html",
    "to_markdown",
    "word_segments",
]

SCHEMA_VERSION = 2
_FRAME_COLUMNS = [
    "kind",
    "section",
    "unit",
    "old lines",
    "new lines",
    "old text",
    "new text",
    "facts",
]
ChangeKind = Literal["added", "removed", "modified", "moved", "renumbered"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)
PairKind = ChangeKind | Literal["formatting"]

_FIELDS = {
    ("pager", "primary"): "primary on-call",
    ("pager", "secondary"): "secondary on-call",
    ("pager", None): "pager",
    ("team", "owner"): "owning team",
    ("team", None): "team",
    ("duration", "escalate_after"): "escalate after",
    ("duration", None): "duration",
    ("checkpoint", "t_plus"): "checkpoint",
    ("checkpoint", "within"): "within",
    ("checkpoint", "every"): "update interval",
    ("open_question", "secondary"): "secondary on-call",
    ("open_question", "primary"): "primary on-call",
}


@dataclass(frozen=True, slots=True)
class Span:
    """One side of a change: the unit's raw text and its 1-based inclusive line range."""

    text: str
    lines: tuple[int, int]


@dataclass(frozen=True, slots=True)
class FactChange:
    """A change of one typed fact, stated in words ("escalate after: 30 min → 15 min")."""

    field: str
    subject: str | None
    old: str | None
    new: str | None
    statement: str


@dataclass(frozen=True, slots=True)
class Change:
    """One reported change of one unit; ``section`` is the heading path on the new side."""

    kind: PairKind
    section: tuple[str, ...]
    old: Span | None
    new: Span | None
    facts: tuple[FactChange, ...]
    redline: str
    unit: UnitKind
    locator: str
    segments: tuple[Segment, ...] = ()
    old_section: tuple[str, ...] = ()  # heading path on the old side (differs for moves)
    notes: tuple[str, ...] = ()  # what changed in a formatting-only pair, one note per class


@dataclass(frozen=True)
class Diff:
    """The changes between two revisions, the formatting-only pairs, and counts."""

    changes: tuple[Change, ...]
    stats: dict[str, Any]
    formatting: tuple[Change, ...] = ()
    old_label: str = ""  # what was compared, for report headings: runbook@revision or file
    new_label: str = ""

    def to_frame(self, *, metadata: bool = False) -> pd.DataFrame:
        """One row per change (kind, section, unit, lines and text of both sides) for notebooks.

        Front-matter (revision metadata) changes are left out unless ``metadata``, as in the
        digest, whose changed steps never list them.
        """
        import pandas as pd  # only notebooks need it; keep `digestkit diff` light

        rows = [
            {
                "kind": c.kind,
                "section": " > ".join(c.section),
                "unit": c.unit,
                "old lines": c.old.lines if c.old else None,
                "new lines": c.new.lines if c.new else None,
                "old text": c.old.text if c.old else None,
                "new text": c.new.text if c.new else None,
                "facts": "; ".join(f.statement for f in c.facts),
            }
            for c in self.changes
            if metadata or c.unit != "front_matter"
        ]
        return pd.DataFrame(rows, columns=_FRAME_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON contract (docs/diff-json.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "changes": [change_to_dict(c) for c in self.changes],
            "formatting_only": [
                {
                    "section": list(c.section),
                    "unit": c.unit,
                    "locator": c.locator,
                    "old_lines": list(c.old.lines),
                    "new_lines": list(c.new.lines),
                    "what": list(c.notes),
                }
                for c in self.formatting
                if c.old is not None and c.new is not None
            ],
            "stats": dict(self.stats),
        }


def diff_texts(
    old: str | bytes,
    new: str | bytes,
    *,
    products: Sequence[str] = (),
    teams: Sequence[str] = (),
    pagers: Sequence[str] = (),
    score_cutoff: float = SCORE_CUTOFF,
) -> Diff:
    """Diff two revisions given as Markdown text, matching facts against the registry names."""
    old_rb = parse_runbook(old, products=products, teams=teams, pagers=pagers)
    new_rb = parse_runbook(new, products=products, teams=teams, pagers=pagers)
    return diff_runbooks(old_rb, new_rb, score_cutoff=score_cutoff)


def diff_files(
    old: str | Path,
    new: str | Path,
    *,
    products: Sequence[str] = (),
    teams: Sequence[str] = (),
    pagers: Sequence[str] = (),
    score_cutoff: float = SCORE_CUTOFF,
) -> Diff:
    """Diff two revision files (MarkdownError naming a file that is not Markdown)."""
    old_rb = read_runbook(old, products=products, teams=teams, pagers=pagers)
    new_rb = read_runbook(new, products=products, teams=teams, pagers=pagers)
    return diff_runbooks(old_rb, new_rb, score_cutoff=score_cutoff)


def diff_revisions(
    runbook_id: str,
    old: str,
    new: str,
    *,
    data: str | Path | None = None,
    score_cutoff: float = SCORE_CUTOFF,
) -> Diff:
    """Diff two revision ids of a runbook in the repository, matching facts against the registry."""
    from digestkit import sources

    src = sources.open_sources(data)
    registry = sources.registry_names(src)
    names = [*registry.teams, *registry.display_names]
    revs = [sources.read_revision(src, runbook_id, rev) for rev in (old, new)]
    old_rb, new_rb = (
        parse_runbook(
            r.text, path=r.path, products=registry.products, teams=names, pagers=registry.pagers
        )
        for r in revs
    )
    return diff_runbooks(old_rb, new_rb, score_cutoff=score_cutoff)


def diff_runbooks(old: Runbook, new: Runbook, *, score_cutoff: float = SCORE_CUTOFF) -> Diff:
    """Align two parsed revisions and classify every unit that changed.

    >>> d = diff_texts("1. Page ops.\\n2. Call.\\n", "1. Triage.\\n2. Page ops.\\n3. Call.\\n")
    >>> [c.kind for c in d.changes]
    ['added', 'renumbered', 'renumbered']
    """
    a = Aligner(old.units, new.units, score_cutoff)
    a.run()
    return replace(_classify(a, old, new), old_label=_label(old), new_label=_label(new))


def _label(rb: Runbook) -> str:
    fm = rb.front_matter
    if fm.get("runbook_id") and fm.get("revision"):
        name = f"{fm['runbook_id']}@{fm['revision']}"
        return f"{name} ({rb.path})" if rb.path else name
    return rb.path or ""


# ----------------------------------------------------------------------------- classification


def _classify(a: Aligner, old_rb: Runbook, new_rb: Runbook) -> Diff:
    """Every matched, added and removed unit as a change, a formatting-only pair or nothing."""
    moved = a.moved()
    values: dict[str, set[tuple[str, str]]] = {}

    def fact_changes(o: tuple[Fact, ...], n: tuple[Fact, ...]) -> list[FactChange]:
        if not values:  # revision-wide fact values, needed only once a unit changed
            values["old"] = {(f.kind, f.value) for f in old_rb.facts()}
            values["new"] = {(f.kind, f.value) for f in new_rb.facts()}
        return _fact_changes(o, n, values["old"], values["new"])

    changes: list[tuple[float, Change]] = []
    formatting: list[Change] = []
    old, new, joined_old, joined_new = a.old, a.new, a.joined_old, a.joined_new
    for i, j in a.o2n.items():
        o, n = old[i], new[j]
        if i in joined_old or j in joined_new:
            o = _joined(old, [i, *joined_old.get(i, [])])
            n = _joined(new, [j, *joined_new.get(j, [])])
        # A paragraph that became a list item (or back) is an edit even with the same words.
        same = o.norm == n.norm and o.kind == n.kind
        kind: ChangeKind
        if i in moved:
            kind = "moved"
        elif not same:
            kind = "modified"
        elif (
            o.marker != n.marker
            and _literal(o) != _literal(n)
            and (o.number != n.number or _literal(n) == str(n.number))
        ):
            # A changed number counts when the item's position changed, or when a slip in
            # the source numbering was corrected; 1. 2. -> 1. 1. (lazy numbering) does not.
            kind = "renumbered"
        elif o.text == n.text and o.depth == n.depth and o.info == n.info and o.level == n.level:
            continue  # unchanged: the usual case
        else:
            notes = _formatting(o, n)
            if notes:
                formatting.append(_change("formatting", o, n, (), (), notes))
            continue
        facts = [] if same else fact_changes(o.facts, n.facts)
        segments = [] if same else _redline(o, n)
        changes.append((n.lines[0], _change(kind, o, n, facts, segments)))
    for j in a.left("new"):
        n = a.new[j]
        changes.append((n.lines[0], _change("added", None, n, fact_changes((), n.facts), ())))
    # A removed unit sits after the new position of the nearest matched unit before it.
    anchor, prev = 0.0, -1
    for i in a.left("old"):
        k = i - 1
        while k > prev and k not in a.o2n:
            k -= 1
        if k > prev:
            anchor = a.new[a.o2n[k]].lines[0]
        prev = i
        o = a.old[i]
        changes.append((anchor + 0.5, _change("removed", o, None, fact_changes(o.facts, ()), ())))
    changes.sort(key=itemgetter(0))
    ordered = tuple(c for _, c in changes)
    counts = Counter(c.kind for c in ordered)
    stats: dict[str, Any] = {
        **{k: counts[k] for k in CHANGE_KINDS},
        "formatting_only": len(formatting),
        "units_old": len(a.old),
        "units_new": len(a.new),
        "exact_matches": a.counts["exact"],
        "anchor_matches": a.counts["anchor"],
        "key_matches": a.counts["key"],
        "fuzzy_matches": a.counts["fuzzy"],
        "in_place_matches": a.counts["in_place"],
        "joined_matches": a.counts["joined"],
        "fuzzy_candidates": a.counts["fuzzy_candidates"],
        "score_cutoff": a.cutoff,
        "move_score_cutoff": max(a.cutoff, MOVE_SCORE_CUTOFF),
        "front_matter_changed": sorted(
            k
            for k in set(old_rb.front_matter) | set(new_rb.front_matter)
            if old_rb.front_matter.get(k) != new_rb.front_matter.get(k)
        ),
    }
    formatting.sort(key=lambda c: c.new.lines[0] if c.new else 0)
    return Diff(ordered, stats, tuple(formatting))


def _joined(units: tuple[Unit, ...], indices: list[int]) -> Unit:
    """One side of a pair that absorbed more units (a merged sub-step, a list from a paragraph):
    the first unit with the text, content, lines and facts of all of them."""
    parts = [units[k] for k in indices]
    return replace(
        parts[0],
        text="\n".join(u.text for u in parts),
        norm=" ".join(u.norm for u in parts),
        lines=(parts[0].lines[0], max(u.lines[1] for u in parts)),
        facts=tuple(f for u in parts for f in u.facts),
    )


def _redline(o: Unit, n: Unit) -> list[Segment]:
    if o.kind == "code" and n.kind == "code":
        return line_segments(o.norm, n.norm)
    if o.kind != n.kind:  # the markup that changed (a list marker) is part of the edit
        return sentence_segments(" ".join(o.text.split()), " ".join(n.text.split()))
    return sentence_segments(o.norm, n.norm)


_CURLY = re.compile("[“”„‘’‚]")


def _formatting(o: Unit, n: Unit) -> tuple[str, ...]:
    """What changed in a pair whose content is equal, one note per documented class; empty
    when nothing did."""
    notes = []
    if o.level != n.level:
        notes.append(f"heading level {o.level} → {n.level}")
    if o.info != n.info:
        notes.append(f"fence language {o.info or '(none)'} → {n.info or '(none)'}")
    if o.kind == "code" and o.depth != n.depth:
        notes.append("code nested under a step" if n.depth > o.depth else "code out of its step")
    curly_o, curly_n = len(_CURLY.findall(o.text)), len(_CURLY.findall(n.text))
    if curly_o != curly_n:
        notes.append("quotes straight → curly" if curly_n > curly_o else "quotes curly → straight")
    if o.marker != n.marker:
        if o.number is not None and n.number is not None and _literal(o) != _literal(n):
            notes.append(f"lazy numbering {o.marker} → {n.marker}")
        else:
            notes.append(f"list marker {o.marker} → {n.marker}")
    if notes or o.text == n.text:
        return tuple(notes)
    if o.text.split() == n.text.split():
        return ("whitespace or line wrapping",)
    return ("markup (emphasis, code spans, escapes, table pipes or alignment)",)


def _literal(u: Unit) -> str:
    return u.marker.rstrip(".)")


def _change(
    kind: PairKind,
    o: Unit | None,
    n: Unit | None,
    facts: Iterable[FactChange],
    segments: Sequence[Segment],
    notes: tuple[str, ...] = (),
) -> Change:
    side = n if n is not None else o
    assert side is not None, "a change has at least one side"
    return Change(
        kind,
        side.section,
        _span(o),
        _span(n),
        tuple(facts),
        redline_text(segments, lines=side.kind == "code") if segments else "",
        side.kind,
        side.locator,
        tuple(segments),
        o.section if o is not None else (),
        notes,
    )


def _span(u: Unit | None) -> Span | None:
    return None if u is None else Span(u.text, u.lines)


def _field(f: Fact) -> str:
    return _FIELDS.get((f.kind, f.role), f.kind.replace("_", " "))


def _show(f: Fact, value: str) -> str:
    if f.kind == "checkpoint" and f.role == "t_plus":
        return f"T+{value}"
    if f.kind in ("checkpoint", "duration"):
        return f"{value} min"
    return value


def _fact_changes(
    old: tuple[Fact, ...],
    new: tuple[Fact, ...],
    old_values: set[tuple[str, str]],
    new_values: set[tuple[str, str]],
) -> list[FactChange]:
    """State what happened to each typed fact between the two sides of one unit."""

    def group(facts: Iterable[Fact]) -> dict[tuple[str, str | None], list[Fact]]:
        out: dict[tuple[str, str | None], list[Fact]] = defaultdict(list)
        for f in facts:
            # A pager slot that became "TBD" is the same slot: compare on field, not on fact kind.
            out[(_field(f), f.subject)].append(f)
        return out

    before, after = group(old), group(new)
    found: list[tuple[str, str | None, list[Fact], list[Fact]]] = []
    for key in list(dict.fromkeys([*before, *after])):
        field, subject = key
        olds, news = before.get(key, []), after.get(key, [])
        ov = [f.value for f in olds]
        nv = [f.value for f in news]
        gone = [f for f in olds if f.value not in nv]
        came = [f for f in news if f.value not in ov]
        found.append((field, subject, gone, came))
    # A fact still stated in the unit whose subject changed (a second product named, a TODO
    # that stays) did not go or come.
    stays = {(field, f.value) for field, _, gone, _ in found for f in gone} & {
        (field, f.value) for field, _, _, came in found for f in came
    }
    changes: list[FactChange] = []
    for field, subject, gone_all, came_all in found:
        gone = [f for f in gone_all if (field, f.value) not in stays]
        came = [f for f in came_all if (field, f.value) not in stays]
        about = f" for {subject}" if subject else ""
        if len(gone) == 1 and len(came) == 1:
            g, c = gone[0], came[0]
            changes.append(
                FactChange(
                    field,
                    subject,
                    g.value,
                    c.value,
                    f"{field}{about}: {_show(g, g.value)} → {_show(c, c.value)}",
                )
            )
            continue
        for g in gone:
            where = (
                "no longer referenced" if (g.kind, g.value) not in new_values else "removed here"
            )
            changes.append(
                FactChange(
                    field, subject, g.value, None, f"{field} {_show(g, g.value)}{about} {where}"
                )
            )
        for c in came:
            where = "newly referenced" if (c.kind, c.value) not in old_values else "added here"
            changes.append(
                FactChange(
                    field, subject, None, c.value, f"{field} {_show(c, c.value)}{about} {where}"
                )
            )
    return changes


# ----------------------------------------------------------------------------- output


def change_to_dict(c: Change) -> dict[str, Any]:
    """One change as it appears in the JSON contract."""

    def span(s: Span | None) -> dict[str, Any] | None:
        return None if s is None else {"text": s.text, "lines": list(s.lines)}

    return {
        "kind": c.kind,
        "section": list(c.section),
        "old_section": list(c.old_section),
        "old": span(c.old),
        "new": span(c.new),
        "facts": [
            {
                "field": f.field,
                "subject": f.subject,
                "old": f.old,
                "new": f.new,
                "statement": f.statement,
            }
            for f in c.facts
        ],
        "redline": c.redline,
        "unit": c.unit,
        "locator": c.locator,
    }


def _shown(c: Change) -> Span:
    """The side of a change a report quotes: the new one, or the old one of a removal."""
    side = c.new or c.old
    assert side is not None, "a change has at least one side"
    return side


def _where(c: Change) -> str:
    parts = []
    if c.old is not None:
        parts.append(f"old lines {c.old.lines[0]}–{c.old.lines[1]}")
    if c.new is not None:
        parts.append(f"new lines {c.new.lines[0]}–{c.new.lines[1]}")
    return ", ".join(parts)


def _compared(diff: Diff) -> str:
    if not (diff.old_label or diff.new_label):
        return ""
    return f"{diff.old_label or '(old)'} → {diff.new_label or '(new)'}"


def _split(diff: Diff) -> tuple[list[Change], list[Change]]:
    """(front-matter changes, content changes): revision metadata is shown apart, field by field."""
    meta = [c for c in diff.changes if c.unit == "front_matter"]
    return meta, [c for c in diff.changes if c.unit != "front_matter"]


def _summary(diff: Diff) -> str:
    meta, content = _split(diff)
    kinds = Counter(c.kind for c in content)
    counts = ", ".join(f"{kinds[k]} {k}" for k in CHANGE_KINDS)
    summary = f"{counts}; {diff.stats['formatting_only']} formatting-only (not listed)"
    if meta:
        summary += f"; {len(meta)} revision metadata field(s) changed"
    return summary


def _metadata_field(c: Change) -> tuple[str, str | None, str | None]:
    """(key, old value, new value) of a front-matter change, whitespace collapsed."""

    def value(span: Span | None) -> str | None:
        if span is None:
            return None
        words = span.text.partition(":")[2].split()
        if words and words[0] in (">", "|", ">-", "|-", ">+", "|+"):  # a YAML block scalar
            words = words[1:]
        return " ".join(words)

    key = _shown(c).text.partition(":")[0].strip()
    return key, value(c.old), value(c.new)


def _field_line(c: Change) -> str:
    key, old, new = _metadata_field(c)
    if old is None:
        return f"{key}: {new} (added)"
    if new is None:
        return f"{key}: {old} (removed)"
    return f"{key}: {old} → {new}"


_MD_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
_MD_MARKER = re.compile(r"^([#>+=-])")
_MD_NUMBERED = re.compile(r"^(\d+)([.)])")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: runbook text quoted in a report never becomes a heading,
    list, emphasis, strike-through, link or raw HTML there."""
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_NUMBERED.sub(r"\1\\\2", _MD_MARKER.sub(r"\\\1", text))


def to_markdown(diff: Diff) -> str:
    """The diff as a Markdown report: revision metadata field by field, then one bullet per
    content change with its redline and fact changes."""
    meta, content = _split(diff)
    out = ["# Runbook changes", ""]
    if _compared(diff):
        out += [_compared(diff), ""]
    out += [_summary(diff), ""]
    if meta:
        out += ["## Revision metadata", "", *(f"- {md_escape(_field_line(c))}" for c in meta), ""]
        out += ["## Content changes", ""]
    for c in content:
        section = md_escape(" › ".join(c.section) or "(top of document)")
        out.append(f"- **{c.kind}** {c.unit} in *{section}* ({_where(c)})")
        if c.segments and c.unit == "code":
            out.extend(_code_redline(c.segments))
        elif c.segments:
            marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
            out.append("  " + " ".join(marks[op].format(md_escape(t)) for op, t in c.segments))
        else:
            side = _shown(c)
            out.append("  > " + md_escape(" ".join(side.text.split())))
        out.extend(f"  - {md_escape(f.statement)}" for f in c.facts)
    return "\n".join(out) + "\n"


_DIFF_PREFIX = {"=": " ", "-": "-", "+": "+"}


def _code_redline(segments: Iterable[Segment]) -> list[str]:
    """A code redline as an indented ``diff`` block: literal, so no escaping, with a fence longer
    than any backtick run in the code."""
    lines = [f"{ {'=': ' ', '-': '-', '+': '+'}[op] } {text}".rstrip() for op, text in segments]
    runs = [len(run) for line in lines for run in re.findall(r"`+", line)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [f"  {line}" for line in (f"{fence}diff", *lines, fence)]


def to_html(diff: Diff) -> str:
    """The diff as a standalone HTML page; all runbook text is escaped."""
    e = html.escape
    meta, content = _split(diff)
    rows = []
    for c in content:
        if c.segments and c.unit == "code":
            body = f"<pre>{segments_html(c.segments, lines=True)}</pre>"
        elif c.segments:
            body = segments_html(c.segments)
        else:
            side = _shown(c)
            body = e(" ".join(side.text.split()))
        facts = "".join(f"<li>{e(f.statement)}</li>" for f in c.facts)
        rows.append(
            f'<li class="change {e(c.kind)}"><strong>{e(c.kind)}</strong> {e(c.unit)} in '
            f"<em>{e(' › '.join(c.section) or '(top of document)')}</em> "
            f"<small>{e(_where(c))}</small><div>{body}</div>"
            + (f"<ul>{facts}</ul>" if facts else "")
            + "</li>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(' '.join(['Runbook changes', _compared(diff)]).strip())}</title>"
        "<style>del{background:#fdd}ins{background:#dfd;text-decoration:none}"
        "li.change{margin:.5em 0}</style></head><body>"
        f"<h1>Runbook changes</h1><p>{e(_compared(diff))}</p>"
        f"<p>{e(_summary(diff))}</p>"
        + (
            "<h2>Revision metadata</h2><ul>"
            + "".join(f"<li>{e(_field_line(c))}</li>" for c in meta)
            + "</ul><h2>Content changes</h2>"
            if meta
            else ""
        )
        + f"<ul>{''.join(rows)}</ul></body></html>\n"
    )
