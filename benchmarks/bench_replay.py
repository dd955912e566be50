"""Benchmark: replay 200 distinct revision pairs (digest in-process, scored against gold).

The sample world has 22 distinct published pairs, all published at 9 times; repeating them
measures cache hits. So the world is extended first (a copy, the CRM linked, not copied): the
main runbook gets revisions r10, r11, ... whose texts cycle through its published ones, each
published 6 hours after the one before. The pairs are the world's own 22 (scored against its gold
labels) and then each new revision against the one before it and against an older one, until
there are ``--pairs`` distinct pairs; each new revision is a new as-of time for the context.

Every run starts with every digestkit cache cleared (what ``digestkit evaluate --replay`` costs
in a fresh process, imports aside). Medians of ``--repeat`` runs with their spread. With
``--floor``, the independent floor of ``bench_pipeline.py`` (standard library only) is also run
once per pair, for scale. Run: ``make bench-replay`` or
``.venv/bin/python benchmarks/bench_replay.py [--data DIR]`` (default: the 100k-account world of
``bench_pipeline.py``, generated once into ``--cache``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import RUNBOOK, clear_caches, floor_reads, spread, stats
from bench_pipeline import world as world_at

STEP = timedelta(hours=6)


def _meta(text: str, key: str) -> str | None:
    match = re.search(rf'^{key}:\s*"?([^"\n]*)"?\s*$', text, re.MULTILINE)
    return match.group(1) if match and match.group(1) else None


def _revisions(folder: Path) -> list[tuple[str, str, str | None]]:
    """(revision, status, published_at) of a runbook folder, in natural revision order."""
    out = []
    for path in folder.glob("r*.md"):
        text = path.read_text(encoding="utf-8")
        out.append((path.stem, _meta(text, "status") or "", _meta(text, "published_at")))
    return sorted(out, key=lambda r: int(r[0][1:]))


def replay_world(base: Path, target: Path, extra: int) -> Path:
    """A copy of ``base`` whose main runbook has ``extra`` more published revisions."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("crm.sqlite"))
    (target / "crm.sqlite").symlink_to(base / "crm.sqlite")
    folder = target / "runbooks" / RUNBOOK
    revisions = _revisions(folder)
    published = [r for r in revisions if r[1] == "published"]
    previous = revisions[-1][0]
    when = max(datetime.fromisoformat(r[2].replace("Z", "+00:00")) for r in published)
    last = int(previous[1:])
    for i in range(extra):
        source = published[i % len(published)][0]
        text = (folder / f"{source}.md").read_text(encoding="utf-8")
        revision, when = f"r{last + i + 1}", when + STEP
        for key, value in (
            ("revision", revision),
            ("supersedes", previous),
            ("status", "published"),
            ("published_at", f'"{when:%Y-%m-%dT%H:%M:%SZ}"'),
        ):
            text = re.sub(rf"^{key}:.*$", f"{key}: {value}", text, count=1, flags=re.MULTILINE)
        (folder / f"{revision}.md").write_text(text, encoding="utf-8")
        previous = revision
    return target


def distinct_pairs(data: Path, count: int) -> list[tuple[str, str, str]]:
    """``count`` distinct (runbook, revision, baseline) pairs of published revisions."""
    pairs: list[tuple[str, str, str]] = []
    extended: list[tuple[str, str, str]] = []
    for folder in sorted((data / "runbooks").iterdir()):
        published = [r[0] for r in _revisions(folder) if r[1] == "published"]
        for i, new in enumerate(published):
            if int(new[1:]) <= 9 or folder.name != RUNBOOK:  # the world's own revisions
                pairs += [(folder.name, new, old) for old in published[:i]]
            else:  # each added revision: against the one before, and against an older one
                extended.append((folder.name, new, published[i - 1]))
                extended.append((folder.name, new, published[(i * 7) % (i - 1)]))
    out = list(dict.fromkeys(pairs + extended))[:count]
    if len(out) < count:
        raise SystemExit(f"only {len(out)} distinct pairs in {data}; add revisions")
    return out


def timed_replays(data: Path, items: list, repeat: int) -> dict:
    """Wall and CPU of ``repeat`` replays of ``items``, every cache cleared before each."""
    from digestkit import evaluation

    totals, cpu = [], []
    for _ in range(repeat):
        clear_caches()
        start, start_cpu = time.perf_counter(), time.process_time()
        frame = evaluation.replay(data, pairs=items, progress=False)
        totals.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"seconds": stats(totals), "cpu_seconds": stats(cpu), "frame": frame}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument(
        "--data", type=Path, help="a world from digestkit sample (default: the 100k-account one)"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "digestkit-bench"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--floor", action="store_true", help="also run the floor once per pair")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    from digestkit import evaluation

    base = args.data or world_at(args.cache, 100_000)
    world = replay_world(base, args.cache / f"replay-{base.name}", extra=args.pairs // 2)
    pairs = distinct_pairs(world, args.pairs)
    as_of = {
        _meta((world / "runbooks" / r / f"{new}.md").read_text(), "published_at")
        for r, new, _ in pairs
    }

    runs = timed_replays(world, pairs, args.repeat)
    per_digest = sorted(runs["frame"]["seconds"])
    scored = int(runs["frame"]["has_gold"].sum())
    # The library's own plan: its (pair, as_of) items repeat the world's 22 pairs, each read at
    # a time of its own.
    plan = evaluation.replay_plan(base, args.pairs)
    plan_runs = timed_replays(base, plan, args.repeat)
    floor_total = None
    if args.floor:
        start = time.perf_counter()
        for runbook, new, old in pairs:
            floor_reads(str(world), runbook, old, new)
        floor_total = time.perf_counter() - start

    result = {
        "pairs": len(pairs),
        "distinct": len(set(pairs)),
        "as_of_times": len(as_of),
        "scored_against_gold": scored,
        "repeat": args.repeat,
        "seconds": runs["seconds"],
        "cpu_seconds": runs["cpu_seconds"],
        "per_digest_median": statistics.median(per_digest),
        "per_digest_p90": per_digest[int(0.9 * (len(per_digest) - 1))],
        "floor_seconds": floor_total,
        "plan": {
            "items": len(set(plan)),
            "pairs": len({item[:3] for item in plan}),
            "as_of_times": len({item.as_of for item in plan}),
            "seconds": plan_runs["seconds"],
            "cpu_seconds": plan_runs["cpu_seconds"],
        },
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['pairs']} distinct pairs, {result['as_of_times']} distinct as-of times, "
        f"{scored} scored against gold, in {world}"
    )
    print(
        f"replay, caches cleared first: wall {spread(result['seconds'], 1, 2)} s, CPU "
        f"{spread(result['cpu_seconds'], 1, 2)} s (medians of {args.repeat})"
    )
    print(
        f"per digest (last run): median {result['per_digest_median'] * 1000:.0f} ms, "
        f"p90 {result['per_digest_p90'] * 1000:.0f} ms"
    )
    if floor_total is not None:
        print(f"independent floor, once per pair (no caching): {floor_total:.1f} s")
    print(
        f"evaluation.replay_plan ({len(plan)} items over {result['plan']['pairs']} pairs): wall "
        f"{spread(plan_runs['seconds'], 1, 2)} s, CPU {spread(plan_runs['cpu_seconds'], 1, 2)} s"
    )


if __name__ == "__main__":
    main()
