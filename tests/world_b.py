"""World B: a second source world written by hand for the grounding checks (not made by
``digestkit sample``). Its files live in ``tests/data/world_b``; the CRM is kept there as readable
SQL (``crm.sql``) and built into ``crm.sqlite`` by :func:`build_world_b`.

``python tests/world_b.py DEST`` builds a usable copy at DEST (e.g. to try the CLI on it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "data" / "world_b"
RUNBOOK = "enterprise-p1-handoff"

# (event_id, type, revision, occurred_at, actor): the feed, checked against the files by the tests.
EVENTS = [
    ("EVT-200001", "runbook.published", "r1", "2026-03-02T08:00:00Z", "u-kbaptiste"),
    ("EVT-200002", "runbook.published", "r2", "2026-04-06T09:00:00Z", "u-kbaptiste"),
    ("EVT-200003", "runbook.draft_saved", "r3", "2026-04-20T10:00:00Z", "u-lmwangi"),
]


def feed_lines(root: Path) -> list[str]:
    """The feed of ``root``'s runbook files, one JSON event per line."""
    lines = []
    for event_id, kind, revision, at, actor in EVENTS:
        data = (root / "runbooks" / RUNBOOK / f"{revision}.md").read_bytes()
        event = {
            "event_id": event_id,
            "type": kind,
            "runbook_id": RUNBOOK,
            "revision": revision,
            "occurred_at": at,
            "actor": actor,
            "content_sha256": hashlib.sha256(data).hexdigest(),
        }
        lines.append(json.dumps(event))
    return lines


def build_world_b(dest: Path) -> Path:
    """Copy world B to ``dest`` and build its CRM from ``crm.sql``; return ``dest``."""
    shutil.copytree(SOURCE, dest, ignore=shutil.ignore_patterns("crm.sqlite"))
    con = sqlite3.connect(dest / "crm.sqlite")
    try:
        con.executescript((SOURCE / "crm.sql").read_text(encoding="utf-8"))
    finally:
        con.close()
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/world_b.py DEST")
    print(build_world_b(Path(sys.argv[1])))
