"""Render a digest for people: the brief as HTML fragments and Markdown, and notebook -> HTML.

Every page and fragment comes from a Jinja2 template shipped in ``digestkit/templates`` with
autoescaping on, so a ``<script>`` planted in a runbook step or a clarification is shown as text
and never runs. The digest notebook ``digestkit/notebooks/revision_digest.ipynb`` (package data)
displays the fragments of :mod:`digestkit.brief`'s :class:`~digestkit.brief.Brief`:
:func:`screen` (what a duty manager reads first), :func:`details` and :func:`sources`.
:func:`to_markdown` renders the same brief for ``digestkit digest --format markdown``.

:func:`execute_notebook` runs that notebook with papermill (on a fresh kernel, or on a kept one
from :mod:`digestkit.kernel`) and :func:`notebook_to_html` exports it with nbconvert
(:mod:`digestkit.nbexport`), input cells
hidden, stderr dropped and a failed notebook refused, under the title
``Digest — <runbook> <revision>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jinja2

from digestkit.brief import Brief, build_brief, count
from digestkit.exceptions import NotebookError

if TYPE_CHECKING:
    from digestkit.kernel import WarmKernel

__all__ = [
    "DIGEST_NOTEBOOK",
    "NBCONVERT_TEMPLATE",
    "STATE_LABELS",
    "TEMPLATE",
    "brief_parts",
    "details",
    "digest_html",
    "environment",
    "execute_notebook",
    "markdown_environment",
    "notebook_digest",
    "notebook_to_html",
    "page",
    "redline",
    "scope_mark",
    "screen",
    "sources",
    "state_badge",
    "title_for",
    "to_markdown",
    "wdiff",
]

# Package data, as real files: papermill and nbconvert read paths, and pip installs a wheel
# unpacked, so the package's resources are always files on disk.
DIGEST_NOTEBOOK = Path(str(resources.files("digestkit") / "notebooks" / "revision_digest.ipynb"))
TEMPLATE = Path(str(resources.files("digestkit") / "templates" / "digest.html.j2"))
#: For schedulers: `jupyter nbconvert --to digest --no-input --template-file <this>` on a digest
#: notebook papermill executed gives the page :func:`notebook_to_html` writes for it.
NBCONVERT_TEMPLATE = Path(
    str(resources.files("digestkit") / "templates" / "nbconvert-digest.html.j2")
)

# What the badge says: the state is the digest's (reviewed or not), never the revision's, which
# is always published; a withdrawn revision is the exception worth saying outright.
STATE_LABELS = {
    "draft": "digest draft: not yet reviewed",
    "shared": "digest shared for handoff",
    "withdrawn": "revision withdrawn",
}


@cache
def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescaped except Markdown (``.md.j2``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("digestkit", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=("md.j2", "css"),
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(STATE_LABELS=STATE_LABELS, count=count, wdiff=wdiff, scope_mark=scope_mark)
    return env


def wdiff(segments: Iterable[tuple[str, str]]) -> str:
    """``[-deleted-]`` and ``{+inserted+}`` markers, as ``wdiff`` and ``digestkit diff`` write."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return " ".join(marks[op].format(text) for op, text in segments)


def scope_mark(text: str, *, quotes: Literal["reported", "all"] = "reported") -> str:
    """The CSS class marking ``text`` when the scope guard asks the sharer to confirm it.

    A claim or clarification with a confirm-level sentence gets ``" dk-scope-confirm"`` appended
    to its class (the style labels it "scope: confirm before sharing"); otherwise ``""``.
    """
    from digestkit.policy import check_sentence, to_confirm

    return " dk-scope-confirm" if to_confirm(check_sentence(text, quotes=quotes)) else ""


def page(name: str, **values: Any) -> str:
    """Render the package template ``name`` with ``values``."""
    return environment().get_template(name).render(**values)


def _macro(name: str, *args: Any) -> str:
    template = environment().get_template("brief/_macros.html.j2")
    return str(getattr(template.module, name)(*args))


def state_badge(state: str) -> str:
    """The coloured state badge of a digest, labelled so it cannot be read as the revision's."""
    return _macro("state_badge", state)


def redline(old: str | None, new: str | None) -> str:
    """Word-level redline of two texts as escaped HTML with ``<del>`` and ``<ins>``."""
    from digestkit.diff import word_segments

    return _macro("redline", word_segments(old or "", new or ""))


def screen(brief: Brief) -> str:
    """The first screen: header, what needs attention, what changed, what still holds."""
    return page("brief/screen.html.j2", b=brief)


def details(brief: Brief) -> str:
    """Each flag, open question and change in full, linked both ways, with clarifications."""
    return page("brief/details.html.j2", b=brief)


def sources(brief: Brief) -> str:
    """Every ``[S#]`` with its quoted lines, record fields or count description."""
    return page("brief/sources.html.j2", b=brief)


def brief_parts(brief: Brief) -> tuple[str, str, str]:
    """The digest page's three parts, in order: :func:`screen`, :func:`details`, :func:`sources`."""
    return screen(brief), details(brief), sources(brief)


class _Verbatim(str):
    """Template output that is Markdown syntax already (a code span's id), not text to escape."""


def _markdown_literal(value: Any) -> Any:
    # Every value a Markdown template prints is literal text: runbook words never become a
    # heading, list, emphasis, link or raw HTML (as in the diff's Markdown report).
    from digestkit.diff import md_escape

    if isinstance(value, _Verbatim) or not isinstance(value, str):
        return value
    return md_escape(value)


@cache
def markdown_environment() -> jinja2.Environment:
    """The environment of the Markdown templates: every printed value escaped as literal text."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("digestkit", "templates"),
        autoescape=False,
        finalize=_markdown_literal,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(environment().globals)
    env.filters["verbatim"] = _Verbatim
    return env


def to_markdown(brief: Brief) -> str:
    """The brief as Markdown, in the page's order (``digestkit digest --format markdown``)."""
    return markdown_environment().get_template("brief/digest.md.j2").render(b=brief)


def digest_html(
    digest: Mapping[str, Any],
    *,
    state: str = "draft",
    transition: Mapping[str, Any] | None = None,
    notes: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The whole digest as one HTML fragment, from the digest alone (no sources read)."""
    from digestkit.brief import Context

    brief = build_brief(
        digest,
        Context(notes=[dict(n) for n in notes], state=state, transition=transition),
    )
    return screen(brief) + details(brief) + sources(brief)


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
        # One write when it ends (or fails) instead of one as each cell starts and completes:
        # the output is a build file nobody reads while it runs.
        request_save_on_cell_execute=False,
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

    from digestkit.nbexport import page_exporter

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
    exporter = page_exporter(str(TEMPLATE), markdown=markdown)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    output.write_text(body, encoding="utf-8")
    return output
