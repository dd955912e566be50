"""Benchmark: the whole pipeline at scale, each figure next to a baseline measured in the same run.

- digest: ``build_digest`` on one revision pair (r8 -> r9) against its floor, measured in the same
  process: loading the revisions, parsing both, and reading the context the digest needs
  (registry, register, and the entitlement counts it asks the CRM for). Medians of ``--repeat``
  runs, caches emptied before each; peak RSS of that process. At 10k / 100k / 1M accounts and at
  500 / 2,000 / 4,000 steps.
- event -> posted HTML (papermill + nbconvert + workspace) for one publication event, against the
  floor of executing an empty notebook with the same kernel and rendering it.
- burst: 100 publication events through ``digestkit watch --once`` (kept kernel, and a fresh
  kernel per event), and the same 100 in-process.
- replay: ``evaluation.replay`` (what ``digestkit evaluate --replay`` runs) over 200 pairs.

Worlds are generated once into ``--cache`` (default /tmp/digestkit-bench); the 1M world takes
about a minute and 4.5 GB while it is generated. Run: ``make bench-pipeline`` or
``.venv/bin/python benchmarks/bench_pipeline.py [--quick] [--results benchmarks/RESULTS.md]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = "premium-s1-escalation"


def world(cache: Path, accounts: int, steps: int = 500) -> Path:
    big = accounts >= 1_000_000
    products, exceptions = (5000, 50000) if big else (200, 2000)
    if big:
        steps = max(steps, 2000)
    out = cache / f"a{accounts}-s{steps}-p{products}-e{exceptions}"
    if not (out / "world.json").exists():
        from digestkit.sample import generate_world

        start = time.perf_counter()
        generate_world(
            out, accounts=accounts, steps=steps, products=products, exceptions=exceptions
        )
        print(f"  generated {out.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def worker_digest(data: str, repeat: int) -> dict:
    """Runs in a fresh process: digest vs floor medians and this process's peak RSS."""
    from digestkit import context as ctx
    from digestkit import digest as digestmod
    from digestkit import sources as src_mod
    from digestkit.runbook import parse_runbook

    sources = src_mod.open_sources(data)
    floor, digest = [], []
    for _ in range(repeat):
        digestmod._cached_context.cache_clear()
        digestmod._parse.cache_clear()
        start = time.perf_counter()
        revisions = src_mod.load_revisions(sources, runbook_id=RUNBOOK)
        rows = revisions.set_index("revision")
        when = rows.loc["r9", "published_at"]
        context = ctx.load_context(sources, as_of=when)
        products, teams = context.products, context.teams
        names = {
            "products": tuple(products["product_name"]),
            "teams": tuple(teams["display_name"]),
            "pagers": tuple(set(products["escalation_pager"]) | set(teams["pager"])),
        }
        for rev in ("r8", "r9"):
            parse_runbook(rows.loc[rev, "text"], path=rows.loc[rev, "path"], **names)
        for tier, minutes in (("Premium Plus", 15), ("Premium", 30)):
            context.entitlement_counts(tier, minutes)
        floor.append(time.perf_counter() - start)

        digestmod._cached_context.cache_clear()
        digestmod._parse.cache_clear()
        start = time.perf_counter()
        digestmod.build_digest(RUNBOOK, "r9", data=sources)
        digest.append(time.perf_counter() - start)
    return {
        "floor": statistics.median(floor),
        "digest": statistics.median(digest),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_digest(data: Path, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(data), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _notebook_floor(workdir: Path) -> float:
    """Execute an empty notebook with the digest notebook's kernel and render it to HTML."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    empty = workdir / "empty.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("pass")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, empty)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(empty), str(workdir / "empty.out.ipynb"), kernel_name="python3", progress_bar=False
    )
    HTMLExporter(exclude_input=True).from_filename(str(workdir / "empty.out.ipynb"))
    return time.perf_counter() - start


def measure_event(data: Path, repeat: int) -> dict:
    from digestkit import events
    from digestkit import sources as src_mod

    feed = [f.event for f in src_mod.iter_feed(src_mod.open_sources(data)) if f.event]
    event = next(e for e in feed if e["revision"] == "r9" and e["type"] == "runbook.published")
    floors, runs = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            floors.append(_notebook_floor(Path(tmp)))
            start = time.perf_counter()
            outcome = events.run_event(event["event_id"], data=data, workspace=Path(tmp) / "ws")
            runs.append(time.perf_counter() - start)
            assert outcome.status == "processed", outcome.reason
    return {"floor": statistics.median(floors), "event": statistics.median(runs)}


def burst_world(base: Path, target: Path, events_wanted: int) -> list[tuple[str, str]]:
    """A copy of ``base`` with its runbook cloned until the feed has ``events_wanted`` events."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target)
    source = target / "runbooks" / RUNBOOK
    published = []
    for path in sorted(source.glob("r*.md")):
        if "status: published" in path.read_text():
            published.append(path)
    lines, pairs, n = [], [], 0
    clone = 0
    while len(pairs) < events_wanted:
        clone += 1
        runbook_id = f"{RUNBOOK}-c{clone:02d}"
        folder = target / "runbooks" / runbook_id
        folder.mkdir()
        for path in sorted(source.glob("r*.md")):
            text = path.read_text().replace(f"runbook_id: {RUNBOOK}", f"runbook_id: {runbook_id}")
            (folder / path.name).write_text(text)
        for path in published:
            if len(pairs) >= events_wanted:
                break
            content = (folder / path.name).read_bytes()
            n += 1
            meta = dict(re.findall(r"^(\w+): \"?([^\"\n]*)\"?$", content.decode(), re.MULTILINE))
            lines.append(
                {
                    "event_id": f"EVT-B{n:05d}",
                    "type": "runbook.published",
                    "runbook_id": runbook_id,
                    "revision": path.stem,
                    "occurred_at": meta["published_at"],
                    "actor": meta["approved_by"],
                    "content_sha256": hashlib.sha256(content).hexdigest(),
                }
            )
            pairs.append((runbook_id, path.stem))
    feed = target / "feed" / "events.jsonl"
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return pairs


def measure_burst(data: Path, cache: Path, count: int) -> dict:
    from digestkit import digest as digestmod

    target = cache / f"burst-{count}"
    pairs = burst_world(data, target, count)
    watch = {}
    for mode, flags in (("warm", []), ("fresh", ["--fresh-kernel"])):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "digestkit", "watch", "--once", *flags, "--data",
                 str(target), "--workspace", str(Path(tmp) / "ws")],
                check=True, capture_output=True,
            )  # fmt: skip
            watch[mode] = time.perf_counter() - start
    digestmod._cached_context.cache_clear()
    digestmod._parse.cache_clear()
    start = time.perf_counter()
    for runbook_id, revision in pairs:
        digestmod.build_digest(runbook_id, revision, data=target)
    inprocess = time.perf_counter() - start
    return {"events": len(pairs), "watch": watch, "inprocess": inprocess}


def measure_replay(data: Path, count: int) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_replay import revision_pairs

    from digestkit import digest as digestmod
    from digestkit import evaluation
    from digestkit import sources as src_mod

    sources = src_mod.open_sources(data)
    pairs = revision_pairs(sources, count)
    digestmod._cached_context.cache_clear()
    digestmod._parse.cache_clear()
    start = time.perf_counter()
    evaluation.replay(sources, pairs=pairs, progress=False)
    return {"pairs": len(pairs), "seconds": time.perf_counter() - start}


WHY_HEADING = "## Why, per target"


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k/100k only, fewer repeats")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "digestkit-bench"
    )
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--results", type=Path, help="also write the report to this Markdown file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_digest(args.worker, args.repeat or 3)))
        return

    repeat = args.repeat or (3 if args.quick else 5)
    args.cache.mkdir(parents=True, exist_ok=True)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    out: list[str] = [f"Machine: {machine()}", f"Mode: {'quick' if args.quick else 'full'}, "
                      f"medians of {repeat} runs", ""]  # fmt: skip

    out += ["## In-process digest vs floor (r8 -> r9)", "",
            "| accounts | steps | floor ms | digest ms | digest / floor | peak RSS MB |",
            "|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    digests = {}
    points = [(n, 500) for n in sizes] + [(100_000, s) for s in (2000, 4000)]
    for accounts, steps in points:
        data = world(args.cache, accounts, steps)
        r = measure_digest(data, repeat)
        steps = 2000 if accounts >= 1_000_000 else steps
        digests[(accounts, steps)] = r
        out.append(
            f"| {accounts:,} | {steps:,} | {r['floor'] * 1000:.0f} | {r['digest'] * 1000:.0f} | "
            f"{r['digest'] / r['floor']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
        print(out[-1], file=sys.stderr)

    mid = world(args.cache, 100_000)
    ev = measure_event(mid, max(1, repeat // 2))
    gap = ev["event"] - ev["floor"]
    out += ["", "## Event -> posted HTML at 100k accounts", "",
            "| floor: empty notebook + render s | event -> posted HTML s | difference s |",
            "|---:|---:|---:|",
            f"| {ev['floor']:.2f} | {ev['event']:.2f} | {gap:+.2f} |"]  # fmt: skip
    print(out[-1], file=sys.stderr)

    burst = measure_burst(world(args.cache, 10_000), args.cache, 10 if args.quick else 100)
    n, warm, fresh = burst["events"], burst["watch"]["warm"], burst["watch"]["fresh"]
    out += ["", f"## Burst: {n} publication events (10k accounts)", "",
            "| path | total s | events per minute |", "|---|---:|---:|",
            f"| `digestkit watch --once` (papermill + nbconvert each, one kept kernel) | "
            f"{warm:.1f} | {n / warm * 60:.0f} |",
            f"| `digestkit watch --once --fresh-kernel` (a new kernel per event) | "
            f"{fresh:.1f} | {n / fresh * 60:.0f} |",
            f"| in-process `build_digest` | {burst['inprocess']:.1f} | "
            f"{n / burst['inprocess'] * 60:.0f} |"]  # fmt: skip
    print(out[-2], file=sys.stderr)

    rp = measure_replay(mid, 200)
    out += ["", "## Replay at 100k accounts", "",
            f"`evaluation.replay` over {rp['pairs']} pairs: {rp['seconds']:.1f} s"]  # fmt: skip

    ratios = [r["digest"] / r["floor"] for (n, s), r in digests.items() if s == 500 or n >= 10**6]
    big = digests.get((1_000_000, 2000))
    steps_curve = [digests[(100_000, s)]["digest"] for s in (500, 2000, 4000)]
    acct_curve = [digests[(n, 500)]["digest"] for n in (10_000, 100_000)]
    accounts_x = acct_curve[1] / acct_curve[0]
    steps_x = steps_curve[2] / steps_curve[0]
    out += ["", "## Targets", "",
            f"- digest <= 2x floor at every size: {verdict(all(x <= 2 for x in ratios))} "
            f"(ratios {', '.join(f'{x:.2f}' for x in ratios)}).",
            f"- event -> posted HTML <= floor + 1 s at 100k: {verdict(gap <= 1)} ({gap:+.2f} s).",
            f"- replay of 200 pairs under 30 s at 100k: {verdict(rp['seconds'] < 30)} "
            f"({rp['seconds']:.1f} s).",
            f"- scaling: 10k -> 100k accounts (10x data) costs {accounts_x:.1f}x; 500 -> 4,000 "
            f"steps (8x) costs {steps_x:.1f}x ({verdict(accounts_x <= 10 and steps_x <= 8)}).",
            (f"- peak RSS of the in-process digest at 1M accounts <= 2 GiB: "
             f"{verdict(big['peak_rss_mb'] <= 2048)} ({big['peak_rss_mb']:.0f} MB)." if big
             else "- peak RSS at 1M accounts: not measured in --quick mode.")]  # fmt: skip
    report = "\n".join(out) + "\n"
    print(report)
    if args.results:
        # The hand-written explanation below the numbers ("## Why, per target") is kept.
        old = args.results.read_text() if args.results.exists() else ""
        why = old[old.find(WHY_HEADING) :] if WHY_HEADING in old else ""
        args.results.write_text(report + ("\n" + why if why else ""))


if __name__ == "__main__":
    main()
