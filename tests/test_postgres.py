"""digestkit against a real PostgreSQL CRM in native column types (DATE, BOOLEAN, TIMESTAMPTZ,
INTEGER): the same digest JSON as the SQLite sample for every published revision, the event
pipeline (run, clarify, audit verify) on it, a read-only streaming replica, and a one-line error
naming what is missing when the driver, the server or the database is.

The server is the session's throwaway cluster (``pg_cluster`` in conftest.py).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from postgres_cluster import Cluster

from digestkit import cli, sources
from digestkit.digest import build_digest

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"


def data_dir(folder: Path, crm_url: str) -> Path:
    """The sample world without its SQLite CRM, reading the CRM from ``crm_url`` instead."""
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("crm.sqlite"))
    (folder / "sources.toml").write_text(f"crm_url = {json.dumps(crm_url)}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pg_data(pg_crm_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return data_dir(tmp_path_factory.mktemp("pg") / "data", pg_crm_url)


@pytest.fixture(scope="module")
def replica(pg_cluster: Cluster, pg_crm_url: str) -> Iterator[Cluster]:
    """A hot standby of the session's cluster, taken after the CRM was loaded."""
    standby = pg_cluster.replica()
    try:
        yield standby
    finally:
        standby.stop()
        shutil.rmtree(standby.folder, ignore_errors=True)


def digest_json(ref: str, data: Path) -> str:
    runbook_id, revision = ref.split("@")
    return json.dumps(build_digest(runbook_id, revision, data=data).to_dict(), indent=1)


def test_the_crm_is_loaded_in_native_types(pg_crm_url: str) -> None:
    with sa.create_engine(pg_crm_url).connect() as conn:
        types = dict(
            conn.execute(
                sa.text(
                    "SELECT table_name || '.' || column_name, data_type"
                    " FROM information_schema.columns WHERE table_schema = 'public'"
                )
            ).all()
        )
        counts = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("accounts", "contacts", "entitlements", "column_catalog")
        }
    assert types["entitlements.starts_on"] == "date"
    assert types["entitlements.ends_on"] == "date"
    assert types["entitlements.updated_at"] == "timestamp with time zone"
    assert types["accounts.updated_at"] == "timestamp with time zone"
    assert types["entitlements.initial_response_minutes"] == "integer"
    assert types["column_catalog.sensitive"] == "boolean"
    lite = sqlite3.connect(SAMPLE / "crm.sqlite")
    try:
        assert counts == {
            t: lite.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts
        }
    finally:
        lite.close()


def _published_revisions() -> list[str]:
    """Every published revision of the sample."""
    revisions = sources.load_revisions(SAMPLE)
    published = revisions[revisions["status"] == "published"]
    return [f"{r.runbook_id}@{r.revision}" for r in published.itertuples()]


@pytest.mark.parametrize("ref", _published_revisions())
def test_every_published_revision_digests_as_on_sqlite(ref: str, pg_data: Path) -> None:
    assert digest_json(ref, pg_data) == digest_json(ref, SAMPLE)


def test_run_clarify_and_audit_verify_work_against_postgresql(
    pg_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    ref = "premium-s1-escalation@r7"
    run = cli.main(["run", "--data", str(pg_data), "--workspace", str(workspace)])
    err = capsys.readouterr().err
    assert run == 0, err
    # A digest for each publication event whose revision is still published (not withdrawn).
    revisions = sources.load_revisions(SAMPLE)
    still = {
        f"{r.runbook_id}@{r.revision}" for r in revisions.itertuples() if r.status == "published"
    }
    expected = {f"{e['runbook_id']}@{e['revision']}" for e in _published_events()} & still
    assert {p.name for p in (workspace / "digests").iterdir()} == expected
    posted = json.loads((workspace / "digests" / ref / "digest.json").read_text())
    assert posted == json.loads(digest_json(ref, SAMPLE))
    note = "Bridge owner for Notifications Gateway confirmed with Messaging Platform."
    clarify = ["clarify", ref, "--author", "u-lead", "--text", note, "--workspace", str(workspace)]
    assert cli.main(clarify) == 0, capsys.readouterr().err
    assert note in (workspace / "digests" / ref / "digest.html").read_text()
    assert cli.main(["audit", "verify", "--workspace", str(workspace)]) == 0, (
        capsys.readouterr().err
    )


def _published_events() -> list[dict]:
    lines = sources.iter_feed(SAMPLE / "feed" / "events.jsonl")
    return [ln.event for ln in lines if ln.event and ln.event["type"] == "runbook.published"]


def test_the_replica_is_read_only_and_has_the_crm(replica: Cluster) -> None:
    # The premise of the replica tests: a write fails there, the loaded rows are readable.
    with sa.create_engine(replica.url("crm")).connect() as conn:
        assert conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one() is True
        assert conn.execute(sa.text("SELECT count(*) FROM entitlements")).scalar_one() > 0
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text("CREATE TEMPORARY TABLE t (x int)"))


def test_a_read_only_replica_gives_the_same_digest(replica: Cluster, tmp_path: Path) -> None:
    data = data_dir(tmp_path / "data", replica.url("crm"))
    ref = "premium-s1-escalation@r7"
    assert digest_json(ref, data) == digest_json(ref, SAMPLE)


def test_a_read_only_replica_filters_long_id_lists(replica: Cluster, tmp_path: Path) -> None:
    # More ids than sources.MAX_IN_LIST: today's loader writes them into a temporary table.
    data = data_dir(tmp_path / "data", replica.url("crm"))
    ids = sources.load_accounts(SAMPLE, columns=["account_id"])["account_id"].tolist()
    assert len(ids) > sources.MAX_IN_LIST
    on_replica = sources.load_entitlements(data, account_ids=ids, active_on="2026-06-01")
    on_sqlite = sources.load_entitlements(SAMPLE, account_ids=ids, active_on="2026-06-01")
    pd.testing.assert_frame_equal(on_replica, on_sqlite)


def _digest_cli(data: Path, *, block_driver: bool = False) -> subprocess.CompletedProcess[str]:
    """`digestkit digest` in a fresh interpreter; ``block_driver`` hides psycopg from it."""
    code = "import sys\n"
    if block_driver:
        code += "sys.modules['psycopg'] = None  # import psycopg now fails as if not installed\n"
    code += "from digestkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    args = ["digest", "--runbook", "premium-s1-escalation", "--revision", "r7", "--data", str(data)]
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], *names: str, secret: str) -> None:
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digestkit: error:"), proc.stderr
    for name in names:
        assert name in lines[0]
    assert secret not in proc.stderr


def test_a_missing_driver_is_one_line_naming_the_extra(pg_cluster: Cluster, tmp_path: Path) -> None:
    data = data_dir(tmp_path / "data", pg_cluster.url("crm"))
    proc = _digest_cli(data, block_driver=True)
    _one_line_error(proc, "psycopg", "digestkit[postgres]", secret=pg_cluster.password)


def test_a_server_that_is_down_is_one_line_naming_it(pg_cluster: Cluster, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound here, never listened on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = pg_cluster.url("crm").replace(f":{pg_cluster.port}/", f":{port}/")
        proc = _digest_cli(data_dir(tmp_path / "data", url))
    _one_line_error(proc, f"127.0.0.1:{port}", secret=pg_cluster.password)


def test_an_unknown_database_is_one_line_naming_it(
    pg_cluster: Cluster, pg_crm_url: str, tmp_path: Path
) -> None:
    proc = _digest_cli(data_dir(tmp_path / "data", pg_cluster.url("no_such_crm")))
    _one_line_error(proc, "no_such_crm", secret=pg_cluster.password)
