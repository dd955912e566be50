"""A folder of runbook revisions replayed as a git repository, one tagged commit per revision."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digestkit.clock import as_utc, parse_utc
from digestkit.exceptions import DigestkitError
from digestkit.frontmatter import FrontMatterError, natural_key, parse_front_matter

__all__ = ["write_git_repository"]

#: ``GIT_AUTHOR_DATE`` form: an explicit UTC offset, so the commit ids do not depend on TZ.
GIT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
#: Where a draft older than every published revision is dated from.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _front_matter(path: Path) -> dict[str, Any]:
    try:
        front = parse_front_matter(path.read_text("utf-8").splitlines())
    except FrontMatterError as exc:
        raise DigestkitError(f"{path}: {exc}") from exc
    if front is None:
        raise DigestkitError(f"{path}: no YAML front matter; the file must start with '---'")
    return front.data


def _published_at(meta: dict[str, Any]) -> datetime | None:
    value = meta.get("published_at")
    if not value:
        return None
    return as_utc(value) if isinstance(value, datetime) else parse_utc(str(value))


def _dated(files: list[Path]) -> list[tuple[datetime, Path, dict[str, Any]]]:
    """Each revision with its commit time; a draft sits halfway between its neighbours."""
    metas = [_front_matter(p) for p in files]
    times = [_published_at(m) for m in metas]
    dated = []
    for i, (path, meta) in enumerate(zip(files, metas, strict=True)):
        at = times[i]
        if at is None:
            before = next((t for t in reversed(times[:i]) if t), EPOCH)
            after = next((t for t in times[i + 1 :] if t), before + timedelta(days=2))
            at = times[i] = before + (after - before) / 2
        dated.append((at, path, meta))
    return dated


def write_git_repository(runbooks_dir: str | Path, dest: str | Path) -> Path:
    """Turn a folder repository (runbooks/<runbook_id>/<revision>.md) into a git repository.

    Each revision becomes one commit of ``<runbook_id>.md`` at the repository root, tagged
    ``<runbook_id>/<revision>``, authored by its approver (or ``u-unknown`` for drafts) at its
    publication time; a draft is dated halfway between its neighbours. Commits are in time order,
    and the same folder always gives the same commit ids.
    """
    src, dest = Path(runbooks_dir), Path(dest)
    revisions = sorted(src.glob("*/*.md"))
    if not revisions:
        raise DigestkitError(f"{src}: no <runbook_id>/<revision>.md files to commit")
    if dest.exists() and any(dest.iterdir()):
        raise DigestkitError(f"{dest} is not empty; choose a new directory for the git repository")
    entries = []
    for runbook in sorted({p.parent.name for p in revisions}):
        files = sorted(
            (p for p in revisions if p.parent.name == runbook), key=lambda p: natural_key(p.stem)
        )
        entries += [(at, runbook, path, meta) for at, path, meta in _dated(files)]
    dest.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(dest),
        "TZ": "UTC",
    }

    def git(*args: str, **extra: str) -> None:
        proc = subprocess.run(
            ["git", "-C", str(dest), *args],
            env=env | extra,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            raise DigestkitError(f"git {args[0]} failed in {dest}: {proc.stderr.strip()}")

    git("init", "-q", "-b", "main")
    for at, runbook, path, meta in sorted(entries, key=lambda e: (e[0], e[1])):
        shutil.copyfile(path, dest / f"{runbook}.md")
        who = str(meta.get("approved_by") or "u-unknown")
        stamp = as_utc(at).strftime(GIT_DATE_FORMAT)
        ident = {
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": f"{who}@example.invalid",
            "GIT_COMMITTER_NAME": who,
            "GIT_COMMITTER_EMAIL": f"{who}@example.invalid",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        git("add", f"{runbook}.md")
        message = f"{runbook} {path.stem} ({meta.get('status')}): {meta.get('change_reason')}"
        git("-c", "commit.gpgsign=false", "commit", "-q", "-m", message, **ident)
        git("tag", f"{runbook}/{path.stem}")
    return dest
