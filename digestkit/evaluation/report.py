"""The evaluation report: the notebook ``evaluation_report.ipynb`` run into HTML, and what it shows.

:func:`render_report` executes the notebook with papermill; its cells call the plots and tables
here (one or two calls a cell), so the notebook holds no logic of its own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from digestkit import render
from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit.evaluation.headline import TARGETS
from digestkit.evaluation.metrics import Evaluation
from digestkit.evaluation.periods import parse_period
from digestkit.evaluation.stats import MIN_N
from digestkit.evaluation.timeliness import OUTCOMES, TIMELY_KINDS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

__all__ = [
    "REPORT_NOTEBOOK",
    "definitions",
    "digest_table",
    "duration",
    "issue_table",
    "latency_table",
    "plot_corrections",
    "plot_surfacing",
    "plot_trends",
    "render_report",
    "report_caveats",
    "report_preamble",
    "table",
]

# Package data; see render.DIGEST_NOTEBOOK.
REPORT_NOTEBOOK = Path(str(resources.files("digestkit") / "notebooks" / "evaluation_report.ipynb"))


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
    # The report keeps its Markdown cells: its headings and definitions are content.
    render.notebook_to_html(executed, out, title=f"Evaluation — {layout.root.name}", markdown=True)
    return out


# --- plots (matplotlib figures for the report notebook) -----------------------------------------

_SERIES = {
    # label: (colour, line style); people solid, the simulation dashed, gold-based dotted markers
    "issues surfaced (gold)": ("#1b7837", "-"),
    "surfaced before the first case": ("#5aae61", ":"),
    "correction rate (people)": ("#2166ac", "-"),
    "correction rate (simulated)": ("#92c5de", "--"),
}
_OUTCOME_COLOURS = {"in_time": "#1b7837", "late": "#f1a340", "missed": "#b2182b"}


def _figure(width: float = 8.0, height: float = 3.6, columns: int = 1) -> tuple[Figure, list[Axes]]:
    # matplotlib is slow to import and only the report notebook draws.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, columns, sharey=True, squeeze=False)[0]
    return fig, list(axes)


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"No {what} yet.", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return num.astype(float) / den.where(den > 0)


def plot_trends(evaluation: Evaluation) -> Figure:
    """One panel per runbook, revisions in publication order: the share of planted issues
    surfaced, of tracked issues surfaced before the first case, and the correction rate (people
    and simulation apart). A series without data for a runbook is left out, not drawn at 0."""
    d = evaluation.digests
    runbooks = list(dict.fromkeys(d["runbook_id"])) if not d.empty else []
    fig, axes = _figure(10.0, 3.4, max(1, len(runbooks)))
    if not runbooks:
        _empty(axes[0], "digests")
        return fig
    for ax, runbook in zip(axes, runbooks, strict=True):
        mine = d[d["runbook_id"] == runbook]
        series = {
            "issues surfaced (gold)": _share(mine["issues_surfaced"], mine["issues_total"]),
            "surfaced before the first case": _share(mine["in_time"], mine["tracked_issues"]),
            "correction rate (people)": mine["correction_rate"].astype(float),
            "correction rate (simulated)": mine["sim_correction_rate"].astype(float),
        }
        x = list(range(len(mine)))
        for label, values in series.items():
            if values.notna().any():
                colour, style = _SERIES[label]
                ax.plot(x, values.to_numpy(), style, marker="o", color=colour, label=label)
        absent = [label for label, values in series.items() if not values.notna().any()]
        if absent:
            ax.text(
                0.5,
                0.5,
                "no data:\n" + "\n".join(absent),
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize="small",
                color="grey",
            )
        ax.set_xticks(x, list(mine["revision"]))
        ax.set_title(runbook, fontsize="medium")
        ax.set_xlabel("revision (publication order)")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share")
    handles = {str(h.get_label()): h for ax in axes for h in ax.get_lines()}
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=4)
    return fig


def plot_corrections(evaluation: Evaluation) -> Figure:
    """Correction rate by part with its 95% Wilson interval, people and simulation side by side;
    each bar says its n, and a part without reviews says so instead of drawing a zero."""
    fig, (ax,) = _figure(9.0, 3.6)
    c = evaluation.corrections
    if int(c["reviewed"].sum()) == 0:
        _empty(ax, "reviews")
        return fig
    parts = list(dict.fromkeys(c["part"]))
    offsets = {"human": -0.2, "simulated": 0.2}
    colours = {"human": "#2166ac", "simulated": "#92c5de"}
    names = {"human": "people", "simulated": "simulated (not a person)"}
    labelled: set[str] = set()
    for source, offset in offsets.items():
        mine = c[c["reviews"] == source].set_index("part").reindex(parts)
        for i, part in enumerate(parts):
            row = mine.loc[part]
            x = i + offset
            n = int(row["reviewed"])
            if n == 0:
                ax.text(x, 0.04, "no\nreviews", ha="center", fontsize="x-small", color="grey")
                continue
            value = float(row["correction_rate"])
            low, high = float(row["ci_low"]), float(row["ci_high"])
            ax.bar(
                x,
                value,
                0.38,
                color=colours[source],
                label=None if source in labelled else names[source],
                hatch=None if n >= MIN_N else "//",
                edgecolor="white",
            )
            labelled.add(source)
            ax.errorbar(
                x,
                value,
                yerr=[[max(0.0, value - low)], [max(0.0, high - value)]],
                fmt="none",
                ecolor="black",
                capsize=3,
                linewidth=1,
            )
            ax.text(x, high + 0.02, f"n={n}", ha="center", fontsize="x-small")
    ax.axhline(TARGETS["correction_rate"][1], color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(range(len(parts)), [p.replace("_", " ") for p in parts])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("corrected or rejected / reviewed")
    ax.set_title(
        f"Correction rate by part (95% Wilson interval; hatched: n < {MIN_N}; dotted: target)",
        fontsize="medium",
    )
    ax.legend(fontsize="small", loc="upper right")
    return fig


def plot_surfacing(evaluation: Evaluation) -> Figure:
    """Planted issues by kind, counted: surfaced before the first case, surfaced late, missed."""
    fig, (ax,) = _figure(9.0, 3.4)
    s = evaluation.surfacing
    if s.empty or int(s["gold_issues"].sum()) == 0:
        _empty(ax, "gold-labelled digests")
        return fig
    y = list(range(len(s)))
    left = pd.Series(0, index=s.index)
    labels = {
        "in_time": "surfaced before the first case",
        "late": "surfaced late",
        "missed": "missed",
    }
    for outcome in OUTCOMES:
        counts = s[outcome].astype(int)
        ax.barh(y, counts, left=left, color=_OUTCOME_COLOURS[outcome], label=labels[outcome])
        for i, (count, start) in enumerate(zip(counts, left, strict=True)):
            if count:
                ax.text(
                    start + count / 2,
                    i,
                    str(count),
                    ha="center",
                    va="center",
                    color="white",
                    fontsize="small",
                )
        left = left + counts
    ticks = [k.replace("_", " ") + (" *" if k in TIMELY_KINDS else "") for k in s["issue_kind"]]
    ax.set_yticks(y, ticks)
    ax.invert_yaxis()
    ax.set_xlabel("planted issues (count)")
    ax.set_title("Planted issues by kind (* = asked about in question 3)", fontsize="medium")
    fig.legend(loc="outside lower center", ncols=3, fontsize="small")
    return fig


# --- report text and tables --------------------------------------------------------------------


def report_preamble(evaluation: Evaluation) -> str:
    """One line under the title: workspace, period, what the change is measured against."""
    s = evaluation.summary
    return (
        f"**Workspace:** `{evaluation.workspace}` — **period:** {evaluation.period or 'all'} "
        f"(change against: {evaluation.previous_period or 'none'}) — **digests:** "
        f"{s['provenance']['digests']} of {s['provenance']['published_revisions']} published "
        f"revisions — **gold-labelled:** {s['surfacing']['digests_with_gold']}."
    )


def report_caveats(evaluation: Evaluation) -> str:
    """Every caveat a reader needs before trusting the numbers, as Markdown block quotes."""
    s = evaluation.summary
    people = s["reviews"]["human"]["reviewers"]
    lines = [
        f"**Reviewers:** {', '.join(people)}."
        if people
        else "> **No review by a person yet:** questions 2 and 4 have no people's numbers."
    ]
    if s["reviews"]["simulated"]["reviewers"]:
        lines.append(
            f"> **Simulated reviews are shown apart.** Records by `{rv.SIMULATED_REVIEWER}` come "
            "from `digestkit.evaluation.simulate_reviews` (seeded): it rejects what the gold "
            "labels contradict, adds what the digest missed, rewords a few claims at random and "
            "rates usefulness from those counts. They show how the report reads; they are not a "
            "person's judgement and never enter the people's numbers."
        )
    if s["surfacing"]["gold_source"] == "sample generator":
        lines.append(
            "> **Gold labels come from the sample generator.** The issues were planted and "
            "labelled by the same program (`digestkit.sample`), so surfacing recall says the "
            "digest finds what the generator planted — not how it does on issues a person found."
        )
    if not s["surfacing"]["cases_available"]:
        lines.append(
            "> **No severity-one cases in the CRM** (`cases` table): question 3 cannot be answered."
        )
    if s["latency"]["note"]:
        lines.append(f"> **Latency:** {s['latency']['note']}.")
    lines.append(
        f"A rate with n under {MIN_N} is shown as *n too small*; intervals are 95% Wilson "
        "intervals; targets are digestkit's defaults (`digestkit.evaluation.TARGETS`, see "
        "Definitions)."
    )
    return "\n\n".join(lines)


def _count(k: Any, n: Any) -> str:
    if n is None or pd.isna(n) or int(n) == 0:
        return "—"
    return f"{int(k)} of {int(n)}"


def digest_table(evaluation: Evaluation) -> pd.DataFrame:
    """One short row per revision, in publication order, that fits a 1280 px page."""
    d = evaluation.digests
    return pd.DataFrame(
        {
            "Digest": d["digest_id"],
            "Published": [
                t.strftime("%Y-%m-%d") if pd.notna(t) else "—" for t in d["published_at"]
            ],
            "Claims": d["claims"],
            "Provenance": ["complete" if v else "incomplete" for v in d["provenance_complete"]],
            "Corrected (people)": [
                _count(c + r, n)
                for c, r, n in zip(d["corrected"], d["rejected"], d["reviewed"], strict=True)
            ],
            "Useful (people)": [f"{v:.1f}" if pd.notna(v) else "—" for v in d["usefulness"]],
            "Issues surfaced": [
                _count(k, n) for k, n in zip(d["issues_surfaced"], d["issues_total"], strict=True)
            ],
            "Before 1st case": [
                _count(k, n) for k, n in zip(d["in_time"], d["tracked_issues"], strict=True)
            ],
            "Scope violations": d["scope_violations"],
            "Pipeline": [duration(v) or "—" for v in d["pipeline_seconds"]],
        }
    )


def issue_table(evaluation: Evaluation) -> pd.DataFrame:
    """The planted issues question 3 asks about: when each was posted and first needed."""
    i = evaluation.issues
    i = i[i["issue_kind"].isin(TIMELY_KINDS)].sort_values(
        ["published_at", "digest_id"], kind="stable"
    )
    when = [
        t.strftime("%Y-%m-%d %H:%M") if t is not None and pd.notna(t) else "no case yet"
        for t in i["first_case_at"]
    ]
    return pd.DataFrame(
        {
            "Digest": i["digest_id"],
            "Issue": i["issue_kind"].str.replace("_", " "),
            "Refs": i["refs"],
            "Posted": [
                t.strftime("%Y-%m-%d %H:%M") if pd.notna(t) else "—" for t in i["posted_at"]
            ],
            "First case after publication": when,
            "Outcome": i["outcome"].fillna("unknown").str.replace("_", " "),
        }
    ).reset_index(drop=True)


def latency_table(evaluation: Evaluation) -> pd.DataFrame:
    """Pipeline latency apart from backlog age and the end-to-end delay: n, p50, p95, max."""
    lat = evaluation.summary["latency"]
    rows = []
    for key, measure in (
        ("pipeline", "Pipeline latency (handling start → posted)"),
        ("backlog", "Backlog age (event time → handling start)"),
        ("end_to_end", "End to end (event time → posted)"),
    ):
        rows.append(
            {
                "Measure": measure,
                "n": lat[f"{key}_digests"],
                "p50": duration(lat[f"{key}_p50_seconds"]) or "—",
                "p95": duration(lat[f"{key}_p95_seconds"]) or "—",
                "max": duration(lat[f"{key}_max_seconds"]) or "—",
            }
        )
    return pd.DataFrame(rows)


def definitions() -> pd.DataFrame:
    """The usefulness scale and the targets, as the report's reference table."""
    rows = [{"Term": f"usefulness {k}", "Meaning": v} for k, v in rv.USEFULNESS_SCALE.items()]
    rows += [
        {
            "Term": f"target: {name.replace('_', ' ')}",
            "Meaning": f"{'at least' if d == 'at_least' else 'at most'} {value:.2f}",
        }
        for name, (d, value) in TARGETS.items()
    ]
    return pd.DataFrame(rows)


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
    """A table for the report: no index column, blanks as "—", three decimals, wrapped cells."""
    return (
        frame.style.hide(axis="index")
        .format(na_rep="—", precision=3)
        .set_table_styles(
            [
                {"selector": "", "props": "font-size: 0.85em; border-collapse: collapse;"},
                {
                    "selector": "th, td",
                    "props": "padding: 2px 8px; white-space: normal; text-align: left;",
                },
            ]
        )
    )
