"""Quality of the digests in a handoff workspace, against reviewer records and gold labels.

- :mod:`~digestkit.evaluation.gold` — load the gold labels and match a digest against them;
- :mod:`~digestkit.evaluation.metrics` — :func:`evaluate` and its :class:`Evaluation`
  (``digestkit evaluate``; JSON contract in ``docs/evaluation-json.md``);
- :mod:`~digestkit.evaluation.simulation` — :func:`simulate_reviews`, a seeded, clearly
  labelled simulated review of every digest;
- :mod:`~digestkit.evaluation.replay` — :func:`replay` rebuilds and scores every published
  revision in-process (``digestkit evaluate --replay``);
- :mod:`~digestkit.evaluation.report` — :func:`render_report` runs
  ``notebooks/evaluation_report.ipynb`` into HTML, with the plots and tables it shows.

Source resolution lives in :mod:`digestkit.resolve` (reviewer records use it too);
:func:`resolve_source` is re-exported here.
"""

from digestkit.evaluation.gold import (
    ISSUE_GROUPS,
    ISSUE_KINDS,
    ChangeMatch,
    FlagMatch,
    GoldMatch,
    IssueKind,
    IssueMatch,
    load_gold,
    match_gold,
)
from digestkit.evaluation.metrics import (
    REVIEW_PARTS,
    SCHEMA_VERSION,
    DigestMetrics,
    Evaluation,
    KindSurfacing,
    PartCorrections,
    ReviewPart,
    evaluate,
    parse_period,
    review_part,
)
from digestkit.evaluation.replay import (
    REPLAY_COLUMNS,
    ReplayRow,
    replay,
    replay_markdown,
    replay_records,
    replay_summary,
)
from digestkit.evaluation.report import (
    REPORT_NOTEBOOK,
    digest_table,
    duration,
    plot_corrections,
    plot_over_time,
    plot_surfacing,
    render_report,
    report_preamble,
    scope_latency_table,
    table,
)
from digestkit.evaluation.simulation import CORRECTION_ODDS, simulate_reviews
from digestkit.resolve import resolve_source
from digestkit.review import SIMULATED_REVIEWER

__all__ = [
    "CORRECTION_ODDS",
    "ISSUE_GROUPS",
    "ISSUE_KINDS",
    "REPLAY_COLUMNS",
    "REPORT_NOTEBOOK",
    "REVIEW_PARTS",
    "SCHEMA_VERSION",
    "SIMULATED_REVIEWER",
    "ChangeMatch",
    "DigestMetrics",
    "Evaluation",
    "FlagMatch",
    "GoldMatch",
    "IssueKind",
    "IssueMatch",
    "KindSurfacing",
    "PartCorrections",
    "ReplayRow",
    "ReviewPart",
    "digest_table",
    "duration",
    "evaluate",
    "load_gold",
    "match_gold",
    "parse_period",
    "plot_corrections",
    "plot_over_time",
    "plot_surfacing",
    "render_report",
    "replay",
    "replay_markdown",
    "replay_records",
    "replay_summary",
    "report_preamble",
    "resolve_source",
    "review_part",
    "scope_latency_table",
    "simulate_reviews",
    "table",
]
