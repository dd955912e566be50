"""The built wheel, installed into a fresh virtual environment, runs the main job anywhere.

The wheel is built from a copy of the source tree (so no stale ``build/`` folder of the checkout
can leak into it) and installed with its dependencies from the package index (or pip's cache)
into a new virtual environment. Every command then runs from an unrelated folder with that
environment's executables only: no checkout on the path, no ``$DIGESTKIT_DATA``. Slow (about two
minutes, most of it installing dependencies); one test on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = (
    ".git", ".venv", "reports", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
)  # fmt: skip


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result.stdout


def test_the_installed_wheel_runs_the_main_job_from_an_unrelated_folder(tmp_path: Path) -> None:
    source, dist, venv, elsewhere = (tmp_path / n for n in ("src", "dist", "venv", "elsewhere"))
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."], cwd=source
    )
    (wheel,) = dist.glob("digestkit-*.whl")

    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    bin_dir = Path(sysconfig.get_path("scripts", vars={"base": str(venv)}))
    python, digestkit = bin_dir / "python", bin_dir / "digestkit"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    shutil.rmtree(source)  # nothing of the source tree is left to fall back on

    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTKIT_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    package = Path(
        _run(
            [str(python), "-c", "import digestkit; print(digestkit.__file__)"],
            cwd=elsewhere,
            env=env,
        )
    ).parent
    assert package.is_relative_to(venv)

    # Without --data: the sample world shipped in the package, and the summary says where.
    summary = _run([str(digestkit), "sources"], cwd=elsewhere, env=env)
    assert summary.splitlines()[0] == f"data: {package / 'data' / 'sample'}"
    assert "premium-s1-escalation: r1 published" in summary
    for what in ("digest-notebook", "report-notebook", "nbconvert-template", "sample-data"):
        path = Path(_run([str(digestkit), "path", what], cwd=elsewhere, env=env).strip())
        assert path.is_relative_to(package) and path.exists(), what

    # The main job: every event of the sample feed -> HTML digests, then the report.
    _run([str(digestkit), "run", "--workspace", "ws"], cwd=elsewhere, env=env)
    pages = sorted(p.parent.name for p in (elsewhere / "ws" / "digests").glob("*/digest.html"))
    assert "premium-s1-escalation@r9" in pages and "premium-comms-bridge@r2" in pages
    assert len(pages) == 9  # 10 publications, one of them withdrawn: no digest for it
    page = (elsewhere / "ws" / "digests" / "premium-s1-escalation@r9" / "digest.html").read_text(
        encoding="utf-8"
    )
    assert "<title>Digest — premium-s1-escalation r9</title>" in page
    assert (elsewhere / "ws" / "index.html").is_file()

    # What a scheduler runs instead (docs/pipeline.md; tests/test_schedulers.py has the details).
    doc = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    commands = re.search(r"<!-- scheduler-commands:[^>]*-->\n```sh\n(.*?)```", doc, re.DOTALL)
    assert commands
    scheduled = {"RUNBOOK": "premium-s1-escalation", "REVISION": "r9", "OUT": str(elsewhere)}
    scheduled |= {"DATA": str(package / "data" / "sample"), "WORKSPACE": str(elsewhere / "ws")}
    _run(["bash", "-c", commands.group(1)], cwd=elsewhere, env={**env, **scheduled})
    same = re.compile(r' id="cell-id=[^"]*"')  # papermill's injected cell has a random id
    scheduler_page = (elsewhere / "premium-s1-escalation@r9.html").read_text(encoding="utf-8")
    assert same.sub("", scheduler_page) == same.sub("", page)

    _run([str(digestkit), "evaluate", "--workspace", "ws", "--report"], cwd=elsewhere, env=env)
    report = elsewhere / "ws" / "evaluation" / "report.html"
    assert "Digest evaluation report" in report.read_text(encoding="utf-8")
