"""Tables for the analyst notebook (``digestkit/notebooks/explore_revisions.ipynb``).

Every function returns a pandas DataFrame (or a Styler showing one in full): the changes between
two revisions with a redline column and readable line ranges, and views across every published
revision of a runbook — the flags of each digest, changes per revision, the history of one step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from digestkit.brief import earlier_digests, flag_key, plain

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "changes_per_revision",
    "changes_table",
    "flags_by_revision",
    "full_text",
    "published_digests",
    "step_history",
]


def full_text(frame: pd.DataFrame) -> Styler:
    """``frame`` with every cell shown whole and wrapped (no 50-character cut), left aligned."""
    wrap = {"white-space": "pre-wrap", "text-align": "left", "vertical-align": "top"}
    return frame.style.set_properties(None, **wrap).set_table_styles(
        [{"selector": "th", "props": [("text-align", "left")]}]
    )


def _lines(span: tuple[int, int] | None) -> str:
    if span is None:
        return ""
    return f"line {span[0]}" if span[0] == span[1] else f"lines {span[0]}–{span[1]}"


def changes_table(old_text: str, new_text: str) -> pd.DataFrame:
    """The semantic diff of two revision texts: one row per change, both sides in full, the line
    ranges in words and a word-level redline (``[-deleted-] {+inserted+}``)."""
    from digestkit.diff import diff_texts, word_segments
    from digestkit.render import wdiff

    rows = []
    for c in diff_texts(old_text, new_text).changes:
        if c.unit == "front_matter":
            continue  # publication metadata, as in the digest
        old, new = (plain(c.old.text) if c.old else ""), (plain(c.new.text) if c.new else "")
        rows.append(
            {
                "kind": c.kind,
                "section": " › ".join(c.section[1:] or c.section),
                "old lines": _lines(c.old.lines if c.old else None),
                "new lines": _lines(c.new.lines if c.new else None),
                "old": old,
                "new": new,
                "redline": wdiff(word_segments(old, new)) if old and new else "",
                "facts": "; ".join(f.statement for f in c.facts),
            }
        )
    columns = ["kind", "section", "old lines", "new lines", "old", "new", "redline", "facts"]
    return pd.DataFrame(rows, columns=columns)


def published_digests(runbook_id: str, *, data: Any = None) -> list[dict[str, Any]]:
    """The digest of every published revision of ``runbook_id``, oldest first."""
    from digestkit import sources as src_mod

    revisions = src_mod.load_revisions(data, runbook_id=runbook_id)
    published = revisions[revisions["status"] == "published"]
    if published.empty:
        return []
    latest = str(published["revision"].iloc[-1])
    return earlier_digests(runbook_id, latest, data=data)[::-1]


def flags_by_revision(runbook_id: str, *, data: Any = None) -> pd.DataFrame:
    """Flags and open questions (rows) of each published revision's digest (columns).

    A cell is ``new`` where the flag first appears, ``open`` while it stays, ``resolved`` in the
    revision that drops it and empty otherwise; the row label is the flag's first wording.
    """
    digests = published_digests(runbook_id, data=data)
    labels: dict[tuple[str, ...], str] = {}
    present: list[set[tuple[str, ...]]] = []
    for digest in digests:
        keys = set()
        for claim in [*digest["flags"], *digest["open_questions"]]:
            key = flag_key(claim)
            text = claim["text"].split("“", 1)[-1].rstrip("”")  # an open question: its words
            labels.setdefault(key, f"{claim['kind'].replace('_', ' ')}: {plain(text)}")
            keys.add(key)
        present.append(keys)
    table: dict[str, dict[str, str]] = {}
    for i, digest in enumerate(digests):
        before = present[i - 1] if i else set()
        column = {}
        for key, label in labels.items():
            if key in present[i]:
                column[label] = "open" if key in before else "new"
            elif key in before:
                column[label] = "resolved"
            else:
                column[label] = ""
        table[digest["header"]["revision"]] = column
    return pd.DataFrame(table, index=list(labels.values()))


def changes_per_revision(runbook_id: str, *, data: Any = None) -> pd.DataFrame:
    """Changes of each published revision's digest against its baseline, by kind."""
    counts = {
        d["header"]["revision"]: pd.Series([c["kind"] for c in d["changed_steps"]]).value_counts()
        for d in published_digests(runbook_id, data=data)
    }
    frame = pd.DataFrame(counts).T.fillna(0).astype(int)
    frame.index.name = "revision"
    return frame


def step_history(runbook_id: str, contains: str, *, data: Any = None) -> pd.DataFrame:
    """Every revision's lines holding ``contains`` (case-insensitive): the history of one step.

    One row per revision and matching line, any status, with whether the wording differs from
    the previous revision's.
    """
    from digestkit import minimize
    from digestkit import sources as src_mod

    rows = []
    previous: list[str] | None = None
    needle = contains.lower()
    src = src_mod.open_sources(data)
    for r in src_mod.load_revisions(src, runbook_id=runbook_id).itertuples():
        # Minimized like a digest: a customer named in the runbook shows as its id.
        text_of = minimize.redact_text(str(r.text), src).text
        found = [
            (n, line)
            for n, line in enumerate(text_of.splitlines(), start=1)
            if needle in line.lower()
        ]
        texts = [plain(line) for _, line in found]
        changed = previous is not None and texts != previous
        for (n, _), text in zip(found, texts, strict=True):
            rows.append(
                {
                    "revision": r.revision,
                    "status": r.status,
                    "line": n,
                    "text": text,
                    "changed": changed,
                }
            )
        if not found:
            rows.append(
                {"revision": r.revision, "status": r.status, "line": None, "text": "",
                 "changed": previous is not None and previous != []}
            )  # fmt: skip
        previous = texts
    return pd.DataFrame(rows, columns=["revision", "status", "line", "text", "changed"])
