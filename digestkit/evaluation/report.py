"""The evaluation report: ``notebooks/evaluation_report.ipynb`` run into HTML, and what it shows.

:func:`render_report` executes the notebook with papermill; its cells call the plots and tables
here (one or two calls a cell), so the notebook holds no logic of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from digestkit import render
from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit.evaluation.metrics import SIMULATED_REVIEWER, Evaluation, parse_period

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

__all__ = [
    "REPORT_NOTEBOOK",
    "digest_table",
    "duration",
    "plot_corrections",
    "plot_over_time",
    "plot_surfacing",
    "render_report",
    "report_preamble",
    "scope_latency_table",
    "table",
]

REPORT_NOTEBOOK = (
    Path(__file__).resolve().parent.parent.parent / "notebooks" / "evaluation_report.ipynb"
)


def render_report(
    workspace: str | Path,
    out_html: str | Path | None = None,
    *,
    period: str | None = None,
    data: str | Path | src_mod.DataSources | None = None,
) -> Path:
    """Run the evaluation report notebook with papermill and export it (no inputs) to HTML.

    The default output is ``<workspace>/evaluation/report.html``, the executed notebook next to it.
    """
    layout = rv.workspace_layout(workspace)
    parse_period(period)  # fail before starting a kernel
    # One file per period, so a period's report never replaces the whole-history one.
    name = (
        "report.html"
        if period in (None, "", "all")
        else f"report-{period.replace('..', '_to_')}.html"
    )
    out = Path(out_html) if out_html else layout.root / "evaluation" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    root = data.root if isinstance(data, src_mod.DataSources) else data
    parameters = {
        "workspace": str(layout.root),
        "period": period or "all",
        "data": str(Path(root).resolve()) if root else None,
    }
    executed = render.execute_notebook(
        out.with_suffix(".ipynb"), parameters=parameters, notebook=REPORT_NOTEBOOK, cwd=out.parent
    )
    _export(executed, out, title=f"Evaluation — {layout.root.name}")
    return out


def _export(notebook: Path, output: Path, *, title: str) -> None:
    # Like render.notebook_to_html, but the report keeps its Markdown cells (headings, definitions).
    # Imported here as render does: nbconvert is slow to import and only the export needs it.
    import nbformat
    from nbconvert import HTMLExporter

    # Neither library ships type information.
    nb = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    nb.metadata["title"] = title
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file=str(render.TEMPLATE),
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    output.write_text(body, encoding="utf-8")


# --- plots (matplotlib figures for the report notebook) -----------------------------------------


def _figure(width: float = 8.0, height: float = 3.6) -> tuple[Figure, Axes]:
    # matplotlib is slow to import and only the report notebook draws.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"No {what} yet.", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def plot_over_time(evaluation: Evaluation) -> Figure:
    """Per-revision metrics in publication order: provenance, corrections, misses, recall."""
    fig, ax = _figure()
    d = evaluation.digests
    if d.empty:
        _empty(ax, "digests")
        return fig
    x = range(len(d))
    recall = d["issues_surfaced"].astype(float) / d["issues_total"].astype(float).where(
        d["issues_total"].astype(float) > 0
    )
    series = {
        "provenance complete": d["provenance_complete"].astype(float),
        "correction rate": d["correction_rate"].astype(float),
        "missed-item rate": d["missed_rate"].astype(float),
        "surfacing recall": recall,
    }
    for label, values in series.items():
        ax.plot(x, values.to_numpy(), marker="o", label=label)
    ax.set_xticks(list(x), list(d["digest_id"]), rotation=30, ha="right", fontsize="small")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("share")
    ax.set_title("Per revision, in publication order")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return fig


def plot_corrections(evaluation: Evaluation) -> Figure:
    """Correction rate and missed-item rate by part."""
    fig, ax = _figure(7.0, 3.2)
    c = evaluation.corrections
    if int(c["reviewed"].sum()) == 0 and int(c["missed"].sum()) == 0:
        _empty(ax, "reviews")
        return fig
    x = list(range(len(c)))
    ax.bar(
        [i - 0.2 for i in x],
        c["correction_rate"].astype(float).fillna(0),
        0.4,
        label="correction rate",
    )
    ax.bar(
        [i + 0.2 for i in x],
        c["missed_rate"].astype(float).fillna(0),
        0.4,
        label="missed-item rate",
    )
    ax.set_xticks(x, [p.replace("_", " ") for p in c["part"]])
    ax.set_ylabel("share")
    ax.set_title("Reviewer corrections by part")
    ax.legend(fontsize="small")
    return fig


def plot_surfacing(evaluation: Evaluation) -> Figure:
    """Surfacing recall and false-flag rate by issue kind."""
    fig, ax = _figure(8.0, 3.4)
    s = evaluation.surfacing
    if s.empty or int(s["gold_issues"].sum()) + int(s["flags"].sum()) == 0:
        _empty(ax, "gold-labelled digests")
        return fig
    y = list(range(len(s)))
    ax.barh([i - 0.2 for i in y], s["recall"].astype(float).fillna(0), 0.4, label="recall")
    ax.barh(
        [i + 0.2 for i in y],
        s["false_flag_rate"].astype(float).fillna(0),
        0.4,
        label="false-flag rate",
    )
    ax.set_yticks(y, [k.replace("_", " ") for k in s["issue_kind"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_title("Surfacing of planted issues by kind")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


# --- report tables -----------------------------------------------------------------------------


def report_preamble(evaluation: Evaluation) -> str:
    """The Markdown lines that open the report: scope, data, and whether reviews are simulated."""
    s = evaluation.summary
    lines = [
        f"**Workspace:** `{evaluation.workspace}` — **period:** {evaluation.period or 'all'} — "
        f"**digests:** {s['provenance']['digests']} of {s['provenance']['published_revisions']} "
        f"published revisions — **gold-labelled:** {s['surfacing']['digests_with_gold']}."
    ]
    reviewers = s["reviews"]["reviewers"]
    if s["reviews"]["simulated"]:
        lines.append(
            f"\n> **Simulated reviews.** Records by `{SIMULATED_REVIEWER}` come from "
            "`digestkit.evaluation.simulate_reviews` (seeded): it rejects flags and changes the "
            "gold labels contradict, adds the gold issues the digest missed, and rewords a few "
            "claims at random. They show how the report reads; they are not a person's judgement."
        )
    elif not reviewers:
        lines.append("\n> No review records yet: correction metrics are empty.")
    else:
        lines.append(f"\nReviewers: {', '.join(reviewers)}.")
    return "\n".join(lines)


def digest_table(evaluation: Evaluation) -> pd.DataFrame:
    """The per-digest metrics a reader scans first, in publication order."""
    return evaluation.digest_brief()


def scope_latency_table(evaluation: Evaluation) -> pd.DataFrame:
    """Per digest: scope-guard violations, whether a reviewer accepted it, and latency."""
    d = evaluation.digests
    columns = [
        "digest_id",
        "scope_violations",
        "reviewer_accepted",
        "event_id",
        "occurred_at",
        "posted_at",
    ]
    return d[columns].assign(latency=d["latency_seconds"].map(duration))


def duration(seconds: float | None) -> str | None:
    """Seconds as a reader scans them: ``42 s``, ``3 min 5 s``, ``2 h 4 min``, ``220 d 3 h``."""
    if seconds is None or pd.isna(seconds):
        return None
    s = round(float(seconds))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60)):
        if s >= size:
            return f"{s // size} {unit} {s % size // sub_size} {sub}"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"


def table(frame: pd.DataFrame) -> Styler:
    """A metrics table for the report: no index column, blanks as "—", three decimals."""
    return frame.style.hide(axis="index").format(na_rep="—", precision=3)
