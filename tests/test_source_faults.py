"""Faults and hostile input at the sources: database faults, unreadable revision files, limits,
values never echoed, ambiguous registry names. Every input is written here for the purpose."""

from __future__ import annotations

import socket
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import OTHER, RUNBOOK, revision_text

from digestkit import sources as S
from digestkit.cli import main
from digestkit.digest import build_digest
from digestkit.exceptions import RevisionError, SourceError


def one_line_error(func, *args, **kwargs) -> str:
    """The SourceError ``func`` raises, checked to be one line without SQL."""
    with pytest.raises(SourceError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "SELECT" not in message.upper(), message
    return message


def set_crm_url(world: Path, url: str) -> None:
    (world / "sources.toml").write_text(f'crm_url = "{url}"\n')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- database faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"account_id,tier\nACC-1,Premium\n", "not a readable SQLite database"),
        (b"", "table is missing from the CRM database"),
    ],
    ids=["text file", "empty file"],
)
def test_a_crm_file_that_is_not_a_database(tiny_world, content, reason):
    (tiny_world / "crm.sqlite").write_bytes(content)
    for loader in (S.load_accounts, S.load_entitlements, S.count_entitlement_accounts):
        message = one_line_error(loader, tiny_world)
        assert message.startswith("crm.sqlite:") and reason in message


def test_a_corrupt_crm_file(tiny_world):
    path = tiny_world / "crm.sqlite"
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the first is garbage
    path.write_bytes(bytes(data))
    message = one_line_error(S.load_entitlements, tiny_world)
    assert message.startswith("crm.sqlite:entitlements") and "not a readable SQLite" in message
    assert "restore the CRM file" in message


def test_a_missing_crm_table_says_which_database_is_wanted(tiny_world):
    con = sqlite3.connect(tiny_world / "crm.sqlite")
    con.execute("DROP TABLE entitlements")
    con.commit()
    con.close()
    message = one_line_error(S.count_entitlement_accounts, tiny_world, group_by=["tier"])
    assert message.startswith("crm.sqlite:entitlements") and "table is missing" in message
    assert "accounts, contacts, entitlements" in message
    assert "table is missing" in one_line_error(S.summarize, tiny_world)


def test_a_locked_crm_database(tiny_world):
    # timeout=0: fail at once instead of waiting the driver's default 5 s for the lock.
    set_crm_url(tiny_world, "sqlite:///crm.sqlite?timeout=0")
    writer = sqlite3.connect(tiny_world / "crm.sqlite", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        message = one_line_error(S.load_accounts, tiny_world)
        assert message.startswith("crm.sqlite:accounts") and "locked by another program" in message
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert len(S.load_accounts(tiny_world)) == 4  # the same engine reads once the lock is gone


def test_cli_prints_a_database_fault_as_one_line(tiny_world, capsys):
    (tiny_world / "crm.sqlite").write_text("not a database\n")
    assert main(["sources", "--data", str(tiny_world)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "crm.sqlite" in err and "not a readable SQLite database" in err


def test_a_missing_postgres_driver_names_the_extra(tiny_world, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    set_crm_url(tiny_world, f"postgresql://crm:s3cret@127.0.0.1:{free_port()}/nodriver")
    message = one_line_error(S.load_accounts, tiny_world)
    assert "pip install 'digestkit[postgres]'" in message
    assert "s3cret" not in message and "crm:***@127.0.0.1" in message


def test_a_postgres_server_that_is_down(tiny_world):
    pytest.importorskip("psycopg", reason="needs the digestkit[postgres] driver")
    set_crm_url(tiny_world, f"postgresql://crm:s3cret@127.0.0.1:{free_port()}/down")
    for loader in (S.load_entitlements, S.count_entitlement_accounts):
        message = one_line_error(loader, tiny_world)
        assert message.startswith("postgresql://crm:***@127.0.0.1:") and "s3cret" not in message
        assert "cannot reach the CRM database server" in message


def test_catalog_sensitivity_is_read_as_a_flag_and_fails_closed(tiny_world):
    con = sqlite3.connect(tiny_world / "crm.sqlite")

    def mark(value) -> list[str]:
        con.execute(
            "UPDATE column_catalog SET sensitive = ? "
            "WHERE table_name = 'accounts' AND column_name = 'region'",
            (value,),
        )
        con.commit()
        return list(S.load_accounts(tiny_world).columns)

    assert "region" in mark(0) and "region" in mark("false") and "region" in mark(None)
    for value in (1, "1", "true", "TRUE", "yes", "maybe"):
        assert "region" not in mark(value), value
    con.close()


def test_sqlite_columns_declared_date_and_datetime_still_compare_as_iso_text(tiny_world):
    path = tiny_world / "crm.sqlite"
    expected = {
        "accounts": S.load_accounts(tiny_world, as_of="2024-02-15T00:00:00Z"),
        "active": S.load_entitlements(tiny_world, active_on="2024-06-01", as_of="2024-02-10"),
        "counts": S.count_entitlement_accounts(
            tiny_world, active_on="2024-06-01", as_of="2024-02-10", group_by=["tier"]
        ),
    }
    con = sqlite3.connect(path)
    for table in ("accounts", "entitlements"):
        declared = {"date": "DATE", "datetime": "DATETIME"}
        columns = [f"{c.name} {declared.get(c.dtype, '')}" for c in S.SCHEMAS[table]]
        con.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
        con.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        con.execute(f"INSERT INTO {table} SELECT * FROM old_{table}")
        con.execute(f"DROP TABLE old_{table}")
    con.commit()
    con.close()
    pd.testing.assert_frame_equal(
        S.load_accounts(tiny_world, as_of="2024-02-15T00:00:00Z"), expected["accounts"]
    )
    pd.testing.assert_frame_equal(
        S.load_entitlements(tiny_world, active_on="2024-06-01", as_of="2024-02-10"),
        expected["active"],
    )
    pd.testing.assert_frame_equal(
        S.count_entitlement_accounts(
            tiny_world, active_on="2024-06-01", as_of="2024-02-10", group_by=["tier"]
        ),
        expected["counts"],
    )


# --- revision files that cannot be read ----------------------------------------------------------


def draft(revision: str, front: str = "", body: str = "1. Page payments-oncall.\n") -> str:
    text = revision_text(RUNBOOK, revision, "draft", "r2", None, None, body)
    return text.replace("---\n", f"---\n{front}", 1) if front else text


def test_an_alias_bomb_in_a_draft_costs_nothing_and_breaks_nothing_else(tiny_world):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    path = tiny_world / "runbooks" / RUNBOOK / "r4.md"
    path.write_text(draft("r4", bomb))
    (problem,) = S.revision_problems(tiny_world)
    message = str(problem.error)
    assert str(path) in message and "aliases" in message and "[x, x" not in message
    assert problem.key == (RUNBOOK, "r4")
    assert list(S.load_revisions(tiny_world, runbook_id=RUNBOOK)["revision"]) == ["r1", "r2", "r3"]
    assert build_digest(RUNBOOK, "r2", data=tiny_world).header.baseline == "r1"


def test_a_revision_over_the_size_limit_is_reported_and_skipped(tiny_world):
    path = tiny_world / "runbooks" / RUNBOOK / "r4.md"
    path.write_text(draft("r4", body="Page payments-oncall. " * 200))
    assert "r4" in set(S.load_revisions(tiny_world)["revision"])  # under the 5 MiB default
    (tiny_world / "sources.toml").write_text("max_revision_bytes = 2048\n")
    (problem,) = S.revision_problems(tiny_world)
    assert problem.key == (RUNBOOK, "r4") and "over the 2048-byte limit" in str(problem.error)
    assert list(S.load_revisions(tiny_world, runbook_id=RUNBOOK)["revision"]) == ["r1", "r2", "r3"]
    with pytest.raises(RevisionError, match="over the 2048-byte limit"):
        S.get_revision(tiny_world, RUNBOOK, "r4")
    for bad in ('"5MB"', "0", "true"):
        (tiny_world / "sources.toml").write_text(f"max_revision_bytes = {bad}\n")
        message = one_line_error(S.open_sources, tiny_world)
        assert "sources.toml" in message and "field 'max_revision_bytes'" in message


def test_unreadable_files_are_each_reported_and_the_rest_loads(tiny_world):
    runbooks = tiny_world / "runbooks"
    (runbooks / RUNBOOK / "r4.md").write_bytes(b"---\nrunbook_id: x\xff\n---\n")
    (runbooks / OTHER / "r3.md").write_text("---\nrunbook_id: standard-s2-triage\n")  # unclosed
    (runbooks / "README.md").write_text("# Our runbooks\n")  # not a revision: ignored
    (runbooks / OTHER / "old").mkdir()
    (runbooks / OTHER / "old" / "r0.md").write_text(draft("r0"))
    problems = S.revision_problems(tiny_world)
    assert [(Path(p.error.path).name, p.key) for p in problems] == [
        ("r4.md", (RUNBOOK, "r4")),
        ("r0.md", None),
        ("r3.md", (OTHER, "r3")),
    ]
    assert "not UTF-8" in str(problems[0].error)
    assert "not at <runbook_id>/<revision>.md" in str(problems[1].error)
    assert "no closing '---'" in str(problems[2].error)
    assert len(S.load_revisions(tiny_world)) == 5
    summary = S.summarize(tiny_world)
    assert "3 file(s) not read" in summary and "README" not in summary


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("status: draft", "status: TOP-SECRET-VALUE", "status"),
        ("revision: r4", "revision: 4242424242", "revision"),
        ("published_at: null", "published_at: TOP-SECRET-VALUE", "published_at"),
        ("title: Severity-1 Escalation Runbook", "title: [TOP-SECRET-VALUE]", "title"),
        ("supersedes: r2", "supersedes: TOP-SECRET-VALUE", "supersedes"),
    ],
)
def test_revision_errors_name_the_field_and_rule_never_the_value(tiny_world, old, new, field):
    path = tiny_world / "runbooks" / RUNBOOK / "r4.md"
    path.write_text(draft("r4").replace(old, new))
    (problem,) = S.revision_problems(tiny_world)
    message = str(problem.error)
    assert str(path) in message and f"field '{field}'" in message and "front matter line" in message
    assert "TOP-SECRET-VALUE" not in message and "4242424242" not in message


def test_crm_errors_never_echo_the_value(tiny_world):
    con = sqlite3.connect(tiny_world / "crm.sqlite")
    con.execute(
        "UPDATE entitlements SET starts_on = 'Globex private terms'"
        " WHERE entitlement_id = 'ENT-0000002'"
    )
    con.commit()
    con.close()
    message = one_line_error(S.load_entitlements, tiny_world)
    assert "entitlement_id ENT-0000002" in message and "field 'starts_on'" in message
    assert "Globex" not in message and "is not a date" in message
    message = one_line_error(S.load_accounts, tiny_world, as_of="next thursday")
    assert "field 'as_of'" in message and "thursday" not in message


# --- ambiguous registry names --------------------------------------------------------------------


def test_two_products_with_one_name_are_both_cited(tiny_world):
    products = tiny_world / "registry" / "products.csv"
    with products.open("a") as handle:
        handle.write(
            "PRD-PAYAPI2,payments  API,ledger-eng,ledger-oncall,2024-02-01T00:00:00Z,"
            "2024-02-01T00:00:00Z,active,2024-02-01T00:00:00Z\n"
        )
    teams = tiny_world / "registry" / "teams.csv"
    with teams.open("a") as handle:
        handle.write("ledger-ops,Ledger Engineering,ledger-ops-oncall,2024-02-20T00:00:00Z\n")
    clash = S.name_conflicts(S.load_products(tiny_world), "products")
    assert list(clash["product_id"]) == ["PRD-PAYAPI", "PRD-PAYAPI2"]
    assert set(clash["name_key"]) == {"payments api"}
    assert list(clash["recorded_at"].dt.strftime("%Y-%m-%d")) == ["2024-02-15", "2024-02-01"]
    # Names in force at as_of: before the second product was recorded there is no conflict.
    assert S.name_conflicts(S.load_products(tiny_world, as_of="2024-01-20"), "products").empty
    assert list(S.name_conflicts(S.load_teams(tiny_world), "teams")["team"]) == [
        "ledger-eng",
        "ledger-ops",
    ]
    summary = S.summarize(tiny_world)
    assert "ambiguous: 2 products named 'Payments API' (PRD-PAYAPI, PRD-PAYAPI2)" in summary
    assert "ambiguous: 2 teams named 'Ledger Engineering' (ledger-eng, ledger-ops)" in summary
