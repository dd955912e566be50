"""A revision as the context checks read it: its body, what changed in it, and how to cite it.

Every check of :func:`~digestkit.context.join.assess` reads the revision through one
:class:`Reading`: the units of its body (the front matter's change reason is not what the runbook
says), whether a unit lies outside the diff's changes (only then is it carried forward), and the
:class:`~digestkit.context.findings.SourceRef` of lines, registry records and register rows.
"""

from __future__ import annotations

import bisect
import itertools

from digestkit.context.findings import Finding, ReferenceKind, SourceRef
from digestkit.context.tables import ContextTables, norm_name
from digestkit.runbook import Runbook, Unit

__all__ = ["Reading"]


class Reading:
    """One revision read against one context, with the line ranges the diff changed."""

    def __init__(
        self,
        new: Runbook,
        revision_ref: str,
        runbook_id: str,
        context: ContextTables,
        changed: list[tuple[int, int]],
        baseline: Runbook | None,
    ) -> None:
        self.new = new
        self.ref = revision_ref
        self.runbook_id = runbook_id
        self.ctx = context
        self.as_of = context.as_of
        self.baseline = baseline
        lookups = context.lookups
        self.product_by_name = lookups.product_by_name
        self.ambiguous_products = lookups.ambiguous_products
        self.team_by_display = lookups.team_by_display
        self.team_display = lookups.team_display
        self.known_pagers = lookups.known_pagers
        self.exceptions = lookups.exceptions
        # Changed line ranges, sorted with running maxima of their ends: an overlap test is one
        # bisection, not a scan of every change (large diffs have thousands).
        spans = sorted(changed)
        self._starts = [a for a, _ in spans]
        self._reach = list(itertools.accumulate((b for _, b in spans), max))
        # Only the body states what the runbook says: an id named in the front matter's
        # change_reason is not "referenced by the runbook" (the header reports the reason).
        self.body = tuple(u for u in new.units if u.kind != "front_matter")

    # -- citations -------------------------------------------------------------------------
    def lines(self, unit: Unit) -> SourceRef:
        """The unit's lines in this revision."""
        return SourceRef("runbook", self.ref, f"L{unit.lines[0]}-L{unit.lines[1]}")

    def registry(self, product_id: str, locator: str) -> SourceRef:
        """A field of a product's registry record."""
        return SourceRef("registry", product_id, locator)

    def exception(self, exception_id: str, locator: str) -> SourceRef:
        """A field of an exception register row."""
        return SourceRef("exceptions", exception_id, locator)

    def body_lines(self) -> SourceRef:
        """The whole body, front matter excluded: what "this revision does not have" rests on."""
        first = min((u.lines[0] for u in self.body), default=1)
        return SourceRef("runbook", self.ref, f"L{first}-L{max(first, self.new.line_count)}")

    # -- what changed ----------------------------------------------------------------------
    def untouched(self, lines: tuple[int, int]) -> bool:
        """Whether no change of the diff overlaps the (first, last) line range."""
        first, last = lines
        # Changes starting at or before ``last`` overlap when one of them reaches ``first``.
        n = bisect.bisect_right(self._starts, last)
        return n == 0 or self._reach[n - 1] < first

    def unchanged(self, unit: Unit) -> bool:
        """Whether the unit lies outside every change (so it is carried forward)."""
        return self.untouched(unit.lines)

    def units(self, *title_words: str, kinds: tuple[str, ...] = ()) -> list[Unit]:
        """Body units of ``kinds`` in sections whose title has one of ``title_words``."""
        out = []
        for unit in self.body:
            title = unit.section[-1].lower() if unit.section else ""
            if (not title_words or any(w in title for w in title_words)) and (
                not kinds or unit.kind in kinds
            ):
                out.append(unit)
        return out

    def ambiguous(self, value: str, unit: Unit) -> Finding | None:
        """The flag for a product name several registry products carry, citing each of them;
        None when the name is not ambiguous."""
        products = self.ambiguous_products.get(norm_name(value))
        if products is None:
            return None
        ids = [p.product_id for p in products]
        return Finding(
            "ambiguous_reference",
            f"The runbook names product {value}, which {len(ids)} registry products carry "
            f"({', '.join(ids)}) as of {self.as_of:%Y-%m-%d}; which one is meant is not resolved "
            "here.",
            (self.lines(unit), *(self.registry(pid, "product_name") for pid in ids)),
            {"reference_kind": "product", "value": value, "product_ids": ids},
        )

    def unknown(
        self, what: ReferenceKind, value: str, unit: Unit, column: str | None = None
    ) -> Finding:
        """The flag for a ``what`` the runbook names that the registry or register lacks."""
        where = f" ({column})" if column else ""
        table = "exception register" if what == "exception" else "registry"
        return Finding(
            "unknown_reference",
            f"The runbook names {what} {value}{where}, which the {table} does not list "
            f"as of {self.as_of:%Y-%m-%d}.",
            (self.lines(unit),),
            {"reference_kind": what, "value": value},
        )
