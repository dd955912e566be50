"""Render a digest for people: HTML fragments from a digest dict, and notebook -> HTML pages.

The fragment functions are pure: they take the digest dict of ``docs/digest-json.md`` and return
HTML strings in which every piece of text is escaped, so a ``<script>`` planted in a runbook step
is shown as text and never runs. The notebook ``notebooks/revision_digest.ipynb`` displays them.

:func:`execute_notebook` runs that notebook with papermill (on a fresh kernel, or on a kept one
from :mod:`digestkit.kernel`) and :func:`notebook_to_html` exports it with nbconvert, input cells
hidden, stderr dropped and a failed notebook refused, under the title
``Digest — <runbook> <revision>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from digestkit.exceptions import NotebookError

if TYPE_CHECKING:
    from digestkit.kernel import WarmKernel

__all__ = [
    "DIGEST_NOTEBOOK",
    "PARTS",
    "STYLE",
    "TEMPLATE",
    "carried_forward",
    "changed_steps",
    "clarifications",
    "digest_html",
    "execute_notebook",
    "header_card",
    "notebook_digest",
    "notebook_to_html",
    "open_items",
    "redline",
    "scope_mark",
    "source_index",
    "sources_table",
    "state_badge",
    "title_for",
]

DIGEST_NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "revision_digest.ipynb"
TEMPLATE = Path(__file__).resolve().parent / "templates" / "digest.html.j2"

PARTS = (
    (
        "changed",
        "What changed",
        "Runbook changes since the baseline — escalation steps, paging paths, checkpoints, "
        "ownership and exceptions: added, removed, modified, moved or renumbered.",
    ),
    ("carried-forward", "What still holds", "Assumptions carried forward from the sources."),
    ("open", "What is open", "Open questions and flags for the duty manager."),
)

STYLE = """<style>
.dk { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933;
      max-width: 62rem; line-height: 1.45; }
.dk h2 { margin: 0 0 .25rem; font-size: 1.35rem; }
.dk h3 { margin: 0 0 .2rem; font-size: 1.15rem; }
.dk .dk-card { border: 1px solid #cbd2d9; border-radius: 8px; padding: .9rem 1.1rem;
               background: #f5f7fa; margin: 0 0 1.2rem; }
.dk .dk-card dl { display: grid; grid-template-columns: 10rem 1fr; gap: .15rem 1rem;
                  margin: .6rem 0 0; }
.dk .dk-card dt { font-weight: 600; color: #52606d; white-space: nowrap; }
.dk .dk-card dd { margin: 0; }
.dk .dk-part { border-left: 6px solid #9aa5b1; padding: .5rem 0 .5rem 1rem; margin: 0 0 1.6rem; }
.dk #changed { border-color: #2f80ed; }
.dk #carried-forward { border-color: #27ae60; }
.dk #open { border-color: #e67e22; }
.dk #sources, .dk #clarifications { border-color: #7b8794; }
.dk .dk-lede { color: #52606d; margin: 0 0 .6rem; }
.dk .dk-claim { margin: 0 0 .7rem; }
.dk .dk-id { font-family: ui-monospace, monospace; font-size: .8rem; color: #52606d;
             margin-right: .4rem; }
.dk .dk-kind { display: inline-block; font-size: .75rem; padding: 0 .45rem; border-radius: 9px;
               background: #e4e7eb; margin-right: .4rem; }
.dk .dk-kind-flag { background: #fde8d4; }
.dk .dk-src a { font-family: ui-monospace, monospace; font-size: .8rem; margin-left: .25rem; }
.dk .dk-redline { font-family: ui-monospace, monospace; font-size: .85rem; background: #fff;
                  border: 1px solid #e4e7eb; border-radius: 4px; padding: .35rem .5rem;
                  margin: .3rem 0 0; white-space: pre-wrap; word-break: break-word; }
.dk del { background: #fde2e1; color: #9b1c1c; }
.dk ins { background: #def7ec; color: #03543f; text-decoration: none; }
.dk del + ins { margin-left: .25em; }
.dk table { border-collapse: collapse; font-size: .9rem; }
.dk th, .dk td { border: 1px solid #e4e7eb; padding: .25rem .6rem; text-align: left !important; }
.dk th { background: #f5f7fa; }
.dk tr:target { background: #fff3c4; }
.dk .dk-empty { color: #7b8794; font-style: italic; }
.dk .dk-state { font-weight: 600; text-transform: uppercase; font-size: .8rem; }
.dk .dk-state-draft { color: #b7791f; }
.dk .dk-state-shared { color: #276749; }
.dk .dk-state-withdrawn { color: #c53030; }
.dk .dk-withdrawn { border-left: 4px solid #c53030; padding: .4rem .8rem; background: #fff5f5; }
.dk .dk-scope-confirm { border-left: 4px solid #d69e2e; padding-left: .5rem; background: #fffbea; }
.dk .dk-scope-confirm::before { content: "scope: confirm before sharing"; display: block;
                                font-size: .75rem; font-weight: 600; color: #975a16; }
</style>"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute; None becomes an empty string."""
    return "" if value is None else escape(str(value), quote=True)


def source_index(digest: Mapping[str, Any]) -> dict[tuple[str, str, str], str]:
    """Map each ``(system, id, locator)`` of the digest's sources table to its ``S<n>`` ref."""
    return {(s["system"], s["id"], s["locator"]): s["ref"] for s in digest.get("sources", [])}


def _source_links(claim: Mapping[str, Any], refs: Mapping[tuple[str, str, str], str]) -> str:
    links = []
    for src in claim.get("sources", []):
        label = f"{src['system']} {src['id']} · {src['locator']}"
        ref = refs.get((src["system"], src["id"], src["locator"]))
        if ref is None:  # not in the sources table: show the reference, but no dead link
            links.append(f'<span title="{_e(label)}">[{_e(src["id"])}]</span>')
        else:
            links.append(f'<a href="#src-{_e(ref)}" title="{_e(label)}">[{_e(ref)}]</a>')
    return f'<span class="dk-src">{"".join(links)}</span>'


def redline(old: str | None, new: str | None) -> str:
    """Word-level redline of two texts as escaped HTML with ``<del>`` and ``<ins>``."""
    from digestkit.diff import segments_html, word_segments

    return segments_html(word_segments(old or "", new or ""))


def scope_mark(text: str, *, quotes: Literal["reported", "all"] = "reported") -> str:
    """The CSS class marking ``text`` when the scope guard asks the sharer to confirm it.

    The hook for the page (issue 16): a claim or clarification with a confirm-level sentence
    gets ``" dk-scope-confirm"`` appended to its class (STYLE labels it); otherwise ``""``.
    """
    from digestkit.policy import check_sentence, to_confirm

    return " dk-scope-confirm" if to_confirm(check_sentence(text, quotes=quotes)) else ""


def _claim(claim: Mapping[str, Any], refs: Mapping[tuple[str, str, str], str], body: str) -> str:
    flag = " dk-kind-flag" if claim.get("part") == "flags" else ""
    mark = scope_mark(str(claim.get("text") or ""), quotes="all")
    return (
        f'<div class="dk-claim{mark}" id="claim-{_e(claim["id"])}">'
        f'<span class="dk-id">{_e(claim["id"])}</span>'
        f'<span class="dk-kind{flag}">{_e(str(claim.get("kind", "")).replace("_", " "))}</span>'
        f"{_e(claim['text'])}{_source_links(claim, refs)}{body}</div>"
    )


def _part(part_id: str, claims_html: Sequence[str], *, empty: str) -> str:
    _, title, lede = next(p for p in PARTS if p[0] == part_id)
    body = "".join(claims_html) or f'<p class="dk-empty">{_e(empty)}</p>'
    return (
        f'<section class="dk-part" id="{part_id}"><h3>{_e(title)}</h3>'
        f'<p class="dk-lede">{_e(lede)}</p>{body}</section>'
    )


def _wrap(inner: str) -> str:
    return f'{STYLE}<div class="dk">{inner}</div>'


# What the badge says: the state is the digest's (reviewed or not), never the revision's, which
# is always published; a withdrawn revision is the exception worth saying outright.
_STATE_LABELS = {
    "draft": "digest draft: not yet reviewed",
    "shared": "digest shared for handoff",
    "withdrawn": "revision withdrawn",
}


def state_badge(state: str) -> str:
    """The coloured state badge of a digest, labelled so it cannot be read as the revision's."""
    label = _STATE_LABELS.get(state, state)
    return f'<span class="dk-state dk-state-{_e(state)}">{_e(label)}</span>'


def header_card(
    digest: Mapping[str, Any],
    *,
    state: str = "draft",
    transition: Mapping[str, Any] | None = None,
) -> str:
    """The header card: runbook, revision, baseline, publication, change reason and counts.

    ``transition`` is how the digest reached ``state`` (by, at, meaning) once it left draft.
    """
    h, audit = digest["header"], digest.get("audit", {})
    baseline = h.get("baseline") or "none (first published revision)"
    if h.get("baseline_note"):
        baseline = f"{baseline} — {h['baseline_note']}"
    rows = [
        ("Runbook", f"{h.get('title', '')} ({h['runbook_id']})"),
        ("Revision", h["revision"]),
        ("Compared with", baseline),
        ("Published", f"{h.get('published_at') or '—'} by {h.get('publisher') or '—'}"),
        ("Approved by", audit.get("approved_by") or "—"),
        ("Change reason", h.get("change_reason") or "—"),
        ("Sources read as of", h.get("as_of") or "—"),
        (
            "Counts",
            f"{len(digest.get('changed_steps', []))} changes · "
            f"{len(digest.get('carried_forward', []))} carried forward · "
            f"{len(digest.get('open_questions', []))} open questions · "
            f"{len(digest.get('flags', []))} flags",
        ),
    ]
    if transition:
        t = transition
        rows.append((state.capitalize(), f"{t['at']} by {t['by']} — {t['meaning']}"))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    banner = ""
    if state == "withdrawn":
        banner = (
            '<p class="dk-withdrawn">This revision was withdrawn after publication. '
            "Do not use this digest for handoff.</p>"
        )
    return _wrap(
        f'<div class="dk-card" id="header"><h2>{_e(h.get("title") or h["runbook_id"])} — '
        f"{_e(h['revision'])}</h2>"
        f"{state_badge(state)}"
        f" · digest {_e(digest.get('digest_id'))}{banner}<dl>{dl}</dl></div>"
    )


def changed_steps(digest: Mapping[str, Any]) -> str:
    """The changed escalation steps, each with its redline and source links."""
    refs = source_index(digest)
    items = []
    for claim in digest.get("changed_steps", []):
        d = claim.get("details") or {}
        old, new = (d.get("old") or {}).get("text"), (d.get("new") or {}).get("text")
        body = f'<div class="dk-redline">{redline(old, new)}</div>' if old or new else ""
        items.append(_claim(claim, refs, body))
    empty = (
        "No change since the baseline."
        if digest["header"].get("baseline")
        else "First published revision: there is no baseline, so every step is new."
    )
    return _wrap(_part("changed", items, empty=empty))


def carried_forward(digest: Mapping[str, Any]) -> str:
    """The assumptions carried forward, with source links."""
    refs = source_index(digest)
    items = [_claim(c, refs, "") for c in digest.get("carried_forward", [])]
    return _wrap(_part("carried-forward", items, empty="Nothing carried forward."))


def open_items(digest: Mapping[str, Any]) -> str:
    """Open questions first, then flags, with source links."""
    refs = source_index(digest)
    claims = [*digest.get("open_questions", []), *digest.get("flags", [])]
    items = [_claim(c, refs, "") for c in claims]
    return _wrap(_part("open", items, empty="No open questions or flags."))


def sources_table(digest: Mapping[str, Any]) -> str:
    """The sources table; row ``S<n>`` has the anchor ``#src-S<n>`` the claims link to."""
    rows = "".join(
        f'<tr id="src-{_e(s["ref"])}"><td>{_e(s["ref"])}</td><td>{_e(s["system"])}</td>'
        f"<td>{_e(s['id'])}</td><td>{_e(s['locator'])}</td></tr>"
        for s in digest.get("sources", [])
    )
    return _wrap(
        '<section class="dk-part" id="sources"><h3>Sources</h3>'
        '<p class="dk-lede">Every statement above links to the record it rests on.</p>'
        "<table><thead><tr><th>Ref</th><th>System</th><th>Record</th><th>Locator</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></section>"
    )


def clarifications(items: Iterable[Mapping[str, Any]]) -> str:
    """Human clarifications added in the workspace (author, time, text), oldest first."""
    rows = "".join(
        f'<div class="dk-claim{scope_mark(c["text"])}"><span class="dk-id">{_e(c["at"])}</span>'
        f"<strong>{_e(c['author'])}</strong>: {_e(c['text'])}</div>"
        for c in items
    )
    if not rows:
        return ""
    return _wrap(
        '<section class="dk-part" id="clarifications"><h3>Clarifications</h3>'
        f'<p class="dk-lede">Added by reviewers after the digest was built.</p>{rows}</section>'
    )


def digest_html(
    digest: Mapping[str, Any],
    *,
    state: str = "draft",
    transition: Mapping[str, Any] | None = None,
    notes: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The whole digest as one HTML fragment (header, three parts, clarifications, sources)."""
    return "".join(
        [
            header_card(digest, state=state, transition=transition),
            changed_steps(digest),
            carried_forward(digest),
            open_items(digest),
            clarifications(notes),
            sources_table(digest),
        ]
    )


def title_for(digest: Mapping[str, Any]) -> str:
    """The page title of a digest: ``Digest — <runbook> <revision>``."""
    return f"Digest — {digest['header']['runbook_id']} {digest['header']['revision']}"


def notebook_digest(
    runbook: str,
    revision: str,
    *,
    baseline: str | None = None,
    data: str | Path | None = None,
    as_of: str | None = None,
    digest_json: str | Path | None = None,
) -> dict[str, Any]:
    """The digest the notebook shows: the runner's ``digest_json`` if given, else built now."""
    if digest_json is not None:
        import json

        shown: dict[str, Any] = json.loads(Path(digest_json).read_text(encoding="utf-8"))
        return shown
    from digestkit.digest import build_digest

    return build_digest(runbook, revision, baseline=baseline, data=data, as_of=as_of).to_dict()


def execute_notebook(
    output: Path,
    *,
    parameters: Mapping[str, Any],
    notebook: Path = DIGEST_NOTEBOOK,
    cwd: Path | None = None,
    kernel: WarmKernel | None = None,
) -> Path:
    """Execute ``notebook`` into ``output`` with papermill; NotebookError if a cell fails.

    With ``kernel`` the notebook runs on that kept kernel (:class:`digestkit.kernel.WarmKernel`)
    instead of a kernel started for this run alone.
    """
    import papermill
    from nbclient.exceptions import DeadKernelError

    from digestkit.kernel import ENGINE_NAME, KERNEL_ARGS, KERNEL_NAME

    run = partial(
        papermill.execute_notebook,
        str(notebook),
        str(output),
        parameters=dict(parameters),
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        log_output=False,
        extra_arguments=KERNEL_ARGS,
    )
    try:
        if kernel is None:
            run(cwd=str(cwd) if cwd else None)
        else:
            with kernel.session(cwd or Path.cwd()) as kc:
                run(engine_name=ENGINE_NAME, km=kernel.km, kc=kc)
    except papermill.PapermillExecutionError as exc:
        raise NotebookError(
            notebook.name, cell_index=exc.cell_index, ename=exc.ename, evalue=exc.evalue
        ) from None
    except DeadKernelError as exc:  # killed (out of memory, say): the event is retried
        raise NotebookError(notebook.name, reason=f"the kernel died: {exc}") from None
    return output


def notebook_to_html(notebook: Path, output: Path, *, title: str, markdown: bool = False) -> Path:
    """Export an executed notebook to a standalone HTML page: no inputs, prompts or stderr.

    Markdown cells are left out unless ``markdown`` is True (a report's headings and definitions
    are content; a digest notebook's are notes for whoever opens it). A notebook with a failed
    cell is never rendered: NotebookError names the cell.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise NotebookError(
                    notebook,
                    cell_index=index,
                    ename=out.get("ename", ""),
                    evalue=out.get("evalue", ""),
                    reason="a failed notebook is never rendered",
                )
        # Warnings and logs go to stderr; they are for operators, not for the duty manager.
        cell.outputs = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
    nb.metadata["title"] = title
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file=str(TEMPLATE),
        exclude_input=True,
        exclude_markdown=not markdown,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    output.write_text(body, encoding="utf-8")
    return output
