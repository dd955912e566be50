"""Benchmark: the pipeline at scale, each figure next to a floor measured in the same run.

Every floor is independent of digestkit: :func:`floor_reads` uses the standard library alone to
read what a digest of r8 -> r9 must read (the two revision files, the four registry and register
CSVs as of r9's publication, and the exact entitlement counts through the CRM's tier index), and
the script checks that the floor read the same numbers the digest reports.

- digest in-process: ``build_digest`` with every digestkit cache cleared before each run, against
  :func:`floor_reads` in the same process (both after one untimed warm-up); peak RSS of that
  process. At 10k / 100k (and, without ``--quick``, 1M) accounts.
- digest as a process: ``python -m digestkit digest --format json`` against ``python -c`` running
  :func:`floor_reads`, interpreter start-up included in both.
- event -> posted HTML (papermill + nbconvert + workspace) for one publication event, against
  executing an empty notebook with the same kernel and rendering it.
- burst: ``digestkit watch --once`` over publication events with one kept kernel.
- replay: ``evaluation.replay`` over 200 distinct pairs (``bench_replay.py`` builds them).
- imports: whether ``digestkit --help`` and ``digestkit diff`` import pandas, SQLAlchemy or
  papermill (``python -X importtime`` in a subprocess).

Each timing is the median of ``--repeat`` runs (at least 5) with its spread (min-max), wall and
CPU; floor and measured runs alternate within a repetition, so ratios come from one run.
Worlds are generated once into ``--cache`` (default /tmp/digestkit-bench); the 1M world takes
about a minute and 4.5 GB while it is generated. Run: ``make bench-pipeline`` or
``.venv/bin/python benchmarks/bench_pipeline.py [--quick] [--results benchmarks/RESULTS.md]``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = "premium-s1-escalation"
OLD, NEW = "r8", "r9"


# --- the independent floor (standard library only: it also runs alone under ``python -c``) ------


def floor_reads(data: str, runbook: str, old: str, new: str) -> dict:
    """Read with the standard library what a digest of ``old`` -> ``new`` must read.

    The two revision files (bytes, sha256, front matter's ``published_at``), the four CSVs of the
    registry and register (each record's latest version as of ``new``'s publication), and the
    entitlement counts of every "<tier> ... within N minutes" statement of ``new``: approved,
    active, recorded by then, through the tier index, with the accounts per other terms.
    """
    import csv
    import hashlib
    import re
    import sqlite3
    from pathlib import Path

    root = Path(data)
    if (root / "sources.toml").exists():
        raise SystemExit("floor_reads reads the default layout only; this world has sources.toml")
    texts, shas = {}, {}
    for rev in (old, new):
        raw = (root / "runbooks" / runbook / f"{rev}.md").read_bytes()
        shas[rev], texts[rev] = hashlib.sha256(raw).hexdigest(), raw.decode("utf-8")
    published = re.search(r'^published_at:\s*"?([^"\n]+)"?\s*$', texts[new], re.MULTILINE)
    as_of = published.group(1)  # the sample writes ISO-8601 UTC with Z, as the CSVs and CRM do

    def latest(path: Path, key: str) -> dict[str, dict[str, str]]:
        rows: dict[str, dict[str, str]] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["recorded_at"] <= as_of and (
                    row[key] not in rows or rows[row[key]]["recorded_at"] <= row["recorded_at"]
                ):
                    rows[row[key]] = row
        return rows

    products = latest(root / "registry" / "products.csv", "product_id")
    teams = latest(root / "registry" / "teams.csv", "team")
    issues = latest(root / "registry" / "known_issues.csv", "issue_id")
    register = latest(root / "exceptions" / "register.csv", "exception_id")

    tiers = ("Premium Plus", "Premium", "Standard")  # longest first: the statement's subject
    stated = set()
    for line in texts[new].splitlines():
        minutes = re.search(r"\bwithin\s+(\d+)\s*(?:minutes|mins?)\b", line, re.IGNORECASE)
        tier = next((t for t in tiers if t in line), None)
        if minutes and tier:
            stated.add((tier, int(minutes.group(1))))
    day = as_of[:10]
    scope = (
        "FROM entitlements INDEXED BY ix_entitlements_tier WHERE tier = ? AND "
        "record_status = 'approved' AND starts_on <= ? AND ends_on >= ? AND updated_at <= ?"
    )
    other = "(notification_variant IS NOT NULL OR initial_response_minutes != ?)"
    counts = {}
    con = sqlite3.connect(f"file:{root / 'crm.sqlite'}?mode=ro", uri=True)
    try:
        for tier, minutes in sorted(stated):
            accounts, deviating = con.execute(
                f"SELECT COUNT(DISTINCT account_id), "
                f"COUNT(DISTINCT CASE WHEN {other} THEN account_id END) {scope}",
                (minutes, tier, day, day, as_of),
            ).fetchone()
            terms = con.execute(
                "SELECT COALESCE(notification_variant, initial_response_minutes || "
                f"'-minute initial response') AS terms, COUNT(DISTINCT account_id) {scope} "
                f"AND {other} GROUP BY terms ORDER BY terms",
                (tier, day, day, as_of, minutes),
            ).fetchall()
            counts[f"{tier}|{minutes}"] = [accounts, deviating, [list(t) for t in terms]]
    finally:
        con.close()
    return {
        "as_of": as_of,
        "sha256": shas,
        "products": {k: [r["owning_team"], r["last_verified_at"]] for k, r in products.items()},
        "teams": len(teams),
        "known_issues": len(issues),
        "exceptions": {k: [r["status"], r["valid_to"]] for k, r in register.items()},
        "counts": counts,
    }


FLOOR_SCRIPT = (
    inspect.getsource(floor_reads)
    + "\nimport json, sys\nprint(json.dumps(floor_reads(*sys.argv[1:])))\n"
)


def check_floor(floor: dict, digest: dict) -> list[str]:
    """Where the digest reports a number or value the floor read differently (empty: none)."""
    problems = []

    def expect(what: str, got: Any, want: Any) -> None:
        if got != want:
            problems.append(f"{what}: digest {got!r}, floor {want!r}")

    audit = digest["audit"]
    expect("as_of", audit["as_of"], floor["as_of"])
    expect("revision_sha256", audit["revision_sha256"], floor["sha256"][NEW])
    expect("baseline_sha256", audit["baseline_sha256"], floor["sha256"][OLD])
    claims = [c for part in ("carried_forward", "flags") for c in digest[part]]
    seen_counts = set()
    for claim in claims:
        d = claim["details"]
        if claim["kind"] in ("entitlement_assumption", "unsupported_impact_assumption"):
            key = f"{d['tier']}|{d['minutes']}"
            seen_counts.add(key)
            accounts, deviating, terms = floor["counts"].get(key, [None, None, []])
            expect(f"{key} accounts", d["accounts"], accounts)
            expect(f"{key} deviating", d.get("deviating_accounts", 0), deviating)
            for name, n in terms:
                if f"{name} ({n})" not in claim["text"]:
                    problems.append(f"{key}: '{name} ({n})' not in the digest's text")
        elif claim["kind"] == "ownership":
            expect(f"owner of {d['product_id']}", d["team"], floor["products"][d["product_id"]][0])
        elif claim["kind"] == "ownership_conflict" and "registry_team" in d:
            got = d["registry_team"]
            expect(f"owner of {d['product_id']}", got, floor["products"][d["product_id"]][0])
        elif claim["kind"] == "stale_ownership":
            got = d["last_verified_at"].replace("+00:00", "Z")
            want = floor["products"][d["product_id"]][1]
            expect(f"last_verified_at of {d['product_id']}", got, want)
        elif claim["kind"].startswith("exception"):
            status, valid_to = floor["exceptions"][d["exception_id"]]
            expect(f"status of {d['exception_id']}", d["status"], status)
            if "valid_to" in d:
                expect(f"valid_to of {d['exception_id']}", d["valid_to"], valid_to)
    expect("entitlement counts asked", sorted(seen_counts), sorted(floor["counts"]))
    return problems


# --- worlds --------------------------------------------------------------------------------------


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
    _name_indexes(out / "crm.sqlite")  # a world cached before the sample CRM had them
    return out


def _name_indexes(crm: Path) -> None:
    from digestkit.sources.lookup import lookup_indexes

    with sqlite3.connect(crm) as con:
        for name, statement in lookup_indexes("sqlite").items():
            (had,) = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = ? AND sql = ?",
                (name, statement.replace(" IF NOT EXISTS", "")),
            ).fetchone()
            if not had:  # missing, or an older definition the lookups no longer match
                con.execute(f"DROP INDEX IF EXISTS {name}")
                con.execute(statement)


def without_name_indexes(data: Path) -> Path:
    """A copy of world ``data`` whose CRM lacks the screen's name-key indexes (the other
    sources are links): what a customer's CRM is before its administrator adds them."""
    out = data.with_name(f"{data.name}-noindex")
    if not (out / "crm.sqlite").exists():
        from digestkit.sources.lookup import lookup_indexes

        out.mkdir(exist_ok=True)
        for item in data.iterdir():
            if item.name != "crm.sqlite" and not (out / item.name).exists():
                (out / item.name).symlink_to(item)
        shutil.copyfile(data / "crm.sqlite", out / "crm.part")
        with sqlite3.connect(out / "crm.part") as con:
            for name in lookup_indexes("sqlite"):
                con.execute(f"DROP INDEX IF EXISTS {name}")
        (out / "crm.part").rename(out / "crm.sqlite")
    return out


# --- timing helpers ------------------------------------------------------------------------------


def timed(func: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process and its children, result) of one call."""
    start_cpu = _cpu()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, _cpu() - start_cpu, result


def _cpu() -> float:
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def stats(samples: list[float]) -> dict:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def spread(s: dict, scale: float = 1000, digits: int = 0) -> str:
    """``median (min-max)`` of a :func:`stats` dict, in ms by default."""
    f = f"{{:.{digits}f}}"
    return f"{f.format(s['median'] * scale)} ({f.format(s['min'] * scale)}-" + (
        f"{f.format(s['max'] * scale)})"
    )


def clear_caches() -> list[str]:
    """Empty every cache of the digestkit modules loaded (functools and cachetools caches) and
    ``re``'s cache of compiled patterns, which digestkit's patterns fill too."""
    re.purge()
    cleared = ["re (compiled patterns)"]
    for name, module in list(sys.modules.items()):
        if name != "digestkit" and not name.startswith("digestkit."):
            continue
        for attr, value in list(vars(module).items()):
            targets = [(attr, value)]
            if inspect.isclass(value) and value.__module__ == name:
                targets += [(f"{attr}.{k}", v) for k, v in vars(value).items()]
            for label, obj in targets:
                obj = getattr(obj, "__func__", obj)
                if callable(getattr(obj, "cache_clear", None)):
                    obj.cache_clear()
                elif hasattr(obj, "currsize") and callable(getattr(obj, "clear", None)):
                    obj.clear()  # a cachetools cache
                else:
                    continue
                cleared.append(f"{name}.{label}")
    return sorted(set(cleared))


# --- digest: in-process and as a process ---------------------------------------------------------


def worker_digest(data: str, repeat: int) -> dict:
    """Runs in a fresh process: cold in-process digest vs the floor, and this process's peak RSS."""
    from digestkit import digest as digestmod

    def floor() -> dict:
        return floor_reads(data, RUNBOOK, OLD, NEW)

    def digest() -> dict:
        return digestmod.build_digest(RUNBOOK, NEW, baseline=OLD, data=data).to_dict()

    # One untimed run of each: imports done lazily inside digestkit are not a cache to clear.
    floor()
    digest()
    runs: dict[str, list[float]] = {"floor": [], "digest": [], "floor_cpu": [], "digest_cpu": []}
    ratios, problems, cleared = [], [], []
    for _ in range(repeat):
        wall_f, cpu_f, floor_out = timed(floor)
        cleared = clear_caches()
        wall_d, cpu_d, digest_out = timed(digest)
        runs["floor"].append(wall_f)
        runs["floor_cpu"].append(cpu_f)
        runs["digest"].append(wall_d)
        runs["digest_cpu"].append(cpu_d)
        ratios.append(wall_d / wall_f)
        problems = check_floor(floor_out, digest_out)
    return {
        **{k: stats(v) for k, v in runs.items()},
        "ratio": stats(ratios),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "check": problems,
        "caches_cleared": cleared,
    }


def measure_digest(data: Path, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(data), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def measure_digest_process(data: Path, repeat: int) -> dict:
    """``python -m digestkit digest`` vs ``python -c`` with the floor, alternating."""
    floor_cmd = [sys.executable, "-c", FLOOR_SCRIPT, str(data), RUNBOOK, OLD, NEW]
    digest_cmd = [
        sys.executable,
        "-m",
        "digestkit",
        "digest",
        "--runbook",
        RUNBOOK,
        "--revision",
        NEW,
        "--baseline",
        OLD,
        "--data",
        str(data),
        "--format",
        "json",
    ]

    def run(cmd: list[str]) -> Callable[[], dict]:
        return lambda: json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)

    runs: dict[str, list[float]] = {"floor": [], "digest": [], "floor_cpu": [], "digest_cpu": []}
    ratios, problems = [], []
    for _ in range(repeat):
        wall_f, cpu_f, floor_out = timed(run(floor_cmd))
        wall_d, cpu_d, digest_out = timed(run(digest_cmd))
        runs["floor"].append(wall_f)
        runs["floor_cpu"].append(cpu_f)
        runs["digest"].append(wall_d)
        runs["digest_cpu"].append(cpu_d)
        ratios.append(wall_d / wall_f)
        problems = check_floor(floor_out, digest_out)
    return {**{k: stats(v) for k, v in runs.items()}, "ratio": stats(ratios), "check": problems}


# --- event -> posted HTML, burst, replay ---------------------------------------------------------


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


def _feed_events(data: Path) -> list[dict]:
    events = []
    for line in (data / "feed" / "events.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the sample feed has a malformed line on purpose
    return events


def measure_event(data: Path, repeat: int) -> dict:
    from digestkit import events

    event = next(
        e
        for e in _feed_events(data)
        if e.get("revision") == NEW and e.get("type") == "runbook.published"
    )
    floors, runs = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            floors.append(_notebook_floor(Path(tmp)))
            clear_caches()
            start = time.perf_counter()
            outcome = events.run_event(event["event_id"], data=data, workspace=Path(tmp) / "ws")
            runs.append(time.perf_counter() - start)
            assert outcome.status == "processed", outcome.reason
    return {"floor": stats(floors), "event": stats(runs)}


def burst_world(base: Path, target: Path, events_wanted: int) -> list[tuple[str, str]]:
    """A copy of ``base`` with its runbook cloned until the feed has ``events_wanted`` events."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("crm.sqlite"))
    (target / "crm.sqlite").symlink_to(base / "crm.sqlite")
    source = target / "runbooks" / RUNBOOK
    published = [p for p in sorted(source.glob("r*.md")) if "status: published" in p.read_text()]
    lines, pairs, n, clone = [], [], 0, 0
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


def measure_burst(data: Path, cache: Path, count: int, repeat: int) -> dict:
    target = cache / f"burst-{count}"
    pairs = burst_world(data, target, count)
    per_event, cpu = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "digestkit",
                "watch",
                "--once",
                "--data",
                str(target),
                "--workspace",
                str(Path(tmp) / "ws"),
            ]
            run = functools.partial(subprocess.run, cmd, check=True, capture_output=True)
            wall, used, _ = timed(run)
            per_event.append(wall / len(pairs))
            cpu.append(used / len(pairs))
    return {"events": len(pairs), "per_event": stats(per_event), "cpu_per_event": stats(cpu)}


def measure_replay(data: Path, cache: Path, count: int, repeat: int) -> dict:
    """``bench_replay.py`` in a subprocess: its distinct pairs, replayed with cold caches."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_replay.py"),
            "--data",
            str(data),
            "--cache",
            str(cache),
            "--pairs",
            str(count),
            "--repeat",
            str(repeat),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# --- imports -------------------------------------------------------------------------------------

HEAVY = ("pandas", "sqlalchemy", "papermill")


def heavy_imports(args: list[str]) -> dict:
    """Which of HEAVY ``python -X importtime -m digestkit *args`` imports, and its wall time."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "digestkit", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return {
        "heavy": [m for m in HEAVY if m in modules],
        "wall": wall,
        "exit": proc.returncode,
    }


def import_cost(module: str) -> float:
    """Cumulative import time in seconds of ``module`` alone, per ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1e6
    return float("nan")


# --- report --------------------------------------------------------------------------------------

WHY_HEADING = "## Why, per target"
# bench_diff.py writes its own section between these markers; it is kept as it is.
DIFF_START, DIFF_END = "<!-- bench_diff: start -->", "<!-- bench_diff: end -->"
DIFF_PLACEHOLDER = (
    f"{DIFF_START}\n## Diff\n\nFilled from `benchmarks/bench_diff.py --results "
    f"benchmarks/RESULTS.md`.\n{DIFF_END}"
)


def compose_results(report: str, path: Path) -> str:
    """The new RESULTS.md: this report, then the old file's hand-written "why" and diff section."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    diff = DIFF_PLACEHOLDER
    if DIFF_START in old and DIFF_END in old:
        head, _, rest = old.partition(DIFF_START)
        diff = DIFF_START + rest.partition(DIFF_END)[0] + DIFF_END
        old = head + rest.partition(DIFF_END)[2]
    why = old[old.find(WHY_HEADING) :].strip() if WHY_HEADING in old else ""
    return report + (f"\n{why}\n" if why else "") + f"\n{diff}\n"


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores (load average {load:.1f} at the start), {mem:.0f} GiB, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def ratio_target(label: str, r: dict | None, accounts: int, limit: float) -> str:
    """A ratio target's line: met only when the wall and the CPU medians are both within it."""
    head = f"- {label} <= {limit}x its floor at {accounts:,} accounts: "
    if r is None:
        return head + "not measured (--quick)."
    wall = r["digest"]["median"] / r["floor"]["median"]
    cpu = r["digest_cpu"]["median"] / r["floor_cpu"]["median"]
    ok = wall <= limit and cpu <= limit and not r["check"]
    return head + (
        f"{verdict(ok)} (wall {wall:.2f}x: {spread(r['digest'])} ms vs {spread(r['floor'])} ms; "
        f"CPU {cpu:.2f}x: {spread(r['digest_cpu'])} ms vs {spread(r['floor_cpu'])} ms)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k/100k only, fewer events")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "digestkit-bench"
    )
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (at least 5)")
    parser.add_argument("--burst-events", type=int, default=30)
    parser.add_argument("--results", type=Path, help="also write the report to this Markdown file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_digest(args.worker, args.repeat)))
        return
    if args.repeat < 5:
        parser.error("--repeat must be at least 5: the targets are medians of at least 5 runs")

    repeat = args.repeat
    args.cache.mkdir(parents=True, exist_ok=True)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    out: list[str] = [
        f"Machine: {machine()}",
        f"Mode: {'quick' if args.quick else 'full'}; medians of {repeat} runs, "
        "spread as (min-max); floor and measured runs alternate in one run.",
        "",
    ]

    def log(line: str) -> None:
        out.append(line)
        print(line, file=sys.stderr)

    inproc, proc = {}, {}
    log("## Digest r8 -> r9 against the independent floor")
    log("")
    log(
        "Floor: `floor_reads` in this script (standard library only): both revision files, the "
        "four CSVs as of r9's publication, the entitlement counts through the tier index. "
        "Cold: every digestkit cache cleared before each run."
    )
    log("")
    log(
        "| accounts | mode | floor wall ms | digest wall ms | wall ratio (per-run range) | "
        "floor CPU ms | digest CPU ms | CPU ratio | peak RSS MB | same numbers |"
    )
    log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for accounts in sizes:
        data = world(args.cache, accounts)
        modes = [
            ("in-process, cold", measure_digest(data, repeat)),
            ("as a process", measure_digest_process(data, repeat)),
        ]
        if accounts >= 100_000:
            bare = measure_digest(without_name_indexes(data), repeat)
            modes.append(("in-process, cold, CRM without the name indexes", bare))
        for mode, result in modes:
            if mode in ("in-process, cold", "as a process"):
                (inproc if mode.startswith("in") else proc)[accounts] = result
            r = result
            cpu_ratio = r["digest_cpu"]["median"] / r["floor_cpu"]["median"]
            ratio = r["digest"]["median"] / r["floor"]["median"]
            rss = f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"
            same = "yes" if not r["check"] else "NO: " + "; ".join(r["check"])
            log(
                f"| {accounts:,} | {mode} | {spread(r['floor'])} | {spread(r['digest'])} | "
                f"{ratio:.2f} ({r['ratio']['min']:.2f}-{r['ratio']['max']:.2f}) | "
                f"{spread(r['floor_cpu'])} | {spread(r['digest_cpu'])} | {cpu_ratio:.2f} | "
                f"{rss} | {same} |"
            )
    cleared = next(iter(inproc.values()))["caches_cleared"]
    log("")
    log(f"Caches cleared before each cold run: {', '.join(f'`{c}`' for c in cleared)}.")

    mid = world(args.cache, 100_000)
    ev = measure_event(mid, repeat)
    gap = ev["event"]["median"] - ev["floor"]["median"]
    log("")
    log("## Event -> posted HTML at 100k accounts (`run_event`, its own kernel)")
    log("")
    log("| floor: empty notebook + render s | event -> posted HTML s | difference s |")
    log("|---:|---:|---:|")
    log(f"| {spread(ev['floor'], 1, 2)} | {spread(ev['event'], 1, 2)} | {gap:+.2f} |")

    small = world(args.cache, 10_000)
    burst = measure_burst(small, args.cache, 20 if args.quick else args.burst_events, repeat)
    per_event = burst["per_event"]
    log("")
    log(
        f"## Burst at 10k accounts: `digestkit watch --once` over {burst['events']} events, "
        "one kept kernel"
    )
    log("")
    log("Per event = the whole command's wall time (start-up and kernel start included) / events.")
    log("")
    log(
        f"Seconds per event: wall {spread(per_event, 1, 3)}; CPU (the command, its kernel and "
        f"children) {spread(burst['cpu_per_event'], 1, 3)}."
    )

    rp = measure_replay(mid, args.cache, 200, repeat)
    log("")
    log("## Replay at 100k accounts")
    log("")
    log(
        f"`evaluation.replay` over {rp['pairs']} distinct pairs ({rp['as_of_times']} distinct "
        f"as-of times, {rp['scored_against_gold']} scored against gold), caches cleared first: "
        f"wall {spread(rp['seconds'], 1, 1)} s, CPU {spread(rp['cpu_seconds'], 1, 1)} s "
        f"({rp['repeat']} runs); per digest median {rp['per_digest_median'] * 1000:.0f} ms, "
        f"p90 {rp['per_digest_p90'] * 1000:.0f} ms. The pairs are distinct revision pairs of "
        "the world extended with revisions r10.. (see `bench_replay.py`)."
    )
    plan = rp["plan"]
    log("")
    log(
        f"For comparison, `evaluation.replay_plan`: {plan['items']} distinct (pair, as-of) items "
        f"over the world's own {plan['pairs']} pairs, {plan['as_of_times']} as-of times: wall "
        f"{spread(plan['seconds'], 1, 1)} s, CPU {spread(plan['cpu_seconds'], 1, 1)} s."
    )

    sample_dir = small / "runbooks" / RUNBOOK
    help_run = heavy_imports(["--help"])
    diff_files = heavy_imports(
        ["diff", str(sample_dir / f"{OLD}.md"), str(sample_dir / f"{NEW}.md")]
    )
    diff_runbook = heavy_imports(["diff", OLD, NEW, "--runbook", RUNBOOK, "--data", str(small)])
    costs = {m: import_cost(m) for m in ("digestkit.digest", "papermill", "pandas", "sqlalchemy")}
    log("")
    log("## Imports (`python -X importtime`, a fresh process each)")
    log("")
    log("| command | imports pandas / SQLAlchemy / papermill | wall s |")
    log("|---|---|---:|")
    for label, r in (
        ("`digestkit --help`", help_run),
        ("`digestkit diff OLD.md NEW.md`", diff_files),
        ("`digestkit diff r8 r9 --runbook ... --data ...`", diff_runbook),
    ):
        log(f"| {label} | {', '.join(r['heavy']) or 'none'} | {r['wall']:.2f} |")
    log("")
    log(
        "Import cost alone (cumulative, s): "
        + ", ".join(f"`{m}` {s:.2f}" for m, s in costs.items())
        + "."
    )

    targets = []
    for label, results, n, limit in (
        ("in-process cold digest", inproc, 100_000, 1.5),
        ("in-process cold digest", inproc, 1_000_000, 1.5),
        ("`digestkit digest` as a process", proc, 100_000, 3.0),
        ("`digestkit digest` as a process", proc, 1_000_000, 1.5),
    ):
        targets.append(ratio_target(label, results.get(n), n, limit))
    checks_ok = all(not r["check"] for r in (*inproc.values(), *proc.values()))
    targets.insert(
        0,
        f"- floors independent of digestkit and reading the digest's numbers: "
        f"{verdict(checks_ok)} (standard library only; compared: as_of, both "
        "revision sha256s, every entitlement count and term, owners, "
        "last_verified_at, exception status and valid_to).",
    )
    targets.append(
        f"- warm burst <= 0.35 s per event at 10k accounts: by wall time "
        f"{verdict(per_event['median'] <= 0.35)} ({spread(per_event, 1, 3)} s); by CPU time "
        f"{verdict(burst['cpu_per_event']['median'] <= 0.35)} "
        f"({spread(burst['cpu_per_event'], 1, 3)} s: the runner builds the next digest in a "
        "background thread while the kernel runs a notebook, so wall is below CPU when a core "
        "is free)."
    )
    targets.append(
        f"- replay of 200 distinct pairs under 10 s at 100k accounts: "
        f"{verdict(rp['seconds']['median'] < 10 and rp['pairs'] == 200)} "
        f"(wall {spread(rp['seconds'], 1, 1)} s, CPU {spread(rp['cpu_seconds'], 1, 1)} "
        f"s, {rp['as_of_times']} as-of times)."
    )
    clean = not help_run["heavy"] and not diff_files["heavy"] and not diff_runbook["heavy"]
    targets.append(
        f"- `digestkit --help` and `digestkit diff` import none of pandas, SQLAlchemy, "
        f"papermill: {verdict(clean)} (--help: {', '.join(help_run['heavy']) or 'none'}; "
        f"diff of files: {', '.join(diff_files['heavy']) or 'none'}; diff --runbook: "
        f"{', '.join(diff_runbook['heavy']) or 'none'})."
    )
    big = inproc.get(1_000_000)
    if big:
        targets.append(
            f"- peak RSS of the in-process digest at 1M accounts: "
            f"{big['peak_rss_mb']:.0f} MB (no target in this issue)."
        )
    out += ["", "## Targets", "", *targets]
    report = "\n".join(out) + "\n"
    print(report)
    if args.results:
        args.results.write_text(compose_results(report, args.results), encoding="utf-8")


if __name__ == "__main__":
    main()
