"""Benchmark digestkit's runbook diff against difflib on lines and the redlines package.

Generated runbook pairs of 500, 1,000, 2,000 and 4,000 steps (``--quick``: 200 and 400) with
about 5% changes: edited steps, inserted and deleted steps, steps moved to another position or
section, and an edited paging table row. For each pair, in the same run:

- ``digestkit``: ``diff_texts`` end to end (markdown-it-py parse of both revisions + diff);
- ``digestkit diff only``: ``diff_runbooks`` on the two already-parsed revisions;
- ``difflib``: ``SequenceMatcher(None, old_lines, new_lines).get_opcodes()`` on the already-split
  lines, default settings (autojunk on, the faster setting on these inputs); the opcodes are the
  work a line diff needs for its answer, constructing the matcher alone computes nothing;
- ``redlines``: ``Redlines(old, new).output_markdown`` (word-level), in a child process that is
  killed after ``--redlines-timeout`` seconds (default 60); a timed-out size is printed as such.

Every contender runs once to warm up, then ``--repeat`` rounds run the three in-process
contenders one after the other (so load changes hit all three alike); the table shows the median
wall time (``perf_counter``) and, below it, the median CPU time (``process_time``), which is
steadier on a shared machine. Peak memory is measured in a separate run under tracemalloc.
Targets: digestkit at most 2x difflib at every size, faster than redlines, and 1,000 -> 4,000
steps growth at most about 4.5x. Misses are printed with a profile of where the time goes.

Run: ``.venv/bin/python benchmarks/bench_diff.py [--quick] [--profile]``
"""

from __future__ import annotations

import argparse
import difflib
import multiprocessing as mp
import random
import statistics
import time
import tracemalloc

from digestkit.diff import diff_runbooks, diff_texts
from digestkit.runbook import markdown_parser, parse_runbook

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


def _redlines_job(old: str, new: str, queue) -> None:
    from redlines import Redlines

    start = time.perf_counter()
    _ = Redlines(old, new).output_markdown
    queue.put(("time", time.perf_counter() - start))
    tracemalloc.start()
    _ = Redlines(old, new).output_markdown
    queue.put(("memory", tracemalloc.get_traced_memory()[1]))


def run_redlines(old: str, new: str, timeout: float) -> tuple[float | None, int | None]:
    """Time and then peak memory of redlines in a child process; None for what timed out."""
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=_redlines_job, args=(old, new, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
    found = {}
    while not queue.empty():
        what, value = queue.get()
        found[what] = value
    return found.get("time"), found.get("memory")


def measure(contenders: dict, repeat: int) -> dict[str, tuple[float, float, int]]:
    """Median wall and CPU seconds and tracemalloc peak bytes of each contender."""
    for fn in contenders.values():
        fn()  # warm-up: imports, caches, first-call allocations
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    out = {}
    for name, fn in contenders.items():
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = (statistics.median(wall[name]), statistics.median(cpu[name]), peak)
    return out


def phases(old: str, new: str, repeat: int) -> dict[str, float]:
    """Median seconds of the parts of ``diff_texts``: markdown-it-py's block parse of both
    revisions, the rest of ``parse_runbook`` (units, facts), and the diff itself."""
    md = markdown_parser()
    parse_s, mdit_s, diff_s = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        md.parse(old, {})
        md.parse(new, {})
        t1 = time.perf_counter()
        rb_old, rb_new = parse_runbook(old), parse_runbook(new)
        t2 = time.perf_counter()
        diff_runbooks(rb_old, rb_new)
        t3 = time.perf_counter()
        mdit_s.append(t1 - t0)
        parse_s.append(t2 - t1)
        diff_s.append(t3 - t2)
    mdit = statistics.median(mdit_s)
    return {
        "markdown-it-py block parse": mdit,
        "digestkit units and facts": statistics.median(parse_s) - mdit,
        "diff": statistics.median(diff_s),
    }


def print_profile(old: str, new: str) -> None:
    """Where diff_texts spends its time, as pyinstrument's call tree."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(5):
        diff_texts(old, new)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (200, 400 steps)")
    parser.add_argument("--repeat", type=int, default=9, help="timing rounds per size")
    parser.add_argument("--redlines-timeout", type=float, default=60.0, help="seconds per size")
    parser.add_argument(
        "--profile", action="store_true", help="also print pyinstrument's tree for a missed size"
    )
    args = parser.parse_args()
    sizes = [200, 400] if args.quick else [500, 1000, 2000, 4000]

    rows = []
    pairs = {}
    for steps in sizes:
        old, new = make_pair(steps)
        pairs[steps] = (old, new)
        rb_old, rb_new = parse_runbook(old), parse_runbook(new)
        old_lines, new_lines = old.splitlines(), new.splitlines()
        m = measure(
            {
                "digestkit": lambda o=old, n=new: diff_texts(o, n),
                "diff only": lambda o=rb_old, n=rb_new: diff_runbooks(o, n),
                "difflib": lambda a=old_lines, b=new_lines: difflib.SequenceMatcher(
                    None, a, b
                ).get_opcodes(),
            },
            args.repeat,
        )
        rl_t, rl_m = run_redlines(old, new, args.redlines_timeout)
        stats = diff_texts(old, new).stats
        rows.append((steps, len(old_lines), m, rl_t, rl_m, stats))

    def mb(b):
        return "n/a" if b is None else f"{b / 2**20:.1f}"

    def ms(t):
        return "timeout" if t is None else f"{t * 1000:.1f}"

    header = (
        f"{'steps':>6} {'lines':>6} | {'digestkit ms':>12} {'x difflib':>9} {'MB':>6} | "
        f"{'diff-only ms':>12} {'x difflib':>9} {'MB':>6} | {'difflib ms':>10} {'MB':>6} | "
        f"{'redlines ms':>11} {'x difflib':>9} {'MB':>6} | changes"
    )
    print("Median wall time (perf_counter) and tracemalloc peak memory")
    print(header)
    print("-" * len(header))
    for steps, lines, m, rl_t, rl_m, stats in rows:
        (dk_t, _, dk_m), (do_t, _, do_m), (dl_t, _, dl_m) = (
            m["digestkit"],
            m["diff only"],
            m["difflib"],
        )
        rl_ratio = "n/a" if rl_t is None else f"{rl_t / dl_t:.1f}"
        changes = sum(stats[k] for k in ("added", "removed", "modified", "moved", "renumbered"))
        print(
            f"{steps:>6} {lines:>6} | {ms(dk_t):>12} {dk_t / dl_t:>9.1f} {mb(dk_m):>6} | "
            f"{ms(do_t):>12} {do_t / dl_t:>9.1f} {mb(do_m):>6} | {ms(dl_t):>10} {mb(dl_m):>6} | "
            f"{ms(rl_t):>11} {rl_ratio:>9} {mb(rl_m):>6} | {changes} "
            f"(fuzzy candidates {stats['fuzzy_candidates']})"
        )
    print()
    print("Median CPU time (process_time)")
    for steps, _, m, _, _, _ in rows:
        dl_c = m["difflib"][1]
        print(
            f"{steps:>6} steps: digestkit {ms(m['digestkit'][1])} ms "
            f"({m['digestkit'][1] / dl_c:.1f}x), diff only {ms(m['diff only'][1])} ms "
            f"({m['diff only'][1] / dl_c:.1f}x), difflib {ms(dl_c)} ms"
        )
    print()
    print(
        f"redlines runs in a child process with a {args.redlines_timeout:.0f} s timeout per size "
        "(time first, then peak memory in a second run)."
    )
    verdicts = []
    missed: set[int] = set()
    for steps, _, m, rl_t, _, _ in rows:
        dk_t, do_t, dl_t = m["digestkit"][0], m["diff only"][0], m["difflib"][0]
        for label, t in (("end to end", dk_t), ("diff only", do_t)):
            ok = t <= 2 * dl_t
            missed |= set() if ok else {steps}
            verdicts.append(
                f"{steps} steps, {label}: {t / dl_t:.1f}x difflib -> "
                f"{'met' if ok else 'MISSED'} (<= 2x)"
            )
        if rl_t is None:
            verdicts.append(f"{steps} steps: redlines timed out, digestkit faster -> met")
        else:
            verdicts.append(
                f"{steps} steps: redlines {rl_t / dk_t:.1f}x digestkit end to end -> "
                f"{'met' if dk_t < rl_t else 'MISSED'} (faster than redlines)"
            )
    by_steps = {r[0]: r[2] for r in rows}
    if 1000 in by_steps and 4000 in by_steps:
        for label in ("digestkit", "diff only"):
            growth = by_steps[4000][label][0] / by_steps[1000][label][0]
            verdicts.append(
                f"growth 1,000 -> 4,000 steps, {label}: {growth:.2f}x -> "
                f"{'met' if growth <= 4.5 else 'MISSED'} (<= about 4.5x)"
            )
    print("Targets:")
    for v in verdicts:
        print(f"  {v}")
    if missed:
        worst = max(missed)
        old, new = pairs[worst]
        print()
        print(f"Profile of a missed size ({worst} steps): median ms per diff_texts call")
        split = phases(old, new, args.repeat)
        total = sum(split.values())
        for name, seconds in split.items():
            print(f"  {name:<28} {seconds * 1000:>8.1f} ms {seconds / total:>6.0%}")
        if args.profile:
            print_profile(old, new)


if __name__ == "__main__":
    main()
