"""Deterministic sample world: the six source systems plus gold labels of what was planted.

``generate_world`` writes runbook revisions (Markdown with YAML front matter), a CRM in SQLite,
registry and exception-register CSVs, a change feed and ``gold/labels.json``. The runbook text
is rendered from a structured model while recording the line span of every unit, so the gold
labels' line numbers come from the rendering, never from hand-counted constants. The same seed
and parameters always give byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from digestkit.exceptions import DigestkitError
from digestkit.sample.crm import generate_crm
from digestkit.sample.git import write_git_repository
from digestkit.sample.registry import generate_register, generate_registry
from digestkit.sample.scenario import bridge_plan, s1_plan
from digestkit.sample.world import World
from digestkit.sample.writers import GENERATOR, write_world

__all__ = ["generate_world", "write_git_repository"]

#: The smallest value of each count that still leaves room for every planted case.
LIMITS = {"accounts": 50, "steps": 10, "products": 8, "exceptions": 10}


def _check_params(seed: int, counts: dict[str, int]) -> None:
    """Refuse counts too small for the planted cases, before anything is written."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DigestkitError(f"sample: --seed must be a non-negative integer, got {seed!r}")
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise DigestkitError(f"sample: --{name} must be an integer, got {value!r}")
        if value < LIMITS[name]:
            raise DigestkitError(
                f"sample: --{name} must be at least {LIMITS[name]} so every planted case fits, "
                f"got {value}"
            )
    if counts["exceptions"] > counts["accounts"]:
        raise DigestkitError(
            f"sample: --exceptions ({counts['exceptions']}) must not exceed --accounts "
            f"({counts['accounts']}): every exception needs its own account and product"
        )


def _is_world(path: Path) -> bool:
    """Whether ``path`` holds a world this generator wrote (so it may be replaced)."""
    try:
        info = json.loads((path / "world.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("generator") == GENERATOR


def generate_world(
    out: str | Path,
    *,
    seed: int = 7,
    accounts: int = 600,
    steps: int = 14,
    products: int = 12,
    exceptions: int = 40,
) -> dict[str, Any]:
    """Write a complete sample world into `out`; return a summary dict (counts, paths)."""
    counts = {"accounts": accounts, "steps": steps, "products": products, "exceptions": exceptions}
    _check_params(seed, counts)
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise DigestkitError(
                f"sample: {out} exists and is not a directory; choose another --out"
            )
        if any(out.iterdir()) and not _is_world(out):
            raise DigestkitError(
                f"sample: {out} is not empty and holds no sample world (no world.json written by "
                "digestkit); refusing to overwrite it, choose an empty or new --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        summary = _build(tmp, seed=seed, **counts)
        if out.exists():
            trash = tmp.with_suffix(".old")
            out.rename(trash)
            tmp.rename(out)
            shutil.rmtree(trash)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {**summary, "path": str(out)}


def _build(root: Path, *, seed: int, **counts: int) -> dict[str, Any]:
    """Generate the world and write it under ``root``; the generators share one random stream."""
    rng = np.random.default_rng(seed)
    registry = generate_registry(rng, counts["products"])
    crm = generate_crm(rng, counts["accounts"], registry)
    register = generate_register(rng, counts["exceptions"], registry, crm)
    world = World(registry, crm, register)
    plans = [s1_plan(world, counts["steps"]), bridge_plan()]
    return write_world(root, {"seed": seed, **counts}, world, plans)
