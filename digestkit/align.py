"""Alignment of two revisions' units: which old unit is which new unit, and which of them moved.

Passes run in order, each only on what the previous ones left unmatched, so a mostly unchanged
document costs close to linear time. Pairing within the same section and in document order comes
first; cross-section pairing only for leftovers (:meth:`Aligner.run`, docs/diff-json.md):

1. exact content in the same section (repeated content aligned in order between unique anchors);
2. renamed headings, by their content (anchors), then by ``fuzz.ratio`` in their parent section;
3. exact content in sections matched through renamed headings;
4. keys: table rows in the same section, then in a table with the same columns anywhere (the one
   rule for rows); front matter by key, link definitions by label;
5. sub-steps merged into or split from their step;
6. fuzzy, per matching section: ``rapidfuzz.process.cdist`` (``fuzz.ratio``, 0-100), best score
   first, a unit at most once, if the score reaches ``score_cutoff`` (:data:`SCORE_CUTOFF`);
7. paragraphs turned into list items (or back) in the same place;
8. in place: the only leftovers of a kind between the same matched neighbours, sharing words;
9. exact content in another section, nearest copy first; then fuzzy across sections with the
   stricter :data:`MOVE_SCORE_CUTOFF`.

:meth:`Aligner.moved` then says which pairs moved: a change of order, or of container between
containers that exist on both sides.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Hashable, Mapping
from itertools import pairwise
from operator import itemgetter
from typing import Literal

from rapidfuzz import fuzz, process

from digestkit.runbook import Unit

__all__ = ["IN_PLACE_CUTOFF", "MAX_FUZZY_PAIRS", "MOVE_SCORE_CUTOFF", "SCORE_CUTOFF", "Aligner"]

SCORE_CUTOFF: float = 60.0
"""Minimum ``fuzz.ratio`` (0-100) for two leftovers of one section to be one unit edited."""
MOVE_SCORE_CUTOFF: float = 85.0
"""Minimum ``fuzz.ratio`` for leftovers in different sections: a move is nearly the same text."""
MAX_FUZZY_PAIRS = 4_000_000
"""Cross-section fuzzy matching is skipped when it would score more pairs than this (a rewrite)."""
IN_PLACE_CUTOFF: float = 50.0
"""Minimum ``fuzz.token_set_ratio`` for the only leftovers of one kind between the same matched
neighbours to be one unit rewritten in place."""
_NEAREST_PAIRS = 10_000  # above this many candidate pairs, copies pair in order, not nearest
_LOOP_PAIRS = 64  # below this many pairs, scoring pair by pair beats setting up cdist

Side = Literal["old", "new"]
How = Literal["exact", "anchor", "key", "fuzzy", "in_place", "joined"]


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
    """Pairs the units of two revisions (``o2n``/``n2o``) and finds the moved pairs.

    A pair may absorb more units of one side (``joined_old``/``joined_new``, keyed by the paired
    index): a sub-step merged into its step, a step split into a step and a sub-step, a
    paragraph turned into a list. Absorbed units are neither matched nor left over.
    """

    def __init__(self, old: tuple[Unit, ...], new: tuple[Unit, ...], cutoff: float) -> None:
        self.old, self.new, self.cutoff = old, new, cutoff
        self.ocont, self.ncont = _containers(old), _containers(new)
        self.o2n: dict[int, int] = {}
        self.n2o: dict[int, int] = {}
        # Old heading index -> new heading index, kept up to date by pair(); None is the top.
        self.hmap: dict[int | None, int | None] = {None: None}
        self.joined_old: dict[int, list[int]] = {}
        self.joined_new: dict[int, list[int]] = {}
        self.absorbed: dict[Side, set[int]] = {"old": set(), "new": set()}
        self.counts = {
            "exact": 0,
            "anchor": 0,
            "key": 0,
            "fuzzy": 0,
            "in_place": 0,
            "joined": 0,
            "fuzzy_candidates": 0,
        }
        # Unmatched indices shrink pass by pass; each pass only rescans what is still left.
        self._done: dict[Side, int] = {"old": -1, "new": -1}
        self._left: dict[Side, list[int]] = {
            "old": list(range(len(old))),
            "new": list(range(len(new))),
        }

    def pair(self, i: int, j: int, how: How) -> None:
        self.o2n[i] = j
        self.n2o[j] = i
        self.counts[how] += 1
        if self.old[i].kind == "heading":
            self.hmap[i] = j

    def left(self, side: Side) -> list[int]:
        """Indices of ``side`` neither matched nor absorbed, in document order."""
        matched = self.o2n if side == "old" else self.n2o
        done = len(matched) + len(self.absorbed[side])
        if self._done[side] != done:  # something was paired since the last call
            gone = self.absorbed[side]
            self._left[side] = [k for k in self._left[side] if k not in matched and k not in gone]
            self._done[side] = done
        return self._left[side]

    def run(self) -> None:
        """All passes, most certain first; cross-section pairing only for what is left."""
        self._exact()
        self._anchor_headings()
        self._fuzzy_by_section(headings=True)
        self._exact_by_mapped_section()
        self._keys()
        self._joined_steps()
        self._fuzzy_by_section(headings=False)
        self._paragraph_lists()
        self._in_place()
        self._exact_across()
        self._fuzzy_across()

    # ------------------------------------------------------------------------- passes

    def _exact(self) -> None:
        """Pair equal (kind, section path, content) keys; see :meth:`_pair_equal`."""
        old, new, ocont, ncont = self.old, self.new, self.ocont, self.ncont
        olds, news = self.left("old"), self.left("new")
        # Sections as numbers (cheaper keys than paths): the first new heading with that path.
        by_path: dict[tuple[str, ...], int] = {}
        for j, u in enumerate(new):
            if u.kind == "heading":
                by_path.setdefault(u.section, j)
        new_ids = [-1 if c is None else by_path[new[c].section] for c in ncont]
        old_ids = [-1 if c is None else by_path.get(old[c].section, -2 - c) for c in ocont]
        self._pair_equal(
            olds,
            [(old[i].kind, old_ids[i], old[i].norm) for i in olds],
            news,
            [(new[j].kind, new_ids[j], new[j].norm) for j in news],
        )

    def _pair_equal(
        self,
        olds: list[int],
        okeys: list[tuple[str, Hashable, str]],
        news: list[int],
        nkeys: list[tuple[str, Hashable, str]],
    ) -> None:
        """Pair units with equal keys (kind, section, content). A key found once on each side
        pairs at once; repeated keys ('Severity: warning' under every alert) are aligned in
        document order within their section, as a line diff aligns lines, so an edited copy
        never shifts the pairing of the others; what is still left pairs first come first."""
        crowded: set[Hashable] = set()  # sections where some content repeats on one side
        for keys in (okeys, nkeys):
            seen: set[Hashable] = set()
            for key in keys:
                if key in seen:
                    crowded.add(key[1])
                seen.add(key)
        waiting: dict[Hashable, int] = {}
        sections: dict[Hashable, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for j, key in zip(news, nkeys, strict=True):
            if key[1] in crowded:
                sections[key[1]][1].append(j)
            else:
                waiting[key] = j
        o2n, n2o, hmap, old = self.o2n, self.n2o, self.hmap, self.old
        before = len(o2n)
        for i, key in zip(olds, okeys, strict=True):
            if key[1] in crowded:
                sections[key[1]][0].append(i)
                continue
            found = waiting.get(key)
            if found is not None:
                o2n[i] = found  # pair(), inlined: this pass pairs nearly every unit
                n2o[found] = i
                if old[i].kind == "heading":
                    hmap[i] = found
        self.counts["exact"] += len(o2n) - before
        okey = dict(zip(olds, okeys, strict=True))
        nkey = dict(zip(news, nkeys, strict=True))
        for section_olds, section_news in sections.values():
            self._pair_repeated(section_olds, section_news, okey, nkey)

    def _pair_repeated(
        self,
        olds: list[int],
        news: list[int],
        okey: Mapping[int, Hashable],
        nkey: Mapping[int, Hashable],
    ) -> None:
        """Pair one section whose content repeats: content found once on each side first (the
        anchors), then each repeated copy with the first equal copy between the same two anchors
        on the new side, then what is left first come first."""
        o2n, n2o = self.o2n, self.n2o
        counts = Counter(okey[i] for i in olds)
        new_counts = Counter(nkey[j] for j in news)
        at = {nkey[j]: j for j in news if new_counts[nkey[j]] == 1}
        for i in olds:
            key = okey[i]
            if counts[key] == 1 and key in at:
                self.pair(i, at[key], "exact")
        positions: dict[Hashable, list[int]] = defaultdict(list)
        for j in news:
            if j not in n2o:
                positions[nkey[j]].append(j)
        nexts: list[int] = []  # new index of the next anchor after each old unit
        upcoming = len(self.new)
        for i in reversed(olds):
            nexts.append(upcoming)
            if i in o2n:
                upcoming = o2n[i]
        nexts.reverse()
        low = -1
        for i, high in zip(olds, nexts, strict=True):
            if i in o2n:
                low = o2n[i]
                continue
            candidates = positions.get(okey[i], [])  # unpaired copies, in order
            k = bisect_right(candidates, low)
            if k < len(candidates) and candidates[k] < high:
                self.pair(i, candidates.pop(k), "exact")
        queues: dict[Hashable, deque[int]] = defaultdict(deque)
        for j in news:
            if j not in n2o:
                queues[nkey[j]].append(j)
        for i in olds:
            queue = queues.get(okey[i])
            if i not in o2n and queue:
                self.pair(i, queue.popleft(), "exact")

    def _anchor_headings(self) -> None:
        """An unmatched heading whose direct content mostly sits, matched or as an equal copy,
        under one unmatched new heading is that heading renamed."""
        copies: dict[tuple[str, str], set[int | None]] = defaultdict(set)
        for j in self.left("new"):
            u = self.new[j]
            if u.kind != "heading":
                copies[(u.kind, u.norm)].add(self.ncont[j])
        votes: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        sizes: dict[int, int] = defaultdict(int)
        for i, u in enumerate(self.old):
            h = self.ocont[i]
            if h is None or h in self.o2n or u.kind == "heading":
                continue
            sizes[h] += 1
            if i in self.o2n:
                votes[h][self.ncont[self.o2n[i]]] += 1
            else:
                for target in copies.get((u.kind, u.norm), ()):
                    votes[h][target] += 1
        for h, tally in votes.items():
            target, count = max(tally.items(), key=lambda kv: kv[1])
            if (
                target is not None
                and target not in self.n2o
                and 2 * count > sizes[h]
                and self.new[target].kind == "heading"
            ):
                self.pair(h, target, "anchor")

    def _mapped(self, i: int) -> int | Literal[False] | None:
        """The new heading of old unit ``i``'s section, or False when that heading is unmatched."""
        return self.hmap.get(self.ocont[i], False)

    def _exact_by_mapped_section(self) -> None:
        """Equal content in the same section once renamed or moved headings are known."""
        olds = [i for i in self.left("old") if self._mapped(i) is not False]
        news = self.left("new")
        self._pair_equal(
            olds,
            [(self.old[i].kind, self._mapped(i), self.old[i].norm) for i in olds],
            news,
            [(self.new[j].kind, self.ncont[j], self.new[j].norm) for j in news],
        )

    def _keys(self) -> None:
        """Table rows by key in the same section, then in a table with the same columns anywhere
        (the one rule for rows, see docs/diff-json.md); front matter and link definitions by key
        anywhere."""
        local: dict[Hashable, deque[int]] = defaultdict(deque)
        anywhere: dict[Hashable, deque[int]] = defaultdict(deque)
        for j in self.left("new"):
            u = self.new[j]
            if u.kind == "table_row":
                local[(u.key is None, u.key, self.ncont[j])].append(j)
                if u.key is not None:
                    anywhere[(u.kind, _columns(u), u.key)].append(j)
            elif u.kind in ("front_matter", "reference") and u.key is not None:
                anywhere[(u.kind, u.key)].append(j)
        for i in self.left("old"):
            u = self.old[i]
            if u.kind == "table_row":
                mapped = self._mapped(i)
                queue = local.get((u.key is None, u.key, mapped)) if mapped is not False else None
                if queue:
                    self.pair(i, queue.popleft(), "key")
        for i in self.left("old"):
            u = self.old[i]
            if u.key is None or u.kind not in ("table_row", "front_matter", "reference"):
                continue
            key = (u.kind, _columns(u), u.key) if u.kind == "table_row" else (u.kind, u.key)
            queue = anywhere.get(key)
            while queue and queue[0] in self.n2o:
                queue.popleft()
            if queue:
                self.pair(i, queue.popleft(), "key")

    def _children(self, units: tuple[Unit, ...], k: int, side: Side) -> list[int]:
        """Unmatched units nested under list item ``k`` (its sub-steps and their code)."""
        parent = units[k]
        matched = self.o2n if side == "old" else self.n2o
        out = []
        for c in range(k + 1, len(units)):
            u = units[c]
            if u.depth <= parent.depth or not u.locator.startswith(parent.locator + "."):
                break
            if c in matched or c in self.absorbed[side]:
                return []
            out.append(c)
        return out

    def _joined_steps(self) -> None:
        """A sub-step merged into its step (or split out of it) is one edit of the step: the
        step with its unmatched sub-steps scores ``score_cutoff`` against one unmatched item of
        the same section on the other side, and clearly better than the step alone."""
        sides: tuple[tuple[Side, Side], ...] = (("old", "new"), ("new", "old"))
        for side, other_side in sides:
            units = self.old if side == "old" else self.new
            other = self.new if side == "old" else self.old
            taken = self.n2o if side == "old" else self.o2n
            candidates: dict[int | Literal[False] | None, list[int]] = defaultdict(list)
            for m in self.left(other_side):
                if other[m].kind == "list_item":
                    candidates[self._section_of(other_side, m)].append(m)
            for k in self.left(side):
                u = units[k]
                kids = self._children(units, k, side) if u.kind == "list_item" else []
                section = self._section_of(side, k)
                choices = [m for m in candidates.get(section, ()) if m not in taken]
                if not kids or not choices or section is False:
                    continue
                whole = " ".join([u.norm, *(units[c].norm for c in kids)])
                best = process.extractOne(
                    whole,
                    [other[m].norm for m in choices],
                    scorer=fuzz.ratio,
                    score_cutoff=self.cutoff,
                )
                if best is None or best[1] <= fuzz.ratio(u.norm, other[choices[best[2]]].norm) + 10:
                    continue
                at = choices[best[2]]
                self.pair(*((k, at) if side == "old" else (at, k)), "joined")
                (self.joined_old if side == "old" else self.joined_new)[k] = kids
                self.absorbed[side].update(kids)

    def _section_of(self, side: Side, k: int) -> int | Literal[False] | None:
        """The new heading of unit ``k``'s section (False: an old heading with no match)."""
        return self._mapped(k) if side == "old" else self.ncont[k]

    def _fuzzy_by_section(self, *, headings: bool) -> None:
        groups: dict[Hashable, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            u = self.old[i]
            mapped = self._mapped(i)
            if (u.kind == "heading") == headings and mapped is not False:
                groups[(mapped, u.kind)][0].append(i)
        for j in self.left("new"):
            u = self.new[j]
            if (u.kind == "heading") == headings and (self.ncont[j], u.kind) in groups:
                groups[(self.ncont[j], u.kind)][1].append(j)
        for olds, news in groups.values():
            self._assign(olds, news, self.cutoff)

    def _gaps(self) -> list[tuple[list[int], list[int]]]:
        """Leftovers grouped by the matched units around them: old and new leftovers that sit
        between the same two matched neighbours (by their new index) are in the same place."""
        groups: dict[tuple[int | None, int | None], tuple[list[int], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        sides: tuple[tuple[Side, int, dict[int, int]], ...] = (
            ("old", len(self.old), self.o2n),
            ("new", len(self.new), {j: j for j in self.n2o}),
        )
        for n, (side, size, to_new) in enumerate(sides):
            lefts = set(self.left(side))
            before: int | None = None
            run: list[int] = []
            for k in range(size):
                if k in lefts:
                    run.append(k)
                elif k in to_new:
                    if run:
                        groups[(before, to_new[k])][n].extend(run)
                        run = []
                    before = to_new[k]
            if run:
                groups[(before, None)][n].extend(run)
        return [g for g in groups.values() if g[0] and g[1]]

    def _in_place(self) -> None:
        """A unit rewritten where it stood: the only leftover of its kind on both sides between
        the same matched neighbours, sharing words (``fuzz.token_set_ratio`` >= 50) and not an
        exact copy of a leftover elsewhere."""
        norms_old = Counter(self.old[i].norm for i in self.left("old"))
        norms_new = Counter(self.new[j].norm for j in self.left("new"))
        for olds, news in self._gaps():
            by_kind: dict[tuple[str, int], tuple[list[int], list[int]]] = defaultdict(
                lambda: ([], [])
            )
            for i in olds:
                by_kind[(self.old[i].kind, self.old[i].level)][0].append(i)
            for j in news:
                by_kind[(self.new[j].kind, self.new[j].level)][1].append(j)
            for (kind, _), (os_, ns_) in by_kind.items():
                if kind == "front_matter" or len(os_) != len(ns_):
                    continue
                for i, j in zip(os_, ns_, strict=True):
                    o, n = self.old[i], self.new[j]
                    if norms_new[o.norm] or norms_old[n.norm]:
                        continue  # an exact copy elsewhere: a move, not a rewrite
                    if fuzz.token_set_ratio(o.norm, n.norm) >= IN_PLACE_CUTOFF:
                        self.pair(i, j, "in_place")

    def _paragraph_lists(self) -> None:
        """Paragraphs turned into list items (or back) in the same place: one paragraph to the
        run of items that together say what it said, or one to one when their text is nearly the
        same (``fuzz.ratio`` >= the cutoff, or one's words nearly all in the other's)."""
        for olds, news in self._gaps():
            sides: tuple[tuple[Side, list[int], list[int]], ...] = (
                ("old", olds, news),
                ("new", news, olds),
            )
            for side, mine, theirs in sides:
                units = self.old if side == "old" else self.new
                other = self.new if side == "old" else self.old
                paragraphs = [k for k in mine if units[k].kind == "paragraph"]
                items = [m for m in theirs if other[m].kind == "list_item"]
                if not paragraphs or not items or len(paragraphs) * len(items) > _NEAREST_PAIRS:
                    continue  # nothing to pair, or a whole rewrite: left to the other passes
                scored = sorted(
                    (
                        -max(
                            fuzz.ratio(units[k].norm, other[m].norm), _contained(units[k], other[m])
                        ),
                        k,
                        m,
                    )
                    for k in paragraphs
                    for m in items
                )
                if len(paragraphs) == 1 and len(items) > 1:
                    k = paragraphs[0]
                    joined = fuzz.ratio(units[k].norm, " ".join(other[m].norm for m in items))
                    if joined >= self.cutoff and joined >= -scored[0][0]:
                        self._join(side, k, items)
                        continue
                for minus_score, k, m in scored:
                    mine_taken = self.o2n if side == "old" else self.n2o
                    theirs_taken = self.n2o if side == "old" else self.o2n
                    if (
                        -minus_score >= self.cutoff
                        and k not in mine_taken
                        and m not in theirs_taken
                    ):
                        self.pair(*((k, m) if side == "old" else (m, k)), "joined")

    def _join(self, side: Side, k: int, items: list[int]) -> None:
        """Pair unit ``k`` of ``side`` with the first of ``items`` of the other side, which
        absorbs the rest."""
        if side == "old":
            self.pair(k, items[0], "joined")
            self.joined_new[items[0]] = items[1:]
            self.absorbed["new"].update(items[1:])
        else:
            self.pair(items[0], k, "joined")
            self.joined_old[items[0]] = items[1:]
            self.absorbed["old"].update(items[1:])

    def _exact_across(self) -> None:
        """Equal content in another section: each old unit with the nearest waiting copy."""
        waiting: dict[Hashable, list[int]] = defaultdict(list)
        for j in self.left("new"):
            if not _keyed_row(self.new[j]):
                waiting[(self.new[j].kind, self.new[j].norm)].append(j)
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for i in self.left("old"):
            key = (self.old[i].kind, self.old[i].norm)
            if key in waiting and not _keyed_row(self.old[i]):
                groups[key].append(i)
        if not groups:
            return
        expected = self._expected()
        for found, olds in groups.items():
            news = waiting[found]
            if len(olds) * len(news) > _NEAREST_PAIRS:  # a copy pasted everywhere: in order
                for i, j in zip(olds, news, strict=False):
                    self.pair(i, j, "exact")
                continue
            candidates = sorted((abs(j - expected[i]), i, j) for i in olds for j in news)
            for _, i, j in candidates:
                if i not in self.o2n and j not in self.n2o:
                    self.pair(i, j, "exact")

    def _expected(self) -> list[int]:
        """Where each old unit would be in the new revision, after its matched predecessor."""
        out = []
        at, since = -1, 0
        for i in range(len(self.old)):
            if i in self.o2n:
                at, since = self.o2n[i], 0
                out.append(at)
            else:
                since += 1
                out.append(at + since)
        return out

    def _fuzzy_across(self) -> None:
        """Nearly equal content in another section (table rows cross sections only by key)."""
        by_kind: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            if not _keyed_row(self.old[i]):
                by_kind[self.old[i].kind][0].append(i)
        for j in self.left("new"):
            if not _keyed_row(self.new[j]):
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

    # ------------------------------------------------------------------------- moves

    def moved(self) -> set[int]:
        """Old indices of matched units that changed order or section.

        Headings are ordered document-wide, weighted by the lines up to the next heading: a
        heading whose level or parent changed but that kept its order did not move. Content is
        ordered within its new section; it changed section only when both its old and its new
        heading exist in both revisions and do not correspond, so a heading added, removed or
        renamed above it moves nothing. Likewise a sub-step (or code in a step) moved when its
        old and new parent items both exist and do not correspond: an item added above a list
        that nests it one level deeper moves nothing (code put under a step is formatting).
        Content of a section whose heading moved moved with it; link definitions never move.
        """
        hmap, old, new, ocont, ncont = self.hmap, self.old, self.new, self.ocont, self.ncont
        o2n, n2o = self.o2n, self.n2o
        oparent, nparent = _parent_items(old), _parent_items(new)

        def parent_moved(i: int, j: int) -> bool:
            """A list item's parent item changed between items that exist on both sides (a
            paragraph that became an item is a new parent)."""
            before, after = oparent[i], nparent[j]
            if before is None and after is None:
                return False
            if before is not None and (before not in o2n or new[o2n[before]].kind != "list_item"):
                return False
            if after is not None and (after not in n2o or old[n2o[after]].kind != "list_item"):
                return False
            return (None if before is None else o2n[before]) != after

        moved: set[int] = set()
        heading_pairs = []
        by_section: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
        for i, j in o2n.items():
            if old[i].kind == "heading":
                heading_pairs.append((i, j))
                continue
            oc, nc = ocont[i], ncont[j]
            if old[i].kind == "reference":
                continue  # where a link definition sits means nothing
            if (hmap.get(oc) != nc and _relocated(oc, nc, hmap, o2n, n2o)) or (
                old[i].kind == "list_item" and parent_moved(i, j)
            ):
                moved.add(i)
            else:
                by_section[nc].append((i, j))

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
            for i in sorted(o2n):
                parent = ocont[i]
                if parent is not None and parent in moved:
                    moved.add(i)
        return moved


def _relocated(
    before: int | None,
    after: int | None,
    hmap: Mapping[int | None, int | None],
    o2n: dict[int, int],
    n2o: dict[int, int],
) -> bool:
    """True when a unit's heading (None: the top) changed between two headings that exist in
    both revisions."""
    if (before is not None and before not in o2n) or (after is not None and after not in n2o):
        return False  # its old heading was removed or its new one added: nothing moved
    return hmap.get(before) != after


def _parent_items(units: tuple[Unit, ...]) -> list[int | None]:
    """Index of the list item each nested unit (sub-step, code in a step) belongs to: the last
    item one level up, since a nested list always follows its item."""
    last: list[int] = []  # last list item seen at each depth
    out: list[int | None] = []
    for k, u in enumerate(units):
        depth = u.depth
        out.append(last[depth - 1] if 0 < depth <= len(last) else None)
        if u.kind == "list_item":
            del last[depth:]
            last.append(k)
    return out


def _contained(a: Unit, b: Unit) -> float:
    """``fuzz.token_set_ratio`` of two texts (100: the shorter's words are all in the longer) if
    it is at least 90 and the shorter has five words or more, else 0: a short text, or one that
    shares only common words, is found in too many others."""
    if len(min(a.norm, b.norm, key=len).split()) < 5:
        return 0.0
    score: float = fuzz.token_set_ratio(a.norm, b.norm)
    return score if score >= 90 else 0.0


def _keyed_row(u: Unit) -> bool:
    return u.kind == "table_row" and u.key is not None


def _columns(row: Unit) -> tuple[str, ...]:
    """What a table's columns are, read from its header names (case and spacing ignored)."""
    return tuple(" ".join(h.casefold().split()) for h in row.cells)


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
