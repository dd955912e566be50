"""The workspace's index page and the revision pages it links.

``index.html`` lists the digests by runbook, current revision first (the newest one not
withdrawn), with each digest's state and who set it; the feed events that need someone (failed,
quarantined, skipped); and the evaluation report when there is one.
``revisions/<runbook>@<rev>.html`` shows a digested revision's text with anchored lines
(``#L84``), written once: a published revision's text never changes. :func:`write_index`
rewrites both whenever digests change (a pass of the event runner, a share or clarification,
a recovered change).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from digestkit import render
from digestkit.brief.wording import human_when
from digestkit.exceptions import DigestkitError
from digestkit.fileio import read_json, read_jsonl, write_atomic
from digestkit.workspace import AuditRecord, DigestState, Layout, Transition, state_transition

__all__ = [
    "DigestEntry",
    "event_problems",
    "index_html",
    "list_digests",
    "write_index",
    "write_revision_pages",
]


@dataclass(frozen=True)
class DigestEntry:
    """One row of the index page."""

    digest_id: str
    runbook_id: str
    revision: str
    baseline: str | None
    published_at: str | None
    created_at: str
    state: DigestState
    changed_steps: int
    flags: int
    open_questions: int
    transition: Transition | None = None  # into the current state: by, at, meaning
    title: str = ""
    data: str | None = None  # the sources it was built from (None: the default world)


def list_digests(layout: Layout) -> list[DigestEntry]:
    """Every digest of the workspace, newest publication first."""
    from digestkit.brief import shown_changes

    entries: list[DigestEntry] = []
    if not layout.digests.is_dir():
        return entries
    for folder in layout.digests.iterdir():
        if not (folder / "audit.json").is_file() or not (folder / "digest.json").is_file():
            continue
        audit = cast(AuditRecord, read_json(folder / "audit.json"))
        digest = read_json(folder / "digest.json")
        h = digest["header"]
        entries.append(
            DigestEntry(
                digest_id=digest["digest_id"],
                runbook_id=h["runbook_id"],
                revision=h["revision"],
                baseline=h.get("baseline"),
                published_at=h.get("published_at"),
                created_at=audit.get("created_at", ""),
                state=audit.get("state", "draft"),
                changed_steps=len(shown_changes(digest)),  # as the digest page counts them
                flags=len(digest.get("flags", [])),
                open_questions=len(digest.get("open_questions", [])),
                transition=state_transition(audit),
                title=h.get("title", ""),
                data=audit.get("parameters", {}).get("notebook", {}).get("data"),
            )
        )
    entries.sort(key=lambda e: (e.published_at or "", e.created_at, e.digest_id), reverse=True)
    return entries


def index_html(
    entries: list[DigestEntry],
    *,
    problems: list[dict[str, Any]] | None = None,
    report: str | None = None,
    texts: Collection[str] = (),
) -> str:
    """The index page: digests grouped by runbook (current revision first), the events that need
    someone (failed, quarantined, skipped, with their reasons) and the evaluation report's link.

    ``texts`` are the ``runbook@revision`` refs whose revision page exists, to link.
    """
    groups: dict[str, list[DigestEntry]] = {}
    for e in entries:
        groups.setdefault(e.runbook_id, []).append(e)
    shown = []
    for runbook_id, items in groups.items():
        # The current revision is the newest one not withdrawn; the others are superseded.
        current = next((e for e in items if e.state != "withdrawn"), None)
        rows = []
        for e in items:
            moved = e.transition
            rows.append(
                {
                    **asdict(e),
                    "current": e is current,
                    "text": e.digest_id in texts,
                    "published": human_when(e.published_at),
                    "transition": {**moved, "at": human_when(moved["at"])} if moved else None,
                }
            )
        shown.append({"runbook_id": runbook_id, "title": items[0].title, "entries": rows})
    listed = [{**p, "at": human_when(p.get("at"))} for p in problems or []]
    return render.page("index.html.j2", groups=shown, problems=listed, report=report)


def event_problems(layout: Layout) -> list[dict[str, Any]]:
    """Feed lines whose latest outcome is failed, quarantined or skipped, with the reason."""
    latest: dict[int, dict[str, Any]] = {}
    for record in read_jsonl(layout.events) if layout.events.is_file() else []:
        latest[int(record.get("line_no", 0))] = record
    order = ("failed", "quarantined", "skipped")  # a failure may need someone: first
    listed = [r for _, r in sorted(latest.items()) if r.get("status") in order]
    return sorted(listed, key=lambda r: order.index(r["status"]))


def write_revision_pages(layout: Layout, entries: list[DigestEntry]) -> list[Path]:
    """Write ``revisions/<runbook>@<revision>.html`` (numbered, anchored lines) for each digest's
    revision and baseline not written yet: a published revision's text never changes."""
    from digestkit.brief import revision_page

    written = []
    for e in entries:
        for revision in filter(None, (e.revision, e.baseline)):
            path = layout.revisions / f"{e.runbook_id}@{revision}.html"
            if path.is_file():
                continue
            try:
                shown = revision_page(e.runbook_id, revision, data=e.data)
            except DigestkitError:  # sources moved or gone: the index links only pages it has
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, render.page("revision.html.j2", r=shown).encode("utf-8"))
            written.append(path)
    return written


def write_index(layout: Layout) -> Path:
    """Rewrite index.html from the digest folders (and add missing revision pages); its path."""
    entries = list_digests(layout)
    write_revision_pages(layout, entries)
    report = layout.root / "evaluation" / "report.html"
    html = index_html(
        entries,
        problems=event_problems(layout),
        report="evaluation/report.html" if report.is_file() else None,
        texts={p.stem for p in layout.revisions.glob("*.html")},
    )
    write_atomic(layout.index, html.encode("utf-8"))
    return layout.index
