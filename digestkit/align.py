"""Alignment of two revisions' units: which old unit is which new unit, and which of them moved.

Passes run in order, each only on what the previous ones left unmatched, so a mostly unchanged
document costs close to linear time:

1. exact: equal normalized content (same kind) in the same section path, then anywhere;
2. section anchors: an unmatched heading whose direct content mostly landed under one unmatched
   new heading is that heading renamed;
3. keys: unmatched table rows with the same key (first cell) in the matching section, and
   front matter entries with the same key;
4. fuzzy: per matching section, leftovers of the same kind are scored with
   ``rapidfuzz.process.cdist`` (``fuzz.ratio``, 0-100) and paired greedily best score first, a
   unit at most once, if the score reaches ``score_cutoff`` (:data:`SCORE_CUTOFF`); what is still
   left is then scored across sections with the stricter :data:`MOVE_SCORE_CUTOFF`.

A matched pair is *moved* if its section changed or it falls outside the longest run of pairs
that kept their order (per section for content, document-wide for headings).
"""

from __future__ import annotations

from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Hashable
from itertools import pairwise
from operator import itemgetter
from typing import Literal

from rapidfuzz import fuzz, process

from digestkit.runbook import Unit

__all__ = ["MAX_FUZZY_PAIRS", "MOVE_SCORE_CUTOFF", "SCORE_CUTOFF", "Aligner"]

SCORE_CUTOFF: float = 60.0
"""Minimum ``fuzz.ratio`` (0-100) for two leftovers of one section to be one unit edited."""
MOVE_SCORE_CUTOFF: float = 85.0
"""Minimum ``fuzz.ratio`` for leftovers in different sections: a move is nearly the same text."""
MAX_FUZZY_PAIRS = 4_000_000
"""Cross-section fuzzy matching is skipped when it would score more pairs than this (a rewrite)."""
_LOOP_PAIRS = 64  # below this many pairs, scoring pair by pair beats setting up cdist

Side = Literal["old", "new"]
How = Literal["exact", "anchor", "key", "fuzzy"]


def _containers(units: tuple[Unit, ...]) -> list[int | None]:
    """Index of each unit's innermost heading (for a heading: its parent heading)."""
    latest: dict[tuple[str, ...], int] = {}
    out: list[int | None] = []
    # Units of one section share one path tuple, so one dict lookup per run of units suffices.
    run_path: tuple[str, ...] | None = None
    run_head: int | None = None
    for k, u in enumerate(units):
        if u.kind == "heading":
            out.append(latest.get(u.section[:-1]))
            latest[u.section] = k
            run_path = None
        else:
            if u.section is not run_path:
                run_path, run_head = u.section, latest.get(u.section)
            out.append(run_head)
    return out


def _out_of_order(
    pairs: list[tuple[int, int]], weigh: Callable[[tuple[int, int]], int]
) -> list[tuple[int, int]]:
    """Pairs (old, new) off the heaviest run that keeps order in both revisions.

    A heaviest increasing subsequence (Fenwick tree, n log n) weighted by ``weigh`` (line count),
    so when two blocks swap, the shorter one is the one reported as moved, as a line diff would
    see it. Weights are only asked for when something changed order.
    """
    if all(a[0] < b[0] and a[1] < b[1] for a, b in pairwise(pairs)):
        return []  # the usual case: nothing in this group changed order
    pairs = sorted(pairs, key=itemgetter(1))
    rank = {o: r + 1 for r, o in enumerate(sorted(o for o, _ in pairs))}
    size = len(pairs)
    tree_best = [0] * (size + 1)
    tree_at = [-1] * (size + 1)
    total = [0] * size
    back = [-1] * size
    for k, pair in enumerate(pairs):
        start = rank[pair[0]]
        r = start - 1
        best, at = 0, -1
        while r > 0:  # best chain ending at an old index below this one
            if tree_best[r] > best:
                best, at = tree_best[r], tree_at[r]
            r -= r & -r
        best += weigh(pair)
        total[k] = best
        back[k] = at
        r = start
        while r <= size:
            if best > tree_best[r]:
                tree_best[r], tree_at[r] = best, k
            r += r & -r
    keep: set[tuple[int, int]] = set()
    k = max(range(size), key=total.__getitem__)
    while k != -1:
        keep.add(pairs[k])
        k = back[k]
    return [p for p in pairs if p not in keep]


class Aligner:
    """Pairs the units of two revisions (``o2n``/``n2o``) and finds the moved pairs."""

    def __init__(self, old: tuple[Unit, ...], new: tuple[Unit, ...], cutoff: float) -> None:
        self.old, self.new, self.cutoff = old, new, cutoff
        self.ocont, self.ncont = _containers(old), _containers(new)
        self.o2n: dict[int, int] = {}
        self.n2o: dict[int, int] = {}
        # Old heading index -> new heading index, kept up to date by pair(); None is the top.
        self.hmap: dict[int | None, int | None] = {None: None}
        self.counts = {"exact": 0, "anchor": 0, "key": 0, "fuzzy": 0, "fuzzy_candidates": 0}
        # Unmatched indices shrink pass by pass; each pass only rescans what is still left.
        self._left = {"old": list(range(len(old))), "new": list(range(len(new)))}

    def pair(self, i: int, j: int, how: str) -> None:
        self.o2n[i] = j
        self.n2o[j] = i
        self.counts[how] += 1
        if self.old[i].kind == "heading":
            self.hmap[i] = j

    def left(self, side: str) -> list[int]:
        matched = self.o2n if side == "old" else self.n2o
        rest = [k for k in self._left[side] if k not in matched] if matched else self._left[side]
        self._left[side] = rest
        return rest

    def run(self) -> None:
        self._exact(with_section=True)
        self._exact(with_section=False)
        self._anchor_headings()
        self._fuzzy_by_section(headings=True)
        self._table_keys()
        self._fuzzy_by_section(headings=False)
        self._fuzzy_across()

    def _exact(self, *, with_section: bool) -> None:
        """Pair equal (kind, [section,] norm) keys, each old unit with the first waiting new one."""
        new, old = self.new, self.old
        news = self.left("new")
        keys: list[Hashable]
        if with_section:
            keys = [(new[j].kind, new[j].section, new[j].norm) for j in news]
        else:
            keys = [(new[j].kind, new[j].norm) for j in news]
        # Most keys occur once: store a bare index, and a queue only for repeated keys.
        waiting: dict[Hashable, int | deque[int]] = {}
        for j, key in zip(news, keys, strict=True):
            queue = waiting.get(key)
            if queue is None:
                waiting[key] = j
            elif isinstance(queue, int):
                waiting[key] = deque((queue, j))
            else:
                queue.append(j)
        o2n, n2o, hmap = self.o2n, self.n2o, self.hmap
        before = len(o2n)
        for i in self.left("old"):
            u = old[i]
            mine: Hashable = (u.kind, u.section, u.norm) if with_section else (u.kind, u.norm)
            found = waiting.get(mine)
            if found is None:
                continue
            if isinstance(found, int):
                j = found
                del waiting[mine]
            elif found:
                j = found.popleft()
            else:
                continue
            o2n[i] = j  # pair(i, j, "exact"), inlined: this pass pairs nearly every unit
            n2o[j] = i
            if u.kind == "heading":
                hmap[i] = j
        self.counts["exact"] += len(o2n) - before

    def _anchor_headings(self) -> None:
        votes: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        sizes: dict[int, int] = defaultdict(int)
        for i in range(len(self.old)):
            h = self.ocont[i]
            if h is None or h in self.o2n:
                continue
            sizes[h] += 1
            if i in self.o2n:
                votes[h][self.ncont[self.o2n[i]]] += 1
        for h, tally in votes.items():
            target, count = max(tally.items(), key=lambda kv: kv[1])
            if (
                target is not None
                and target not in self.n2o
                and 2 * count > sizes[h]
                and self.new[target].kind == "heading"
            ):
                self.pair(h, target, "anchor")

    def _table_keys(self) -> None:
        hmap = self.hmap
        waiting: dict[Hashable, deque[int]] = defaultdict(deque)
        for j in self.left("new"):
            u = self.new[j]
            if u.kind in ("table_row", "front_matter"):
                waiting[(u.kind, self.ncont[j], u.key is None, u.key)].append(j)
        for i in self.left("old"):
            u = self.old[i]
            if u.kind not in ("table_row", "front_matter") or self.ocont[i] not in hmap:
                continue
            queue = waiting.get((u.kind, hmap[self.ocont[i]], u.key is None, u.key))
            if queue:
                self.pair(i, queue.popleft(), "key")

    def _fuzzy_by_section(self, *, headings: bool) -> None:
        hmap = self.hmap
        groups: dict[Hashable, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            u = self.old[i]
            if (u.kind == "heading") == headings and self.ocont[i] in hmap:
                groups[(hmap[self.ocont[i]], u.kind)][0].append(i)
        for j in self.left("new"):
            u = self.new[j]
            if (u.kind == "heading") == headings and (self.ncont[j], u.kind) in groups:
                groups[(self.ncont[j], u.kind)][1].append(j)
        for olds, news in groups.values():
            self._assign(olds, news, self.cutoff)

    def _fuzzy_across(self) -> None:
        by_kind: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            by_kind[self.old[i].kind][0].append(i)
        for j in self.left("new"):
            by_kind[self.new[j].kind][1].append(j)
        for olds, news in by_kind.values():
            if len(olds) * len(news) <= MAX_FUZZY_PAIRS:
                self._assign(olds, news, max(self.cutoff, MOVE_SCORE_CUTOFF))

    def _assign(self, olds: list[int], news: list[int], cutoff: float) -> None:
        if not olds or not news:
            return
        self.counts["fuzzy_candidates"] += len(olds) * len(news)
        scored = _scores([self.old[i].norm for i in olds], [self.new[j].norm for j in news], cutoff)
        # Best score first; among equals, the pair closest in relative position.
        n_old, n_new = len(olds), len(news)
        scored.sort(key=lambda src: (-src[0], abs(src[1] / n_old - src[2] / n_new)))
        used_o: set[int] = set()
        used_n: set[int] = set()
        for _, r, c in scored:
            if r in used_o or c in used_n:
                continue
            if _distinct_ids(self.old[olds[r]], self.new[news[c]]):
                continue
            used_o.add(r)
            used_n.add(c)
            self.pair(olds[r], news[c], "fuzzy")

    # ------------------------------------------------------------------------- classification

    def moved(self) -> set[int]:
        """Old indices of matched units that changed position or section.

        Headings are ordered document-wide, weighted by the lines up to the next heading; content
        is ordered within its section. Content of a section whose heading moved moved with it.
        """
        hmap, old, new, ocont, ncont = self.hmap, self.old, self.new, self.ocont, self.ncont
        moved: set[int] = set()
        heading_pairs = []
        by_section: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
        for i, j in self.o2n.items():
            o, n = old[i], new[j]
            if hmap.get(ocont[i], -1) != ncont[j] or o.depth != n.depth:
                moved.add(i)
                if o.kind == "heading":
                    heading_pairs.append((i, j))
            elif o.kind == "heading":
                heading_pairs.append((i, j))
            else:
                by_section[ncont[j]].append((i, j))

        def section_lines(pair: tuple[int, int]) -> int:
            if not ends:
                starts = [u.lines[0] for u in new if u.kind == "heading"]
                stop = new[-1].lines[1] + 1 if new else 0
                ends.update(zip(starts, [*starts[1:], stop], strict=False))
            first = new[pair[1]].lines[0]
            return ends[first] - first

        def unit_lines(pair: tuple[int, int]) -> int:
            lines = new[pair[1]].lines
            return lines[1] - lines[0] + 1

        ends: dict[int, int] = {}
        moved.update(i for i, _ in _out_of_order(heading_pairs, section_lines))
        for pairs in by_section.values():
            moved.update(i for i, _ in _out_of_order(pairs, unit_lines))
        if any(old[i].kind == "heading" for i in moved):
            for i in sorted(self.o2n):
                parent = ocont[i]
                if parent is not None and parent in moved:
                    moved.add(i)
        return moved


def _scores(olds: list[str], news: list[str], cutoff: float) -> list[tuple[float, int, int]]:
    """(score, row, column) of every pair scoring at least ``cutoff``, row by row.

    Scores are ``fuzz.ratio`` rounded to float32 as ``cdist`` returns them, so small groups,
    scored one pair at a time (cheaper than setting up a matrix), rank exactly as large ones.
    """
    if len(olds) * len(news) <= _LOOP_PAIRS:
        ratios = array("f", [fuzz.ratio(a, b, score_cutoff=cutoff) for a in olds for b in news])
        limit = array("f", [cutoff])[0]
        width = len(news)
        return [(s, k // width, k % width) for k, s in enumerate(ratios.tolist()) if s >= limit]
    scores = process.cdist(olds, news, scorer=fuzz.ratio, score_cutoff=cutoff, dtype="float32")
    rows, cols = (scores >= cutoff).nonzero()
    return list(zip(scores[rows, cols].tolist(), rows.tolist(), cols.tolist(), strict=True))


def _distinct_ids(a: Unit, b: Unit) -> bool:
    """True when both units name exception ids and share none: they are different entries."""
    ids_a = {f.value for f in a.facts if f.kind == "exception"}
    ids_b = {f.value for f in b.facts if f.kind == "exception"}
    return bool(ids_a and ids_b and not ids_a & ids_b)
