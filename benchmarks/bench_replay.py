"""Benchmark: replay 200 revision pairs (build the digest in-process, score it against gold).

Every (baseline, revision) pair of published revisions of the sample world, repeated until there
are ``--pairs`` of them. Three timings per pair, reported as median and p90 and as a ratio to the
floor, which is the cost of parsing both revisions (markdown-it-py) and nothing else:

- floor: ``parse_runbook`` of the baseline and the revision;
- cold: ``build_digest`` with the parse cache emptied first (what a one-off digest costs);
- replay: ``evaluation.replay`` as ``digestkit evaluate --replay`` runs it (parse cache warm,
  gold matching included).

Run: ``.venv/bin/python benchmarks/bench_replay.py [--pairs 200] [--data DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from digestkit import digest as digestmod
from digestkit import evaluation
from digestkit import sources as src_mod
from digestkit.runbook import parse_runbook


def revision_pairs(sources: src_mod.DataSources, count: int) -> list[tuple[str, str, str]]:
    """``count`` (runbook, revision, baseline) pairs: every ordered pair, repeated."""
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    pairs = [
        (new.runbook_id, new.revision, old.revision)
        for new in published.itertuples()
        for old in published.itertuples()
        if old.runbook_id == new.runbook_id and old.seq < new.seq
    ]
    return [pairs[i % len(pairs)] for i in range(count)]


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.9 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()

    sources = src_mod.open_sources(args.data)
    pairs = revision_pairs(sources, args.pairs)
    revisions = src_mod.load_revisions(sources)
    texts = {(r.runbook_id, r.revision): (r.text, r.path) for r in revisions.itertuples()}
    products = src_mod.load_products(sources)
    teams = src_mod.load_teams(sources)
    names = {
        "products": tuple(sorted(products["product_name"])),
        "teams": tuple(sorted(teams["display_name"])),
        "pagers": tuple(sorted(set(products["escalation_pager"]) | set(teams["pager"]))),
    }

    floor, cold = [], []
    for runbook_id, revision, baseline in pairs:
        start = time.perf_counter()
        for rev in (baseline, revision):
            text, path = texts[(runbook_id, rev)]
            parse_runbook(text, path=path, **names)
        floor.append(time.perf_counter() - start)

        digestmod._parse.cache_clear()  # a one-off digest parses both revisions
        start = time.perf_counter()
        digestmod.build_digest(runbook_id, revision, baseline=baseline, data=sources)
        cold.append(time.perf_counter() - start)

    start = time.perf_counter()
    frame = evaluation.replay(sources, pairs=pairs, progress=False)
    total = time.perf_counter() - start
    replayed = list(frame["seconds"])

    base = statistics.median(floor)
    distinct = len(set(pairs))
    print(f"{len(pairs)} revision pairs ({distinct} distinct) from {sources.root}\n")
    print(f"| {'measure':<42} | median ms | p90 ms | median / floor |")
    print(f"|{'-' * 44}|----------:|-------:|---------------:|")
    for label, samples in (
        ("floor: parse both revisions", floor),
        ("cold: build_digest, parse cache emptied", cold),
        ("replay: build_digest + match_gold, warm", replayed),
    ):
        median, p90 = _ms(samples)
        ratio = statistics.median(samples) / base
        print(f"| {label:<42} | {median:9.1f} | {p90:6.1f} | {ratio:14.1f} |")
    print(f"\nreplay wall time for all {len(pairs)} pairs: {total:.1f} s")


if __name__ == "__main__":
    main()
