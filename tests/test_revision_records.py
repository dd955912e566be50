"""Revisions and registry names read without pandas agree with the tables the loaders build."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import RUNBOOK, revision_text

from digestkit import sources as S
from digestkit.diff import diff_revisions
from digestkit.exceptions import RevisionError, SourceError
from digestkit.sample import write_git_repository
from digestkit.sources.config import SAMPLE_DATA


def _as_rows(records: list[S.Revision]) -> list[dict[str, object]]:
    return [
        vars(r) | {"published_at": None if r.published_at is None else pd.Timestamp(r.published_at)}
        for r in records
    ]


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): v for k, v in row.items()} for row in rows]


@pytest.fixture(scope="module")
def git_sources(tmp_path_factory: pytest.TempPathFactory) -> S.DataSources:
    repo = write_git_repository(
        SAMPLE_DATA / "runbooks",
        tmp_path_factory.mktemp("git") / "repo",
        feed=SAMPLE_DATA / "feed" / "events.jsonl",
    )
    return S.DataSources(**{**vars(S.open_sources(SAMPLE_DATA)), "runbooks": repo})


@pytest.mark.parametrize("as_of", [None, "2026-03-01T00:00:00Z", "2026-08-01"])
@pytest.mark.parametrize("runbook_id", [None, "premium-s1-escalation"])
def test_records_are_the_rows_of_the_revisions_table(
    git_sources: S.DataSources, runbook_id: str | None, as_of: str | None
) -> None:
    for src in (S.open_sources(SAMPLE_DATA), git_sources):
        records = S.revision_records(src, runbook_id=runbook_id, as_of=as_of)
        frame = S.load_revisions(src, runbook_id=runbook_id, as_of=as_of)
        assert records, "the sample has revisions at every time tried"
        assert _as_rows(records) == _frame_rows(frame)


def test_a_record_is_the_row_get_revision_gives(git_sources: S.DataSources) -> None:
    record = S.read_revision(git_sources, "premium-s1-escalation", "r9")
    row = S.get_revision(git_sources, "premium-s1-escalation", "r9")
    assert _as_rows([record]) == _frame_rows(row.to_frame().T)
    assert record.key == ("premium-s1-escalation", "r9") and record.status == "published"


def test_revision_states_are_the_rows_of_revision_history(git_sources: S.DataSources) -> None:
    states = S.revision_states(git_sources, "premium-s1-escalation", "r9")
    history = S.revision_history(git_sources, "premium-s1-escalation", "r9")
    assert [s.status for s in states] == ["draft", "published"]  # committed, then published
    assert [s.commit for s in states] == history["commit"].tolist()
    assert [pd.Timestamp(s.committed_at) for s in states] == history["committed_at"].tolist()


def test_records_refuse_what_the_tables_refuse(tiny_world: Path) -> None:
    for read in (S.read_revision, S.get_revision):
        with pytest.raises(RevisionError, match="unknown revision 'r9' of premium-s1-escalation"):
            read(tiny_world, RUNBOOK, "r9")
        with pytest.raises(RevisionError, match="unknown runbook 'nope'"):
            read(tiny_world, "nope", "r1")


def test_a_publication_time_that_is_not_iso_8601_is_a_problem(tiny_world: Path) -> None:
    path = tiny_world / "runbooks" / RUNBOOK / "r2.md"
    text = revision_text(RUNBOOK, "r2", "published", "r1", "u1", "'May 1 2024'", "1. Step.\n")
    path.write_text(text, "utf-8")
    with pytest.raises(RevisionError, match="field 'published_at': is not an ISO-8601 timestamp"):
        S.read_revision(tiny_world, RUNBOOK, "r2")


def _names_from_tables(src: Path) -> S.RegistryNames:
    products, teams = S.load_products(src), S.load_teams(src)
    return S.RegistryNames(
        products["product_name"].tolist(),
        teams["team"].tolist(),
        teams["display_name"].tolist(),
        teams["pager"].tolist(),
    )


def _rewrite_cell(path: Path, column: str, value: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[-1][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_registry_names_are_the_loaders_names(tiny_world: Path) -> None:
    for world in (tiny_world, SAMPLE_DATA):
        assert S.registry_names(world) == _names_from_tables(world)


def test_a_time_only_the_loader_reads_gives_the_loaders_names(tiny_world: Path) -> None:
    # Not the strict ISO form registry_names reads itself: the full loader reads the file.
    _rewrite_cell(tiny_world / "registry" / "teams.csv", "recorded_at", "2030-01-01 00:00:00Z")
    assert S.registry_names(tiny_world) == _names_from_tables(tiny_world)


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("products", "status", "gone"), ("teams", "recorded_at", "soon"), ("teams", "pager", "")],
)
def test_a_broken_registry_fails_a_diff_with_the_loaders_error(
    tiny_world: Path, table: str, column: str, value: str
) -> None:
    _rewrite_cell(tiny_world / "registry" / f"{table}.csv", column, value)
    load = S.load_products if table == "products" else S.load_teams
    with pytest.raises(SourceError) as expected:
        load(tiny_world)
    with pytest.raises(SourceError) as raised:
        diff_revisions(RUNBOOK, "r1", "r2", data=tiny_world)
    assert str(raised.value) == str(expected.value)


def test_reading_revisions_and_names_imports_no_pandas_or_sqlalchemy() -> None:
    probe = (
        "import sys\n"
        "from digestkit import sources\n"
        "sources.read_revision(None, 'premium-s1-escalation', 'r9')\n"
        "sources.registry_names(None)\n"
        "print(sorted(m for m in ('pandas', 'sqlalchemy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
