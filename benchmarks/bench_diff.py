"""Benchmark ``digestkit diff`` against its parse floor, a line diff, and a bare interpreter.

Generated runbook pairs of 500, 1,000, 2,000 and 4,000 steps (``--quick``: 200 and 400) with
about 5% changes: edited steps, inserted and deleted steps, steps moved to another position or
section, and an edited paging table row. For each pair, in the same process and the same run,
rounds take each contender in turn (so load changes hit all alike) and the table shows the
median CPU time (``process_time``) of the rounds (``--repeat`` at the largest size, as many
more at smaller sizes as fit the same time; targets are judged on medians; the
ratio of the fastest rounds is shown beside, as a machine shared with other work inflates
medians):

- ``floor``: markdown-it-py parsing both revisions, ``MarkdownIt("commonmark").enable("table")``
  (CommonMark plus GFM tables, block and inline rules: the token stream of both documents). No
  digestkit code runs in it;
- ``block floor``: the same parse with the inline rules disabled, the configuration digestkit
  itself uses (it parses inline markup only where a line has any): a stricter, informational floor;
- ``difflib``: ``SequenceMatcher(None, old_lines, new_lines).get_opcodes()`` on the split lines
  (the standard library's line diff, default settings);
- ``digestkit``: ``diff_texts`` end to end (parse of both revisions, units, facts, alignment).

Targets (met or not met, as measured): ``diff_texts`` at most 1.5x the floor at every size from
500 to 4,000 steps; growth exponent (least-squares slope of log time over log steps, 500 ->
4,000) at most 1.1; ``digestkit diff`` on a small pair (the sample r1 -> r9) as a process at
most 100 ms of wall time over ``python -c "import markdown_it"`` (medians of ``--process-runs``
runs, interleaved). Also printed: how many moves the diff reports on a generated pair with
templated steps and three true moves.

Run: ``.venv/bin/python benchmarks/bench_diff.py [--quick] [--results benchmarks/RESULTS.md]``
"""

from __future__ import annotations

import argparse
import difflib
import math
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench_pipeline import clear_caches
from markdown_it import MarkdownIt

from digestkit.diff import diff_texts
from digestkit.runbook import markdown_parser

REPO = Path(__file__).resolve().parents[1]
SMALL_PAIR = [
    REPO / "digestkit" / "data" / "sample" / "runbooks" / "premium-s1-escalation" / name
    for name in ("r1.md", "r9.md")
]
START, END = "<!-- bench_diff: start -->", "<!-- bench_diff: end -->"

WORDS = [
    "confirm",
    "page",
    "primary",
    "secondary",
    "on-call",
    "affected",
    "product",
    "customer",
    "update",
    "incident",
    "lead",
    "entitlement",
    "record",
    "approved",
    "escalate",
    "ticket",
    "severity",
    "bridge",
    "status",
    "owner",
    "timeline",
    "scope",
    "account",
    "region",
    "contract",
    "verify",
    "notify",
    "handoff",
    "summary",
    "review",
    "channel",
]
PRODUCTS = ["Payments API", "Data Export", "Identity", "Search", "Billing Portal", "Webhooks"]


def make_pair(steps: int, *, seed: int = 7, change_rate: float = 0.05) -> tuple[str, str]:
    """A runbook of ``steps`` numbered steps (with sub-steps) and a revision of it."""
    rng = random.Random(seed)
    per_section = 50
    sections: list[list[list[str]]] = []
    n = 0
    while n < steps:
        section = []
        for _ in range(min(per_section, steps - n)):
            step = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))) + f" (step {n})."
            ]
            if rng.random() < 0.2:
                step.append(
                    f"Check {rng.choice(WORDS)} within {rng.choice([5, 10, 15, 30])} minutes."
                )
            section.append(step)
            n += 1
        sections.append(section)
    table = [
        (p, f"{p.split()[0].lower()}-oncall", "platform-oncall", f"{rng.choice([15, 30])} min")
        for p in PRODUCTS
    ]
    old = _render(sections, table)

    new_sections = [[list(step) for step in s] for s in sections]
    n_changes = max(4, int(steps * change_rate))
    for k in range(n_changes):
        s = rng.randrange(len(new_sections))
        sec = new_sections[s]
        if not sec:
            continue
        pos = rng.randrange(len(sec))
        what = k % 4
        if what == 0:  # edit a few words
            words = sec[pos][0].split()
            words[rng.randrange(len(words))] = rng.choice(WORDS).upper()
            sec[pos][0] = " ".join(words)
        elif what == 1:  # insert a step
            sec.insert(pos, [" ".join(rng.choice(WORDS) for _ in range(10)) + f" (new {k})."])
        elif what == 2:  # delete a step
            del sec[pos]
        else:  # move a step, half the time to another section
            step = sec.pop(pos)
            target = new_sections[rng.randrange(len(new_sections))] if k % 8 == 3 else sec
            target.insert(rng.randrange(len(target) + 1), step)
    table[0] = (table[0][0], "platform-oncall", table[0][2], "15 min")
    return old, _render(new_sections, table)


def _render(sections: list[list[list[str]]], table) -> str:
    out = [
        "---",
        "runbook_id: bench",
        "revision: r1",
        "---",
        "# Premium Support Severity-1 Escalation Runbook",
        "",
        "## Paging paths",
        "",
        "| Product | Primary on-call | Secondary | Escalate after |",
        "|---|---|---|---|",
        *(f"| {p} | {a} | {b} | {c} |" for p, a, b, c in table),
    ]
    for k, section in enumerate(sections, 1):
        out += ["", f"## Escalation phase {k}", ""]
        for n, step in enumerate(section, 1):
            out.append(f"{n}. {step[0]}")
            out.extend(f"   1. {sub}" for sub in step[1:])
    return "\n".join(out) + "\n"


def templated_pair(steps: int = 500, *, seed: int = 11) -> tuple[str, str]:
    """Phases of steps where two templated steps repeat in every phase, and a revision with
    three true moves (one within a phase, two across), an edited, a removed and an added
    templated step."""
    rng = random.Random(seed)
    template = ["Confirm the customer's tier in the CRM.", "Post an update in the channel."]
    phases = [
        [template[k % 2] if k % 3 == 0 else f"Check item {p}-{k}." for k in range(50)]
        for p in range(steps // 50)
    ]
    old = _phases(phases)
    phases[0].insert(40, phases[0].pop(5))
    phases[7].insert(10, phases[2].pop(4))
    phases[9].insert(0, phases[4].pop(7))
    phases[3][6] = "Confirm the account's tier in the CRM."
    del phases[5][12]
    phases[6].insert(rng.randrange(1, 49), template[1])
    return old, _phases(phases)


def _phases(phases: list[list[str]]) -> str:
    return "\n".join(
        f"## Phase {p}\n\n" + "\n".join(f"{k}. {step}" for k, step in enumerate(steps, 1)) + "\n"
        for p, steps in enumerate(phases)
    )


def clear_content_caches() -> None:
    """Empty digestkit's caches keyed on text (parsed revisions), not its parser: a round that
    diffs texts parsed in an earlier round would time cache hits (the floor parses every time).
    The markdown-it parser is built again here, untimed, as the floor's is built once."""
    clear_caches()
    markdown_parser()


def measure(
    contenders: dict[str, Callable[[], object]],
    repeat: int,
    before: dict[str, Callable[[], object]] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Median and minimum CPU seconds of each contender over ``repeat`` interleaved rounds;
    ``before[name]`` runs untimed before each of that contender's runs."""
    before = before or {}
    for fn in contenders.values():
        fn()  # warm-up: imports, first-call allocations
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            if name in before:
                before[name]()
            start = time.process_time()
            fn()
            cpu[name].append(time.process_time() - start)
    medians = {name: statistics.median(times) for name, times in cpu.items()}
    return medians, {name: min(times) for name, times in cpu.items()}


def process_overhead(runs: int) -> tuple[float, float]:
    """Median wall seconds of ``digestkit diff`` on the small pair and of a bare interpreter
    importing markdown_it, interleaved."""
    cli = [sys.executable, "-m", "digestkit", "diff", *map(str, SMALL_PAIR)]
    bare = [sys.executable, "-c", "import markdown_it"]
    times: dict[str, list[float]] = {"cli": [], "bare": []}
    for _ in range(runs):
        for name, argv in (("cli", cli), ("bare", bare)):
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, cwd=REPO)
            times[name].append(time.perf_counter() - start)
    return statistics.median(times["cli"]), statistics.median(times["bare"])


def growth_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) over log(steps)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (200, 400 steps)")
    parser.add_argument(
        "--repeat", type=int, default=9, help="timing rounds at the largest size (more below)"
    )
    parser.add_argument("--process-runs", type=int, default=15, help="runs of each process")
    parser.add_argument("--results", type=Path, help="write the diff section of this RESULTS.md")
    args = parser.parse_args()
    sizes = [200, 400] if args.quick else [500, 1000, 2000, 4000]
    full = MarkdownIt("commonmark").enable("table")
    block = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])

    rows = []
    for steps in sizes:
        old, new = make_pair(steps)
        old_lines, new_lines = old.splitlines(), new.splitlines()
        m, fastest = measure(
            {
                "floor": lambda o=old, n=new: (full.parse(o), full.parse(n)),
                "block floor": lambda o=old, n=new: (block.parse(o), block.parse(n)),
                "difflib": lambda a=old_lines, b=new_lines: difflib.SequenceMatcher(
                    None, a, b
                ).get_opcodes(),
                "digestkit": lambda o=old, n=new: diff_texts(o, n),
            },
            # Smaller sizes get more rounds (about the same time each), so their medians are
            # as steady as the large ones'.
            args.repeat * max(1, sizes[-1] // steps),
            before={"digestkit": clear_content_caches},
        )
        rows.append((steps, len(old_lines), m, fastest, diff_texts(old, new).stats))
    cli_s, bare_s = process_overhead(args.process_runs)
    moves = [c for c in diff_texts(*templated_pair()).changes if c.kind == "moved"]

    table = [
        "| steps | lines | floor ms | block floor ms | difflib ms | digestkit ms "
        "| / floor | / floor (min) | / block floor | / difflib | changes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for steps, lines, m, fastest, stats in rows:
        ratio = m["digestkit"] / m["floor"]
        changes = sum(stats[k] for k in ("added", "removed", "modified", "moved", "renumbered"))
        table.append(
            f"| {steps:,} | {lines:,} | {m['floor'] * 1000:.1f} | {m['block floor'] * 1000:.1f} "
            f"| {m['difflib'] * 1000:.1f} | {m['digestkit'] * 1000:.1f} | {ratio:.2f} "
            f"| {fastest['digestkit'] / fastest['floor']:.2f} "
            f"| {m['digestkit'] / m['block floor']:.2f} | {m['digestkit'] / m['difflib']:.0f} "
            f"| {changes} |"
        )
        if not args.quick:
            verdicts.append(
                f"- {steps:,} steps: digestkit {ratio:.2f}x the floor -> "
                f"{'met' if ratio <= 1.5 else 'NOT MET'} (<= 1.5x); "
                f"{m['digestkit'] / m['block floor']:.2f}x the block-only floor (no target)"
            )
    exponent = growth_exponent(sizes, [m["digestkit"] for _, _, m, _, _ in rows])
    floor_exponent = growth_exponent(sizes, [m["floor"] for _, _, m, _, _ in rows])
    over = (cli_s - bare_s) * 1000
    if not args.quick:
        verdicts.append(
            f"- growth exponent {sizes[0]:,} -> {sizes[-1]:,} steps: {exponent:.2f} (floor "
            f"{floor_exponent:.2f}) -> {'met' if exponent <= 1.1 else 'NOT MET'} (<= 1.1)"
        )
    verdicts.append(
        f"- `digestkit diff` r1 -> r9 as a process: {cli_s * 1000:.0f} ms, bare "
        f'`python -c "import markdown_it"` {bare_s * 1000:.0f} ms: +{over:.0f} ms -> '
        f"{'met' if over <= 100 else 'NOT MET'} (<= +100 ms)"
    )
    verdicts.append(
        f"- templated 500-step pair with 3 true moves: {len(moves)} moves reported (no target)"
    )
    machine = (
        f"Machine: {platform.system()} {platform.machine()}, Python {platform.python_version()}; "
        f"medians of interleaved rounds (CPU time; {args.repeat} at {sizes[-1]:,} steps, "
        f"{args.repeat * (sizes[-1] // sizes[0])} at {sizes[0]:,}), "
        f"{args.process_runs} process runs"
    )
    report = "\n".join([machine, "", *table, "", "Targets:", *verdicts])
    print(report)
    if args.results:
        _write_section(args.results, report)


def _write_section(path: Path, report: str) -> None:
    """Replace (or append) the diff section of RESULTS.md, between its markers."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = (
        f"{START}\n## Diff: `diff_texts` against its parse floor\n\n"
        "Written by `benchmarks/bench_diff.py --results benchmarks/RESULTS.md`. The floor is "
        'markdown-it-py parsing both revisions (`MarkdownIt("commonmark").enable("table")`, '
        "no digestkit code); the block floor is the same parse without inline rules, as "
        "digestkit configures it (shown, no target). `digestkit` is `diff_texts` end to end: "
        "parse, units, facts, alignment, redlines. CPU-time medians of interleaved rounds judge "
        "the targets; the fastest-round ratio is shown beside because the machine is shared.\n\n"
        f"{report}\n{END}"
    )
    if START in text and END in text:
        head, _, rest = text.partition(START)
        text = head + section + rest.partition(END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
