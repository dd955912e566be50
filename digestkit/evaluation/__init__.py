"""Quality of the digests in a handoff workspace, against reviewer records and gold labels.

- :mod:`~digestkit.evaluation.gold` — load the gold labels and match a digest against them;
- :mod:`~digestkit.evaluation.metrics` — :func:`evaluate` and its :class:`Evaluation`
  (``digestkit evaluate``; JSON contract in ``docs/evaluation-json.md``), built from
  :mod:`~digestkit.evaluation.periods`, :mod:`~digestkit.evaluation.corrections`,
  :mod:`~digestkit.evaluation.surfacing`, :mod:`~digestkit.evaluation.latency` and
  :mod:`~digestkit.evaluation.tables`;
- :mod:`~digestkit.evaluation.headline` — the four questions of the first screen, each a rate
  with its n, 95% Wilson interval (:mod:`~digestkit.evaluation.stats`), target and change since
  the previous period;
- :mod:`~digestkit.evaluation.timeliness` — whether a planted issue was surfaced before the
  first severity-one case on its product or account;
- :mod:`~digestkit.evaluation.simulation` — :func:`simulate_reviews`, a seeded, clearly
  labelled simulated review of every digest;
- :mod:`~digestkit.evaluation.replay` — :func:`replay` rebuilds and scores every pair of
  published revisions in-process (``digestkit evaluate --replay``); :func:`replay_plan` gives
  distinct (pair, as-of) items for benchmarks;
- :mod:`~digestkit.evaluation.report` — :func:`render_report` runs
  ``digestkit/notebooks/evaluation_report.ipynb`` into HTML, with the plots and tables it shows.

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
from digestkit.evaluation.headline import (
    QUESTIONS,
    TARGETS,
    HeadlineRow,
    headline_table,
    previous_period,
)
from digestkit.evaluation.metrics import (
    REVIEW_PARTS,
    REVIEW_SOURCES,
    SCHEMA_VERSION,
    DigestMetrics,
    Evaluation,
    IssueTiming,
    KindSurfacing,
    PartCorrections,
    ReviewPart,
    ReviewSource,
    evaluate,
    gold_source,
    parse_period,
    review_part,
)
from digestkit.evaluation.replay import (
    REPLAY_COLUMNS,
    ReplayPair,
    ReplayRow,
    published_pairs,
    replay,
    replay_markdown,
    replay_plan,
    replay_records,
    replay_summary,
)
from digestkit.evaluation.report import (
    REPORT_NOTEBOOK,
    definitions,
    digest_table,
    duration,
    issue_table,
    latency_table,
    plot_corrections,
    plot_surfacing,
    plot_trends,
    render_report,
    report_caveats,
    report_preamble,
    table,
)
from digestkit.evaluation.simulation import CORRECTION_ODDS, simulate_reviews
from digestkit.evaluation.stats import MIN_N, Rate, wilson
from digestkit.evaluation.timeliness import TIMELY_KINDS, issue_scope
from digestkit.resolve import resolve_source
from digestkit.review import SIMULATED_REVIEWER

__all__ = [
    "CORRECTION_ODDS",
    "ISSUE_GROUPS",
    "ISSUE_KINDS",
    "MIN_N",
    "QUESTIONS",
    "REPLAY_COLUMNS",
    "REPORT_NOTEBOOK",
    "REVIEW_PARTS",
    "REVIEW_SOURCES",
    "SCHEMA_VERSION",
    "SIMULATED_REVIEWER",
    "TARGETS",
    "TIMELY_KINDS",
    "ChangeMatch",
    "DigestMetrics",
    "Evaluation",
    "FlagMatch",
    "GoldMatch",
    "HeadlineRow",
    "IssueKind",
    "IssueMatch",
    "IssueTiming",
    "KindSurfacing",
    "PartCorrections",
    "Rate",
    "ReplayPair",
    "ReplayRow",
    "ReviewPart",
    "ReviewSource",
    "definitions",
    "digest_table",
    "duration",
    "evaluate",
    "gold_source",
    "headline_table",
    "issue_scope",
    "issue_table",
    "latency_table",
    "load_gold",
    "match_gold",
    "parse_period",
    "plot_corrections",
    "plot_surfacing",
    "plot_trends",
    "previous_period",
    "published_pairs",
    "render_report",
    "replay",
    "replay_markdown",
    "replay_plan",
    "replay_records",
    "replay_summary",
    "report_caveats",
    "report_preamble",
    "resolve_source",
    "review_part",
    "simulate_reviews",
    "table",
    "wilson",
]
