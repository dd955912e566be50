"""Loaders of digestkit.sources on a tiny world written by conftest, and on the sample world."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import OTHER, RUNBOOK, write_git_runbooks

from digestkit import sources as S
from digestkit.exceptions import RevisionError, SourceError

REPO = Path(__file__).resolve().parents[1]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def sql(world: Path, *statements: str) -> None:
    con = sqlite3.connect(world / "crm.sqlite")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


def raises(func, *args, **kwargs) -> str:
    with pytest.raises(SourceError) as info:
        func(*args, **kwargs)
    return str(info.value)


# --- open_sources --------------------------------------------------------------------------------


def test_open_sources_finds_the_layout(tiny_world):
    src = S.open_sources(tiny_world)
    assert src.root == tiny_world.resolve()
    assert src.runbooks == tiny_world / "runbooks" and not src.runbooks_are_git
    assert src.crm_url == f"sqlite:///{tiny_world / 'crm.sqlite'}"
    assert src.exceptions.name == "register.csv" and src.feed.name == "events.jsonl"
    assert src.gold == tiny_world / "gold" / "labels.json"
    assert S.open_sources(src) is src


def test_open_sources_names_what_is_missing(tiny_world, tmp_path):
    assert "does not exist" in raises(S.open_sources, tmp_path / "nowhere")
    shutil.rmtree(tiny_world / "registry")
    message = raises(S.open_sources, tiny_world)
    assert "registry" in message and "not found" in message
    (tiny_world / "registry").mkdir()
    (tiny_world / "crm.sqlite").unlink()
    assert "crm.sqlite" in raises(S.open_sources, tiny_world)


def test_open_sources_reads_digestkit_data(tiny_world, monkeypatch):
    monkeypatch.setenv("DIGESTKIT_DATA", str(tiny_world))
    assert S.open_sources().root == tiny_world.resolve()
    assert len(S.load_teams()) == 3


def test_open_sources_without_gold_is_fine(tiny_world):
    shutil.rmtree(tiny_world / "gold")
    assert S.open_sources(tiny_world).gold is None


def test_sources_toml_relocates_sources_and_any_sqlalchemy_url_works(tiny_world, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(tiny_world / "crm.sqlite", elsewhere / "customers.db")
    (tiny_world / "crm.sqlite").unlink()
    shutil.move(tiny_world / "feed" / "events.jsonl", tiny_world / "feed" / "moved.jsonl")
    (tiny_world / "sources.toml").write_text(
        f'crm_url = "sqlite:///{elsewhere / "customers.db"}"\nfeed = "feed/moved.jsonl"\n'
    )
    src = S.open_sources(tiny_world)
    assert src.crm_url.endswith("customers.db") and src.feed.name == "moved.jsonl"
    assert list(S.load_accounts(src)["account_id"]) == [
        "ACC-000001",
        "ACC-000002",
        "ACC-000003",
        "ACC-000004",
    ]
    assert len(S.load_feed(src)) == 5


def test_sources_toml_relative_sqlite_path_is_resolved_against_root(tiny_world):
    shutil.move(tiny_world / "crm.sqlite", tiny_world / "crm2.sqlite")
    (tiny_world / "sources.toml").write_text('crm_url = "sqlite:///crm2.sqlite"\n')
    assert len(S.load_entitlements(tiny_world)) == 5


def test_sources_toml_errors(tiny_world):
    toml = tiny_world / "sources.toml"
    toml.write_text('crm = "sqlite:///x.db"\n')
    message = raises(S.open_sources, tiny_world)
    assert "sources.toml" in message and "field 'crm'" in message and "unknown key" in message
    toml.write_text('registry = "nope"\n')
    message = raises(S.open_sources, tiny_world)
    assert "nope" in message and "sources.toml" in message
    toml.write_text("registry = \n")
    assert "not valid TOML" in raises(S.open_sources, tiny_world)


# --- runbook repository --------------------------------------------------------------------------


def test_load_revisions_folder(tiny_world):
    frame = S.load_revisions(tiny_world)
    assert list(frame.columns) == [c.name for c in S.SCHEMAS["revisions"]]
    assert list(zip(frame["runbook_id"], frame["revision"], frame["seq"], strict=True)) == [
        (RUNBOOK, "r1", 1),
        (RUNBOOK, "r2", 2),
        (RUNBOOK, "r3", 3),
        (OTHER, "r1", 1),
        (OTHER, "r2", 2),
    ]
    assert frame["status"].dtype == pd.CategoricalDtype(S.REVISION_STATUSES)
    assert str(frame["published_at"].dt.tz) == "UTC"
    assert frame["runbook_id"].dtype == "string"
    r2 = S.get_revision(tiny_world, RUNBOOK, "r2")
    assert r2["supersedes"] == "r1" and r2["approved_by"] == "j.doe"
    assert r2["published_at"] == pd.Timestamp("2024-03-01T10:00:00Z")
    assert r2["path"] == f"{RUNBOOK}/r2.md"
    assert r2["text"].startswith("---\nrunbook_id:") and "Page payments-oncall" in r2["text"]
    data = (tiny_world / "runbooks" / RUNBOOK / "r2.md").read_bytes()
    assert r2["sha256"] == hashlib.sha256(data).hexdigest()
    draft = S.get_revision(tiny_world, RUNBOOK, "r3")
    assert draft["status"] == "draft" and pd.isna(draft["published_at"])


def test_revisions_sort_naturally(tiny_world):
    from conftest import revision_text

    folder = tiny_world / "runbooks" / RUNBOOK
    previous = "r3"
    for n in range(4, 12):
        (folder / f"r{n}.md").write_text(
            revision_text(RUNBOOK, f"r{n}", "draft", previous, None, None, "text\n")
        )
        previous = f"r{n}"
    frame = S.load_revisions(tiny_world, runbook_id=RUNBOOK)
    assert list(frame["revision"]) == [f"r{n}" for n in range(1, 12)]
    assert list(frame["seq"]) == list(range(1, 12))


def test_load_revisions_filters(tiny_world):
    assert set(S.load_revisions(tiny_world, runbook_id=OTHER)["revision"]) == {"r1", "r2"}
    before_r2 = S.load_revisions(tiny_world, runbook_id=RUNBOOK, as_of="2024-02-01T00:00:00Z")
    # r2 was published after as_of and is hidden; the draft r3 has no publication time and stays.
    assert list(before_r2["revision"]) == ["r1", "r3"]
    assert list(before_r2["seq"]) == [1, 3]
    with pytest.raises(RevisionError, match=r"unknown runbook 'nope'.*premium-s1-escalation"):
        S.load_revisions(tiny_world, runbook_id="nope")
    with pytest.raises(
        RevisionError, match=r"unknown revision 'r9'.*r1 \(published\).*r3 \(draft\)"
    ):
        S.get_revision(tiny_world, RUNBOOK, "r9")


def test_folder_and_git_repositories_give_identical_revisions(tiny_world, tmp_path):
    folder = S.load_revisions(tiny_world)
    write_git_runbooks(tiny_world / "runbooks", tmp_path / "git-runbooks")
    (tiny_world / "sources.toml").write_text(f'runbooks = "{tmp_path / "git-runbooks"}"\n')
    src = S.open_sources(tiny_world)
    assert src.runbooks_are_git
    git = S.load_revisions(src)
    # Same paths too (the tree keeps the folder layout), so digests hash the same table.
    pd.testing.assert_frame_equal(folder, git)
    assert (
        S.get_revision(src, RUNBOOK, "r2")["text"]
        == S.get_revision(tiny_world, RUNBOOK, "r2")["text"]
    )


def test_git_fix_of_a_revision_in_place_is_its_latest_state(tiny_world, tmp_path):
    repo = tmp_path / "git-runbooks"
    write_git_runbooks(tiny_world / "runbooks", repo)
    edit(repo / OTHER / "r2.md", "Call the customer.", "Call the customer twice.")
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@x",
            "commit",
            "-qam",
            "fix r2 in place",
        ],
        check=True,
    )
    (tiny_world / "sources.toml").write_text(f'runbooks = "{repo}"\n')
    fixed = S.get_revision(tiny_world, OTHER, "r2")
    assert "Call the customer twice." in fixed["text"] and fixed["status"] == "withdrawn"
    assert len(S.load_revisions(tiny_world, strict=True)) == 5
    history = S.revision_history(tiny_world, OTHER, "r2")
    assert len(history) == 2 and history["sha256"].iloc[-1] == fixed["sha256"]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "reason"),
    [
        (
            "change_reason: Update r2\n---\n",
            "change_reason: Update r2\n",
            "line 1",
            None,
            "no closing '---'",
        ),
        (
            "title: Severity-1 Escalation Runbook",
            "title: [unclosed",
            "line 5 (in what starts on line 4)",
            None,
            "invalid YAML",
        ),
        ("title: Severity-1 Escalation Runbook", "title: a: b", "line 4", None, "invalid YAML"),
        ("approved_by: j.doe\n", "", "line 9", "approved_by", "missing front matter key"),
        (
            "approved_by: j.doe\n",
            "approved_by: j.doe\nowner: x\n",
            "line 8",
            "owner",
            "unknown front matter key",
        ),
        (
            f"runbook_id: {RUNBOOK}",
            "runbook_id: other-runbook",
            "line 2",
            "runbook_id",
            "does not match its folder",
        ),
        ("revision: r2", "revision: r5", "line 3", "revision", "does not match its file name"),
        ("status: published", "status: live", "line 5", "status", "is not one of draft"),
        (
            "published_at: 2024-03-01T10:00:00Z",
            "published_at: last tuesday",
            "line 8",
            "published_at",
            "not an ISO-8601 timestamp",
        ),
        (
            "published_at: 2024-03-01T10:00:00Z",
            "published_at: null",
            "line 8",
            "published_at",
            "a published revision needs it",
        ),
        ("supersedes: r1", "supersedes: r0", "line 6", "supersedes", "does not have"),
        ("title: Severity-1 Escalation Runbook", "title:", "line 4", "title", "is empty"),
        ("revision: r2", "revision: 2", "line 3", "revision", "must be text"),
    ],
)
def test_broken_front_matter(tiny_world, old, new, line, field, reason):
    path = tiny_world / "runbooks" / RUNBOOK / "r2.md"
    edit(path, old, new)
    message = raises(S.load_revisions, tiny_world, strict=True)
    assert str(path) in message and f"front matter {line}" in message and reason in message
    if field:
        assert f"field '{field}'" in message
    # Not strict: the broken file is reported and left out, every other revision loads.
    (problem,) = S.revision_problems(tiny_world)
    assert str(problem.error) == message and problem.key == (RUNBOOK, "r2")
    revisions = S.load_revisions(tiny_world)
    assert list(zip(revisions["runbook_id"], revisions["revision"], strict=True)) == [
        (RUNBOOK, "r1"),
        (RUNBOOK, "r3"),
        (OTHER, "r1"),
        (OTHER, "r2"),
    ]
    with pytest.raises(RevisionError, match=r"premium-s1-escalation@r2 cannot be read: .*r2\.md"):
        S.get_revision(tiny_world, RUNBOOK, "r2")


def test_file_without_front_matter(tiny_world):
    path = tiny_world / "runbooks" / RUNBOOK / "r1.md"
    path.write_text("# just markdown\n")
    message = raises(S.load_revisions, tiny_world, strict=True)
    assert str(path) in message and "no front matter" in message
    assert "problem: " + message in S.summarize(tiny_world)


# --- CRM -----------------------------------------------------------------------------------------


def test_load_accounts_hides_sensitive_columns_unless_asked(tiny_world):
    accounts = S.load_accounts(tiny_world)
    assert list(accounts.columns) == ["account_id", "tier", "region", "record_status", "updated_at"]
    assert accounts["tier"].dtype == pd.CategoricalDtype(S.TIERS)
    assert str(accounts["updated_at"].dt.tz) == "UTC"
    full = S.load_accounts(tiny_world, include_sensitive=True)
    assert "account_name" in full.columns and full["account_name"].iloc[0] == "Acme Corp"
    assert S.sensitive_columns("accounts") == ("account_name",)
    message = raises(S.load_accounts, tiny_world, columns=["account_name"])
    assert "field 'account_name'" in message and "include_sensitive=True" in message


def test_column_catalog_can_mark_more_columns_sensitive(tiny_world):
    sql(
        tiny_world,
        "UPDATE column_catalog SET sensitive = 1"
        " WHERE table_name = 'accounts' AND column_name = 'region'",
    )
    assert "region" not in S.load_accounts(tiny_world).columns
    assert "region" in S.load_accounts(tiny_world, include_sensitive=True).columns


def test_load_accounts_filters(tiny_world):
    ids = lambda frame: list(frame["account_id"])  # noqa: E731
    assert ids(S.load_accounts(tiny_world, as_of="2024-02-12")) == ["ACC-000001", "ACC-000002"]
    # Exact bound: a record updated at as_of is visible, one second earlier it is not.
    assert "ACC-000003" in ids(S.load_accounts(tiny_world, as_of="2024-02-15T00:00:00Z"))
    assert "ACC-000003" not in ids(S.load_accounts(tiny_world, as_of="2024-02-14T23:59:59.5Z"))
    assert ids(S.load_accounts(tiny_world, tiers=["Premium"])) == ["ACC-000001", "ACC-000004"]
    assert "ACC-000003" not in ids(S.load_accounts(tiny_world, approved_only=True))
    assert ids(S.load_accounts(tiny_world, account_ids=["ACC-000004", "ACC-000009"])) == [
        "ACC-000004"
    ]
    picked = S.load_accounts(tiny_world, columns=["tier"])
    assert list(picked.columns) == ["account_id", "tier"]
    assert list(S.load_accounts(tiny_world, columns=["tier"], as_of="2024-03-01").columns) == [
        "account_id",
        "tier",
    ]
    assert "unknown tier 'Gold'" in raises(S.load_accounts, tiny_world, tiers=["Gold"])


def test_load_contacts(tiny_world):
    contacts = S.load_contacts(tiny_world)
    assert list(contacts.columns) == ["contact_id", "account_id", "role", "updated_at"]
    full = S.load_contacts(tiny_world, include_sensitive=True, account_ids=["ACC-000002"])
    assert list(full["email"]) == ["bob@globex.example"]


def test_load_entitlements_filters(tiny_world):
    ent = S.load_entitlements(tiny_world)
    assert "contract_clause" not in ent.columns
    assert ent["initial_response_minutes"].dtype == "Int64"
    assert ent["starts_on"].dtype == "datetime64[ns]" or str(ent["starts_on"].dtype).startswith(
        "datetime64["
    )
    assert ent["starts_on"].dt.tz is None
    assert pd.isna(ent.set_index("entitlement_id").loc["ENT-0000001", "notification_variant"])
    active = S.load_entitlements(
        tiny_world,
        active_on="2024-06-01",
        approved_only=True,
        product_ids=["PRD-PAYAPI"],
        as_of="2024-03-01",
    )
    assert list(active["entitlement_id"]) == ["ENT-0000001", "ENT-0000002"]
    assert list(S.load_entitlements(tiny_world, tiers=["Standard"])["entitlement_id"]) == [
        "ENT-0000004"
    ]
    clauses = S.load_entitlements(tiny_world, include_sensitive=True)["contract_clause"]
    assert clauses.iloc[1] == "Clause 9.1"


def test_large_product_id_lists_use_a_temporary_table(tiny_world):
    many = [f"PRD-X{i:04d}" for i in range(S.MAX_IN_LIST + 100)] + ["PRD-LEDGER"]
    large = S.load_entitlements(
        tiny_world, product_ids=many, account_ids=[f"ACC-{i:06d}" for i in range(1, 900)]
    )
    small = S.load_entitlements(tiny_world, product_ids=["PRD-LEDGER"])
    pd.testing.assert_frame_equal(large, small)
    assert list(small["entitlement_id"]) == ["ENT-0000003", "ENT-0000004"]
    # The temporary table is gone, so the same call works again on the pooled connection.
    pd.testing.assert_frame_equal(S.load_entitlements(tiny_world, product_ids=many), small)


@pytest.mark.parametrize(
    ("statement", "record", "field", "reason"),
    [
        (
            "UPDATE entitlements SET initial_response_minutes = 'fast'"
            " WHERE entitlement_id = 'ENT-0000002'",
            "entitlement_id ENT-0000002",
            "initial_response_minutes",
            "is not an integer",
        ),
        (
            "UPDATE entitlements SET update_interval_minutes = 7.5"
            " WHERE entitlement_id = 'ENT-0000003'",
            "entitlement_id ENT-0000003",
            "update_interval_minutes",
            "is not an integer",
        ),
        (
            "UPDATE entitlements SET tier = 'Gold' WHERE entitlement_id = 'ENT-0000004'",
            "entitlement_id ENT-0000004",
            "tier",
            "is not one of Standard",
        ),
        (
            "UPDATE entitlements SET product_id = NULL WHERE entitlement_id = 'ENT-0000005'",
            "entitlement_id ENT-0000005",
            "product_id",
            "is empty",
        ),
        (
            "UPDATE entitlements SET starts_on = '2024-02-30' WHERE entitlement_id = 'ENT-0000001'",
            "entitlement_id ENT-0000001",
            "starts_on",
            "is not a date",
        ),
        (
            "UPDATE entitlements SET updated_at = 'soon' WHERE entitlement_id = 'ENT-0000002'",
            "entitlement_id ENT-0000002",
            "updated_at",
            "is not an ISO-8601 timestamp",
        ),
        (
            "UPDATE entitlements SET ends_on = '2023-01-01' WHERE entitlement_id = 'ENT-0000005'",
            "entitlement_id ENT-0000005",
            "ends_on",
            "is before starts_on",
        ),
        ("ALTER TABLE entitlements ADD COLUMN discount TEXT", None, "discount", "unknown column"),
        (
            "ALTER TABLE entitlements DROP COLUMN notification_variant",
            None,
            "notification_variant",
            "missing column",
        ),
    ],
)
def test_bad_crm_rows(tiny_world, statement, record, field, reason):
    sql(tiny_world, statement)
    message = raises(S.load_entitlements, tiny_world)
    assert message.startswith("crm.sqlite:entitlements")
    assert f"field '{field}'" in message and reason in message
    if record:
        assert record in message


def test_duplicate_crm_ids(tiny_world):
    sql(
        tiny_world,
        "CREATE TABLE acc2 AS SELECT * FROM accounts",
        "DROP TABLE accounts",
        "ALTER TABLE acc2 RENAME TO accounts",
        "INSERT INTO accounts SELECT * FROM accounts WHERE account_id = 'ACC-000002'",
    )
    message = raises(S.load_accounts, tiny_world)
    assert "crm.sqlite:accounts" in message and "duplicate account_id" in message
    assert "account_id ACC-000002" in message


def test_missing_crm_table(tiny_world):
    sql(tiny_world, "DROP TABLE contacts")
    assert "crm.sqlite:contacts" in raises(S.load_contacts, tiny_world)


# --- registry and exceptions ---------------------------------------------------------------------


def test_registry_state_as_of(tiny_world):
    products = S.load_products(tiny_world)
    assert list(products["product_id"]) == ["PRD-LEDGER", "PRD-PAYAPI"]
    assert products.set_index("product_id").loc["PRD-PAYAPI", "owning_team"] == "platform-eng"
    before = S.load_products(tiny_world, as_of="2024-02-14T23:59:59Z").set_index("product_id")
    assert before.loc["PRD-PAYAPI", "owning_team"] == "payments-eng"
    assert len(S.load_products(tiny_world, history=True)) == 3
    assert list(S.load_teams(tiny_world, as_of="2024-02-01")["team"]) == [
        "ledger-eng",
        "payments-eng",
    ]
    issues = S.load_known_issues(tiny_world, as_of="2024-02-01")
    assert issues["status"].iloc[0] == "open"
    assert issues["exception_note"].iloc[0] == "Page payments, then ledger"
    closed = S.load_known_issues(tiny_world)
    assert closed["status"].iloc[0] == "closed" and pd.isna(closed["exception_note"].iloc[0])
    assert S.load_products(tiny_world, as_of="2023-12-31").empty


def test_exceptions_as_of_and_sensitive_summary(tiny_world):
    exc = S.load_exceptions(tiny_world).set_index("exception_id")
    assert "summary" not in exc.columns
    assert (
        exc.loc["EXC-1042", "status"] == "approved" and exc.loc["EXC-1042", "approver"] == "m.ross"
    )
    assert pd.isna(exc.loc["EXC-1042", "valid_to"])
    early = S.load_exceptions(tiny_world, as_of="2024-01-06").set_index("exception_id")
    assert list(early.index) == ["EXC-1042"] and early.loc["EXC-1042", "status"] == "pending"
    assert pd.isna(early.loc["EXC-1042", "approver"])
    full = S.load_exceptions(tiny_world, include_sensitive=True)
    assert full["summary"].iloc[0] == "Globex wants 10 minute updates"


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "field", "reason"),
    [
        (
            "registry/products.csv",
            ",status,recorded_at",
            ",state,recorded_at",
            "line 1",
            "state",
            "unknown column",
        ),
        (
            "registry/products.csv",
            ",last_verified_at,",
            ",",
            "line 1",
            "last_verified_at",
            "missing column",
        ),
        (
            "registry/products.csv",
            "2023-06-01T00:00:00Z",
            "June 2023",
            "line 3",
            "owner_since",
            "not an ISO-8601 timestamp",
        ),
        (
            "registry/products.csv",
            "platform-oncall,2024-02-15T00:00:00Z,2024-02-15T00:00:00Z,active",
            "platform-oncall,2024-02-15T00:00:00Z,2024-02-15T00:00:00Z,sunset",
            "line 4",
            "status",
            "is not one of active",
        ),
        (
            "registry/products.csv",
            "active,2024-02-15T00:00:00Z",
            "active,2024-01-01T00:00:00Z",
            "line 4",
            "product_id",
            "duplicate product_id + recorded_at",
        ),
        (
            "registry/teams.csv",
            "Ledger Engineering,ledger-oncall",
            "Ledger Engineering,",
            "line 3",
            "pager",
            "is empty",
        ),
        (
            "registry/known_issues.csv",
            "closed,2024-01-15T00:00:00Z",
            "closed,",
            "line 3",
            "opened_at",
            "is empty",
        ),
        (
            "exceptions/register.csv",
            "2024-01-01,2024-06-30",
            "2024-01-01,30/06/2024",
            "line 4",
            "valid_to",
            "is not a date",
        ),
        (
            "exceptions/register.csv",
            "2024-01-01,2024-06-30",
            "2024-07-01,2024-06-30",
            "line 4",
            "valid_to",
            "is before valid_from",
        ),
        (
            "exceptions/register.csv",
            "handling carve-out",
            "favour",
            "line 4",
            "kind",
            "is not one of handling carve-out",
        ),
    ],
)
def test_bad_csv_rows(tiny_world, file, old, new, line, field, reason):
    path = tiny_world / file
    edit(path, old, new)
    loader = {
        "registry/products.csv": S.load_products,
        "registry/teams.csv": S.load_teams,
        "registry/known_issues.csv": S.load_known_issues,
        "exceptions/register.csv": S.load_exceptions,
    }[file]
    message = raises(loader, tiny_world)
    assert message.startswith(str(path)) and f"{line}:" in message
    assert f"field '{field}'" in message and reason in message


def test_csv_line_numbers_count_quoted_newlines(tiny_world):
    path = tiny_world / "registry" / "known_issues.csv"
    edit(path, '"Page payments, then ledger"', '"Page payments,\nthen ledger"')
    edit(path, "closed,2024-01-15T00:00:00Z,2024-03-01", "closed,2024-01-15T00:00:00Z,later")
    message = raises(S.load_known_issues, tiny_world)
    assert "line 4" in message and "field 'recorded_at'" in message


def test_ragged_csv_is_reported_with_its_line(tiny_world):
    path = tiny_world / "registry" / "teams.csv"
    edit(path, "ledger-oncall,2024", "ledger-oncall,extra,2024")
    message = raises(S.load_teams, tiny_world)
    assert str(path) in message and "line 3" in message and "not valid CSV" in message


# --- feed ----------------------------------------------------------------------------------------


def append_feed(world: Path, *lines: str) -> None:
    with (world / "feed" / "events.jsonl").open("a") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def test_load_feed(tiny_world):
    feed = S.load_feed(tiny_world)
    assert list(feed.columns) == [c.name for c in S.SCHEMAS["events"]]
    assert list(feed["event_id"]) == [f"EVT-00000{i}" for i in range(1, 6)]
    assert feed["type"].dtype == pd.CategoricalDtype(S.EVENT_TYPES)
    r2 = S.get_revision(tiny_world, RUNBOOK, "r2")
    assert feed.set_index("event_id").loc["EVT-000004", "content_sha256"] == r2["sha256"]


def test_iter_feed_reports_bad_lines_without_raising(tiny_world):
    first = (tiny_world / "feed" / "events.jsonl").read_text().splitlines()[0]
    event = json.loads(first)
    append_feed(
        tiny_world,
        "{not json",
        "",
        json.dumps({**event, "event_id": "EVT-000099", "type": "runbook.deleted"}),
        json.dumps({k: v for k, v in event.items() if k != "actor"} | {"event_id": "EVT-000098"}),
        json.dumps([1, 2]),
        json.dumps({**event, "event_id": "EVT-000097", "occurred_at": "2024-03-01T10:00:00"}),
        first,
        json.dumps({**event, "event_id": "EVT-000096", "runbook_id": "../../etc"}),
        json.dumps({**event, "event_id": "EVT-000095", "revision": "r7 "}),
    )
    lines = list(S.iter_feed(tiny_world / "feed" / "events.jsonl"))
    assert [line.line_no for line in lines] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]
    bad = {line.line_no: line for line in lines if line.error}
    assert set(bad) == {6, 8, 9, 10, 11, 13, 14}
    assert "not valid JSON" in bad[6].error and bad[6].text == "{not json"
    # reasons name the field and the rule, never the value (they are logged and kept)
    assert bad[8].field == "type" and "is not one of runbook.published" in bad[8].error
    assert "runbook.deleted" not in bad[8].error
    assert bad[13].field == "runbook_id" and "is not an id" in bad[13].error
    assert bad[14].field == "revision" and "is not an id" in bad[14].error
    assert bad[9].field == "actor" and "missing field" in bad[9].error
    assert "not a JSON object" in bad[10].error
    assert bad[11].field == "occurred_at" and "time zone" in bad[11].error
    assert lines[-3].event == event and lines[-3].error is None
    assert [line.line_no for line in S.iter_feed(S.open_sources(tiny_world))][:2] == [1, 2]


def test_load_feed_strict_names_line_and_field(tiny_world):
    event = json.loads((tiny_world / "feed" / "events.jsonl").read_text().splitlines()[0])
    append_feed(
        tiny_world, json.dumps({**event, "event_id": "EVT-000050", "content_sha256": "xyz"})
    )
    message = raises(S.load_feed, tiny_world)
    assert "events.jsonl" in message and "line 6" in message and "field 'content_sha256'" in message
    assert len(S.load_feed(tiny_world, strict=False)) == 5


def test_load_feed_drops_redeliveries_and_rejects_conflicts(tiny_world):
    lines = (tiny_world / "feed" / "events.jsonl").read_text().splitlines()
    append_feed(tiny_world, lines[1])
    assert list(S.load_feed(tiny_world)["event_id"]) == [f"EVT-00000{i}" for i in range(1, 6)]
    append_feed(tiny_world, json.dumps({**json.loads(lines[2]), "actor": "u999"}))
    message = raises(S.load_feed, tiny_world)
    assert (
        "line 7" in message and "field 'event_id'" in message and "conflicts with line 3" in message
    )
    assert len(S.load_feed(tiny_world, strict=False)) == 5


# --- audit, summary, docs ------------------------------------------------------------------------


def test_snapshot_sha256_is_stable_and_content_sensitive(tiny_world):
    first = S.snapshot_sha256(S.load_entitlements(tiny_world))
    assert first == S.snapshot_sha256(S.load_entitlements(S.open_sources(tiny_world)))
    assert len(first) == 64
    sql(
        tiny_world,
        "UPDATE entitlements SET initial_response_minutes = 16"
        " WHERE entitlement_id = 'ENT-0000005'",
    )
    assert S.snapshot_sha256(S.load_entitlements(tiny_world)) != first
    frame = S.load_products(tiny_world)
    assert S.snapshot_sha256(frame.rename(columns={"status": "state"})) != S.snapshot_sha256(frame)
    moved = frame.assign(recorded_at=frame["recorded_at"] + pd.Timedelta(microseconds=1))
    assert S.snapshot_sha256(moved) != S.snapshot_sha256(frame)


def test_entitlement_counts_per_other_terms_with_one_or_two_other_terms(tiny_world):
    from digestkit.context import load_context

    when = pd.Timestamp("2024-06-01T00:00:00Z")
    one = load_context(S.open_sources(tiny_world), as_of=when).entitlement_counts(
        "Premium Plus", 15
    )
    assert (one.accounts, one.deviating) == (1, 1)
    assert one.by_terms.to_dict("records") == [
        {"terms": "contractual-10min-initial-update", "accounts": 1}
    ]
    # A second account with other terms again (20 minutes): counted per terms.
    sql(
        tiny_world,
        "INSERT INTO entitlements SELECT 'ENT-0000009', 'ACC-000001', product_id, tier, "
        "starts_on, ends_on, 20, update_interval_minutes, NULL, contract_clause, record_status, "
        "updated_at FROM entitlements WHERE entitlement_id = 'ENT-0000002'",
    )
    two = load_context(S.open_sources(tiny_world), as_of=when).entitlement_counts(
        "Premium Plus", 15
    )
    assert (two.accounts, two.deviating) == (2, 2)
    assert two.by_terms.to_dict("records") == [
        {"terms": "20-minute initial response", "accounts": 1},
        {"terms": "contractual-10min-initial-update", "accounts": 1},
    ]


def test_snapshot_sha256_ignores_units_and_backends_but_not_order_or_gaps(tiny_world):
    frame = S.load_products(tiny_world)
    first = S.snapshot_sha256(frame)
    other_unit = frame.assign(recorded_at=frame["recorded_at"].dt.as_unit("ns"))
    as_objects = frame.astype({"product_id": object, "product_name": object})
    assert S.snapshot_sha256(other_unit) == first
    assert S.snapshot_sha256(as_objects) == first
    assert S.snapshot_sha256(frame.iloc[::-1]) != first
    # A missing value and an empty text are different records.
    gap = frame.astype({"owning_team": object})
    gap.loc[0, "owning_team"] = None
    blank = gap.assign(owning_team=gap["owning_team"].fillna(""))
    assert S.snapshot_sha256(gap) != S.snapshot_sha256(blank)


def test_summarize(tiny_world):
    text = S.summarize(tiny_world)
    assert "runbooks (folder" in text and "5 revisions" in text
    assert f"{RUNBOOK}: r1 published, r2 published, r3 draft" in text
    assert "crm accounts: 4 rows" in text and "crm entitlements: 5 rows" in text
    assert "products: 2 ids, 3 versions" in text
    assert "feed: 5 lines, 5 events, 0 re-delivered, 0 malformed" in text
    for secret in ("Acme", "ann@acme.example", "Clause", "Globex wants"):
        assert secret not in text


def test_docs_sources_md_is_generated_from_schemas():
    text = S.schema_markdown()
    for table, columns in S.SCHEMAS.items():
        assert f"## {table}" in text
        assert all(f"`{c.name}`" in text for c in columns)
    assert "| `account_name` | string | no | yes |" in text
    assert (REPO / "docs" / "sources.md").read_text() == text, "regenerate docs/sources.md"


# --- the committed sample world ------------------------------------------------------------------

SAMPLE = REPO / "digestkit" / "data" / "sample"
needs_sample = pytest.mark.skipif(not (SAMPLE / "world.json").exists(), reason="no sample yet")


@needs_sample
def test_sample_world_loads():
    src = S.open_sources(SAMPLE)
    revisions = S.load_revisions(src)
    assert (revisions["status"] == "published").any()
    assert not S.load_accounts(src).empty and "account_name" not in S.load_accounts(src).columns
    assert not S.load_entitlements(src, approved_only=True).empty
    for loader in (S.load_products, S.load_teams, S.load_known_issues, S.load_exceptions):
        assert not loader(src).empty
    lines = list(S.iter_feed(src))
    assert sum(line.error is not None for line in lines) == 1  # the planted malformed line
    feed = S.load_feed(src, strict=False)
    assert len(feed) == sum(line.error is None for line in lines) - 1  # the planted duplicate
    with pytest.raises(SourceError, match=r"events\.jsonl"):
        S.load_feed(src)
    assert "revisions" in S.summarize(src)


@needs_sample
def test_sample_world_as_git_repository(tmp_path):
    from digestkit.sample import write_git_repository

    write_git_repository(
        SAMPLE / "runbooks", tmp_path / "repo", feed=SAMPLE / "feed" / "events.jsonl"
    )
    folder = S.load_revisions(SAMPLE)
    world = tmp_path / "world"
    shutil.copytree(SAMPLE, world, ignore=shutil.ignore_patterns("runbooks"))
    (world / "runbooks").mkdir()
    (world / "sources.toml").write_text(f'runbooks = "{tmp_path / "repo"}"\n')
    git = S.load_revisions(world)
    pd.testing.assert_frame_equal(folder, git)
