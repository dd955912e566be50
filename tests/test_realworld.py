"""The diff on consecutive revisions of real public runbooks (``shared/realworld``), checked
against a whitespace-insensitive line diff and the ground truth in ``index.jsonl``.

For every pair (:func:`problems`):

- coverage: each line the line diff marks as changed lies inside a reported change, or inside a
  formatting-only pair whose texts are verified equal once whitespace, markup and quote style are
  removed (blank lines and the front-matter fences carry no content);
- bounded by hunks: every reported change touches a changed line, no line-diff hunk is touched
  by more changes than it has changed lines, and a hunk that edits one line into a similar one
  (half its words kept) is one change, not a removal plus an addition;
- no false moves: a moved unit is not one the line diff keeps in order, line for line;
- nothing reported that did not change: no change other than a move has equal old and new text;
- ground truth: whitespace-only pairs give no change; a renamed heading is a modified heading;
  reorder-only pairs give only moves; a heading the history says was added is reported (added,
  modified or moved, or a heading-level formatting change).

The last three tests show that the checks catch regressions: with alignment switched off, with
fuzzy (similarity) matching switched off, and with every match reported as moved, they fail.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import pytest

from digestkit import align
from digestkit.diff import Diff, diff_texts
from digestkit.frontmatter import parse_front_matter

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
_MARKUP = re.compile(r"(?m)^\s*(?:[-+*]|\d{1,9}[.)])\s|^#+|[*_|:\s`-]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'"})


def _pairs() -> list[dict]:
    if not (REALWORLD / "index.jsonl").is_file():
        return []
    return [
        json.loads(line) for line in (REALWORLD / "index.jsonl").read_text().splitlines() if line
    ]


def _texts(meta: dict) -> tuple[str, str]:
    folder = REALWORLD / meta["dir"]
    return (folder / "old.md").read_text("utf-8"), (folder / "new.md").read_text("utf-8")


def _fences(lines: list[str]) -> set[int]:
    found = parse_front_matter(lines)
    return {1, found.body_start} if found else set()


def _covered(spans) -> set[int]:
    return {line for first, last in spans for line in range(first, last + 1)}


def _plain(text: str) -> str:
    return _MARKUP.sub("", text.translate(_QUOTES))


def _similar(old: str, new: str) -> bool:
    return difflib.SequenceMatcher(None, old.split(), new.split()).ratio() >= 0.5


def problems(meta: dict, diff: Diff, old_text: str, new_text: str) -> list[str]:
    """Everything in ``diff`` that the line diff or the ground truth contradicts."""
    found: list[str] = []
    old_lines, new_lines = old_text.split("\n"), new_text.split("\n")
    a = [_NO_SPACE.sub("", line) for line in old_lines]
    b = [_NO_SPACE.sub("", line) for line in new_lines]
    skip_old, skip_new = _fences(old_lines), _fences(new_lines)
    hunks: list[tuple[set[int], set[int]]] = []
    kept: dict[int, int] = {}  # old line -> new line, for lines the line diff keeps in order
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            kept.update((i1 + k + 1, j1 + k + 1) for k in range(i2 - i1))
            continue
        old_side = {k + 1 for k in range(i1, i2) if a[k] and k + 1 not in skip_old}
        new_side = {k + 1 for k in range(j1, j2) if b[k] and k + 1 not in skip_new}
        if old_side or new_side:
            hunks.append((old_side, new_side))
    changed_old = set().union(*(h[0] for h in hunks))
    changed_new = set().union(*(h[1] for h in hunks))

    for pair in diff.formatting:
        old, new = pair.old.text, pair.new.text
        if any(note.startswith("fence language") for note in pair.notes):
            old, new = old.split("\n", 1)[-1], new.split("\n", 1)[-1]
        if _plain(old) != _plain(new):
            found.append(f"formatting-only pair with different content: {pair.locator}")
    reported_old = _covered(c.old.lines for c in diff.changes if c.old is not None)
    reported_new = _covered(c.new.lines for c in diff.changes if c.new is not None)
    missed_old = changed_old - reported_old - _covered(f.old.lines for f in diff.formatting)
    missed_new = changed_new - reported_new - _covered(f.new.lines for f in diff.formatting)
    if missed_old or missed_new:
        found.append(f"lines not reported: old {sorted(missed_old)}, new {sorted(missed_new)}")

    for c in diff.changes:
        old_span = _covered([c.old.lines]) if c.old else set()
        new_span = _covered([c.new.lines]) if c.new else set()
        if not (old_span & changed_old or new_span & changed_new):
            found.append(f"{c.kind} {c.unit} touches no changed line: {c.locator}")
        if c.kind == "moved" and c.old and c.new:
            content = [k for k in old_span if k <= len(a) and a[k - 1]]
            if content and all(kept.get(k) in new_span for k in content):
                found.append(f"moved {c.unit} kept its order: {c.locator}")
        elif (
            c.old is not None
            and c.new is not None
            and " ".join(c.old.text.split()) == " ".join(c.new.text.split())
        ):
            found.append(f"{c.kind} {c.unit} with equal text: {c.locator}")
    for old_side, new_side in hunks:
        touching = [
            c
            for c in diff.changes
            if (c.old and _covered([c.old.lines]) & old_side)
            or (c.new and _covered([c.new.lines]) & new_side)
        ]
        one_edit = len(old_side) == len(new_side) == 1 and _similar(
            old_lines[min(old_side) - 1], new_lines[min(new_side) - 1]
        )
        if len(touching) > (1 if one_edit else len(old_side) + len(new_side)):
            found.append(
                f"{len(touching)} changes for a hunk of {len(old_side)} -> {len(new_side)} "
                f"lines: {[(c.kind, c.unit) for c in touching]}"
            )

    truth = meta["ground_truth"]
    if truth["whitespace_only"] and diff.changes:
        found.append(f"whitespace-only pair with {len(diff.changes)} changes")
    if truth["change_kind"] == "reorder_only" and {c.kind for c in diff.changes} - {"moved"}:
        found.append(f"reorder-only pair with {sorted({c.kind for c in diff.changes})}")
    for old_title, new_title in truth["headings_renamed"]:
        if not any(
            c.unit == "heading"
            and c.kind == "modified"
            and c.section[-1] == new_title
            and c.old is not None
            and old_title in c.old.text
            for c in diff.changes
        ):
            found.append(f"renamed heading not modified: {old_title!r} -> {new_title!r}")
    titles = {c.section[-1] for c in diff.changes if c.unit == "heading" and c.section}
    titles |= {f.section[-1] for f in diff.formatting if f.unit == "heading" and f.section}
    for path in truth["headings_added"]:
        if not titles & set(path.split(" > ")):
            found.append(f"added heading not reported: {path}")
    return found


@pytest.mark.parametrize("meta", _pairs(), ids=lambda m: m["dir"].split("__")[-1])
def test_realworld_pair(meta: dict) -> None:
    old_text, new_text = _texts(meta)
    diff = diff_texts(old_text, new_text)
    print(f"\n{meta['dir']}: {len(diff.changes)} changes; {diff.stats}")
    assert problems(meta, diff, old_text, new_text) == []


def _all_problems() -> list[str]:
    found = []
    for meta in _pairs():
        old_text, new_text = _texts(meta)
        found += problems(meta, diff_texts(old_text, new_text), old_text, new_text)
    return found


def test_the_checks_fail_with_alignment_switched_off(monkeypatch) -> None:
    monkeypatch.setattr(align.Aligner, "run", lambda self: None)
    found = _all_problems()
    assert any("touches no changed line" in p for p in found)
    assert any(p.startswith("whitespace-only pair") for p in found)


def test_the_checks_fail_with_fuzzy_matching_switched_off(monkeypatch) -> None:
    for similar in ("_fuzzy_by_section", "_fuzzy_across", "_in_place", "_joined_steps"):
        monkeypatch.setattr(align.Aligner, similar, lambda self, **kw: None)
    monkeypatch.setattr(align.Aligner, "_paragraph_lists", lambda self: None)
    found = _all_problems()
    assert any(" changes for a hunk of 1 -> 1 lines" in p for p in found)
    assert any(p.startswith("renamed heading not modified") for p in found)


def test_the_checks_fail_when_every_match_is_reported_as_moved(monkeypatch) -> None:
    monkeypatch.setattr(align.Aligner, "moved", lambda self: set(self.o2n))
    found = _all_problems()
    assert any("kept its order" in p for p in found)
    assert any(p.startswith("whitespace-only pair") for p in found)
