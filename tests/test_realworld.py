"""The diff on consecutive revisions of real public runbooks (``../shared/realworld``).

For every pair: each line that a whitespace-insensitive line diff marks as changed must fall inside
the ``lines`` of a reported change, or of a formatting-only pair whose texts are verified here to
be equal once whitespace, emphasis and list markers are removed (coverage 100%); and no reported
change other than a move may have old and new text equal after whitespace normalization. Blank
lines carry no content and are left out of the line diff's changed lines.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import pytest

from digestkit.diff import diff_texts

REPO = Path(__file__).resolve().parents[1]
# shared/ lies beside the clone (CI, /work/main) or beside the folder of worktrees.
REALWORLD = next(
    (
        path
        for path in (REPO.parent / "shared" / "realworld", REPO.parents[1] / "shared" / "realworld")
        if (path / "index.jsonl").is_file()
    ),
    REPO.parent / "shared" / "realworld",
)

# CI lays shared/ beside the clone, so there a missing folder is a failure, not a skip.
if os.environ.get("CI") and not (REALWORLD / "index.jsonl").is_file():
    raise RuntimeError(f"real-world revision pairs not found at {REALWORLD}")

pytestmark = pytest.mark.skipif(
    not (REALWORLD / "index.jsonl").is_file(),
    reason=f"real-world revision pairs not found at {REALWORLD} (expected ../shared/realworld)",
)

_NO_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"(?m)^\s*(?:[-+*]|\d{1,9}[.)])\s|[*_|:\s-]")


def _pairs() -> list[dict]:
    if not (REALWORLD / "index.jsonl").is_file():
        return []
    return [
        json.loads(line) for line in (REALWORLD / "index.jsonl").read_text().splitlines() if line
    ]


def _changed_lines(old: list[str], new: list[str]) -> tuple[set[int], set[int], int]:
    a = [_NO_SPACE.sub("", line) for line in old]
    b = [_NO_SPACE.sub("", line) for line in new]
    changed_old: set[int] = set()
    changed_new: set[int] = set()
    hunks = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        hunks += 1
        changed_old.update(k + 1 for k in range(i1, i2) if a[k])
        changed_new.update(k + 1 for k in range(j1, j2) if b[k])
    return changed_old, changed_new, hunks


def _covered(spans) -> set[int]:
    return {line for first, last in spans for line in range(first, last + 1)}


@pytest.mark.parametrize("meta", _pairs(), ids=lambda m: m["dir"].split("__")[-1])
def test_realworld_pair(meta: dict) -> None:
    folder = REALWORLD / meta["dir"]
    old_text = (folder / "old.md").read_text(encoding="utf-8")
    new_text = (folder / "new.md").read_text(encoding="utf-8")
    diff = diff_texts(old_text, new_text)

    for pair in diff.formatting:
        assert _MARKUP.sub("", pair.old.text) == _MARKUP.sub("", pair.new.text), pair.locator

    changed_old, changed_new, hunks = _changed_lines(old_text.split("\n"), new_text.split("\n"))
    reported_old = _covered(c.old.lines for c in diff.changes if c.old is not None)
    reported_new = _covered(c.new.lines for c in diff.changes if c.new is not None)
    format_old = _covered(f.old.lines for f in diff.formatting)
    format_new = _covered(f.new.lines for f in diff.formatting)
    missed_old = sorted(changed_old - reported_old - format_old)
    missed_new = sorted(changed_new - reported_new - format_new)
    total = len(changed_old) + len(changed_new)
    by_changes = len(changed_old & reported_old) + len(changed_new & reported_new)
    coverage = 1.0 if total == 0 else (total - len(missed_old) - len(missed_new)) / total
    print(
        f"\n{meta['dir']}: coverage {coverage:.1%} of {total} changed lines "
        f"({by_changes} by reported changes, the rest by formatting-only pairs); "
        f"{len(diff.changes)} reported changes vs {hunks} line-diff hunks; {diff.stats}"
    )
    assert not missed_old and not missed_new, (missed_old, missed_new)

    for change in diff.changes:
        if change.kind == "moved" or change.old is None or change.new is None:
            continue
        assert " ".join(change.old.text.split()) != " ".join(change.new.text.split()), change


def test_realworld_ground_truth_headings() -> None:
    """A heading path the repository history says is new has that heading, or a renamed ancestor,
    reported as an added, modified or moved heading."""
    for meta in _pairs():
        added = meta["ground_truth"]["headings_added"]
        if not added:
            continue
        folder = REALWORLD / meta["dir"]
        diff = diff_texts((folder / "old.md").read_bytes(), (folder / "new.md").read_bytes())
        new_titles = {
            c.section[-1]
            for c in diff.changes
            if c.unit == "heading" and c.kind in ("added", "modified", "moved")
        }
        for path in added:
            assert new_titles & set(path.split(" > ")), (meta["dir"], path)
