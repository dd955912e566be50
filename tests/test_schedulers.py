"""What a scheduler runs: the documented papermill + nbconvert commands give the CLI's page.

The commands are taken from docs/pipeline.md as written and run through bash with the
environment's own `papermill`, `jupyter` and `digestkit` executables, the way cron or an Airflow
task would; the page they produce is compared with the one `digestkit run-event` posts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from digestkit import render
from digestkit.sources.config import SAMPLE_DATA

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNBOOK, REVISION, EVENT = "premium-s1-escalation", "r7", "EVT-000010"


def _documented_commands() -> str:
    doc = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- scheduler-commands:[^>]*-->\n```sh\n(.*?)```", doc, re.DOTALL)
    assert match, "docs/pipeline.md lost its scheduler-commands block"
    return match.group(1)


def _run(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    full_env = {**os.environ, "PATH": path, **(env or {})}
    full_env.pop("DIGESTKIT_DATA", None)
    result = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True)
    assert (result.returncode == 0) == ok, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def _comparable(page: str) -> str:
    # papermill gives the cell it injects a random id; every other byte must match.
    return re.sub(r' id="cell-id=[^"]*"', "", page)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("scheduler")
    workspace, out, elsewhere = base / "handoff", base / "runs", base / "cwd"
    out.mkdir()
    elsewhere.mkdir()
    _run(
        [str(BIN / "digestkit"), "run-event", EVENT, "--data", str(SAMPLE_DATA),
         "--workspace", str(workspace)],
        cwd=elsewhere,
    )  # fmt: skip
    env = {
        "RUNBOOK": RUNBOOK,
        "REVISION": REVISION,
        "DATA": str(SAMPLE_DATA),
        "WORKSPACE": str(workspace),
        "OUT": str(out),
    }
    _run(["bash", "-c", _documented_commands()], cwd=elsewhere, env=env)
    executed = out / f"{RUNBOOK}@{REVISION}.ipynb"
    # What the old documentation said: no template.
    _run(
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", "--output", "plain",
         str(executed)],
        cwd=elsewhere,
    )  # fmt: skip
    return {
        "cli": (workspace / "digests" / f"{RUNBOOK}@{REVISION}" / "digest.html").read_text("utf-8"),
        "scheduler": executed.with_suffix(".html").read_text("utf-8"),
        "plain": (out / "plain.html").read_text("utf-8"),
    }


def test_the_documented_commands_give_the_page_the_cli_posts(pages: dict[str, str]) -> None:
    assert _comparable(pages["scheduler"]) == _comparable(pages["cli"])


def test_the_scheduler_page_is_offline_titled_and_without_the_notebooks_notes(
    pages: dict[str, str],
) -> None:
    page = pages["scheduler"]
    assert f"<title>Digest — {RUNBOOK} {REVISION}</title>" in page
    assert "Every statement above links to the record it rests on." in page  # the digest shows
    assert re.findall(r"<script[^>]*\bsrc=|<link[^>]*\bhref=\"?https?:", page) == []
    assert "mathjax" not in page.lower()
    assert "The event runner executes this notebook" not in page  # the intro cell


def test_without_the_template_the_page_differs_as_the_issue_describes(
    pages: dict[str, str],
) -> None:
    plain = pages["plain"]
    assert f"<title>{RUNBOOK}@{REVISION}</title>" in plain  # the notebook's file name
    assert "The event runner executes this notebook" in plain
    assert re.search(r"<script[^>]*src=\"https://[^\"]*(require|mathjax)", plain, re.I)


def test_digestkit_path_prints_the_shipped_files(tmp_path: Path) -> None:
    for what, expected in [
        ("digest-notebook", render.DIGEST_NOTEBOOK),
        ("nbconvert-template", render.NBCONVERT_TEMPLATE),
        ("sample-data", SAMPLE_DATA),
    ]:
        result = subprocess.run(
            [str(BIN / "digestkit"), "path", what],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert Path(result.stdout.strip()) == expected
        assert expected.exists()


def test_a_failed_notebook_gives_no_page_and_a_forced_export_says_it_failed(tmp_path: Path) -> None:
    env = {
        "RUNBOOK": RUNBOOK,
        "REVISION": "r3",  # a draft: the notebook's digest cell fails
        "DATA": str(SAMPLE_DATA),
        "WORKSPACE": str(tmp_path / "handoff"),
        "OUT": str(tmp_path),
    }
    failed = _run(["bash", "-c", _documented_commands()], cwd=tmp_path, env=env, ok=False)
    assert "r3" in failed.stderr and "published" in failed.stderr
    executed = tmp_path / f"{RUNBOOK}@r3.ipynb"
    assert executed.exists() and not executed.with_suffix(".html").exists()

    _run(
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", "--template-file",
         str(render.NBCONVERT_TEMPLATE), str(executed)],
        cwd=tmp_path,
    )  # fmt: skip
    page = executed.with_suffix(".html").read_text("utf-8")
    assert "An Exception was encountered" in page
    assert "The event runner executes this notebook" not in page
