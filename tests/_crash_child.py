"""A digestkit command run in a child process whose digest pages come from a stand-in renderer.

tests/test_crash.py stops this process at a named failure point ($DIGESTKIT_FAILPOINT), as
``kill -9`` would. The stand-in writes the page from what the digest notebook reads (the digest
and the live audit.json, through ``workspace.annotations``), so the test can check which state a
page shows after recovery without starting a kernel for each of the many kills.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from digestkit import workspace as ws
from digestkit.cli import main


def render_folder(
    folder: Path,
    *,
    parameters: Mapping[str, Any],
    title: str,
    notebook: Path | None = None,
    kernel: object = None,
    posted_to: Path | None = None,
) -> None:
    """Write digest.ipynb and digest.html naming the digest's state and its number of notes."""
    digest_id = json.loads((folder / "digest.json").read_text(encoding="utf-8"))["digest_id"]
    notes, state, _ = ws.annotations(parameters.get("workspace"), digest_id)
    (folder / "digest.ipynb").write_text(json.dumps({"state": state, "notes": len(notes)}) + "\n")
    (folder / "digest.html").write_text(f"<p>{title}: state={state} notes={len(notes)}</p>\n")


if __name__ == "__main__":
    ws.render_folder = render_folder
    sys.exit(main(sys.argv[1:]))
