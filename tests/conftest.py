"""Shared fixtures: a tiny but complete source world written into tmp_path, and a throwaway
PostgreSQL server holding the sample CRM in native column types."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_cluster import INSTALL_HINT, Cluster, load_sqlite, running_cluster, server_bin

RUNBOOK = "premium-s1-escalation"
OTHER = "standard-s2-triage"

# (runbook_id, revision, status, supersedes, approved_by, published_at, saved_at, body)
REVISIONS = [
    (
        RUNBOOK,
        "r1",
        "published",
        None,
        "j.doe",
        "2024-01-10T09:00:00Z",
        "2024-01-10T09:00:00Z",
        "## Steps\n\n1. Page the duty manager.\n2. Open a bridge.\n",
    ),
    (
        OTHER,
        "r1",
        "published",
        None,
        "a.lee",
        "2024-01-20T12:00:00Z",
        "2024-01-20T12:00:00Z",
        "## Steps\n\n1. Triage the ticket.\n",
    ),
    (
        OTHER,
        "r2",
        "withdrawn",
        "r1",
        "a.lee",
        "2024-02-01T08:00:00Z",
        "2024-02-01T08:00:00Z",
        "## Steps\n\n1. Triage the ticket.\n2. Call the customer.\n",
    ),
    (
        RUNBOOK,
        "r2",
        "published",
        "r1",
        "j.doe",
        "2024-03-01T10:00:00Z",
        "2024-03-01T10:00:00Z",
        "## Steps\n\n1. Page the duty manager.\n2. Page payments-oncall.\n3. Open a bridge.\n",
    ),
    (
        RUNBOOK,
        "r3",
        "draft",
        "r2",
        None,
        None,
        "2024-03-05T16:00:00Z",
        "## Steps\n\n1. Page payments-oncall.\n",
    ),
]

CATALOG_SENSITIVE = {
    ("accounts", "account_name"),
    ("contacts", "contact_name"),
    ("contacts", "email"),
    ("contacts", "phone"),
    ("entitlements", "contract_clause"),
}

ACCOUNTS = [
    ("ACC-000001", "Acme Corp", "Premium", "EMEA", "approved", "2024-01-05T00:00:00Z"),
    ("ACC-000002", "Globex Ltd", "Premium Plus", "AMER", "approved", "2024-02-10T00:00:00Z"),
    ("ACC-000003", "Initech", "Standard", "APAC", "pending", "2024-02-15T00:00:00Z"),
    ("ACC-000004", "Umbrella plc", "Premium", "EMEA", "approved", "2024-04-01T00:00:00Z"),
]
CONTACTS = [
    (
        "CON-0000001",
        "ACC-000001",
        "Ann Smith",
        "ann@acme.example",
        "+44 20 0000 0001",
        "escalation contact",
        "2024-01-05T00:00:00Z",
    ),
    (
        "CON-0000002",
        "ACC-000002",
        "Bob Jones",
        "bob@globex.example",
        "+1 555 0100",
        "escalation contact",
        "2024-02-10T00:00:00Z",
    ),
    (
        "CON-0000003",
        "ACC-000004",
        "Cy Young",
        "cy@umbrella.example",
        "+44 20 0000 0003",
        "billing",
        "2024-04-01T00:00:00Z",
    ),
]
ENTITLEMENTS = [
    (
        "ENT-0000001",
        "ACC-000001",
        "PRD-PAYAPI",
        "Premium",
        "2024-01-01",
        "2024-12-31",
        15,
        30,
        None,
        "Clause 7.2 response",
        "approved",
        "2024-01-05T00:00:00Z",
    ),
    (
        "ENT-0000002",
        "ACC-000002",
        "PRD-PAYAPI",
        "Premium Plus",
        "2024-01-01",
        "2025-06-30",
        10,
        10,
        "contractual-10min-initial-update",
        "Clause 9.1",
        "approved",
        "2024-02-10T00:00:00Z",
    ),
    (
        "ENT-0000003",
        "ACC-000002",
        "PRD-LEDGER",
        "Premium Plus",
        "2023-01-01",
        "2023-12-31",
        10,
        10,
        None,
        None,
        "approved",
        "2024-02-10T00:00:00Z",
    ),
    (
        "ENT-0000004",
        "ACC-000003",
        "PRD-LEDGER",
        "Standard",
        "2024-01-01",
        "2024-12-31",
        240,
        240,
        None,
        None,
        "pending",
        "2024-02-15T00:00:00Z",
    ),
    (
        "ENT-0000005",
        "ACC-000004",
        "PRD-PAYAPI",
        "Premium",
        "2024-03-01",
        "2025-02-28",
        15,
        30,
        None,
        "Clause 7.2 response",
        "approved",
        "2024-04-01T00:00:00Z",
    ),
]

T0, T1, T2, T3 = (f"2024-{d}T00:00:00Z" for d in ("01-01", "01-15", "02-15", "03-01"))
PRODUCTS = [
    (
        "product_id",
        "product_name",
        "owning_team",
        "escalation_pager",
        "owner_since",
        "last_verified_at",
        "status",
        "recorded_at",
    ),
    (
        "PRD-PAYAPI",
        "Payments API",
        "payments-eng",
        "payments-oncall",
        "2023-01-01T00:00:00Z",
        T0,
        "active",
        T0,
    ),
    (
        "PRD-LEDGER",
        "Ledger",
        "ledger-eng",
        "ledger-oncall",
        "2023-06-01T00:00:00Z",
        T0,
        "active",
        T0,
    ),
    ("PRD-PAYAPI", "Payments API", "platform-eng", "platform-oncall", T2, T2, "active", T2),
]
TEAMS = [
    ("team", "display_name", "pager", "recorded_at"),
    ("payments-eng", "Payments Engineering", "payments-oncall", T0),
    ("ledger-eng", "Ledger Engineering", "ledger-oncall", T0),
    ("platform-eng", "Platform Engineering", "platform-oncall", T2),
]
KNOWN_ISSUES = [
    ("issue_id", "product_id", "title", "exception_note", "status", "opened_at", "recorded_at"),
    ("KI-2031", "PRD-PAYAPI", "Delayed webhooks", "Page payments, then ledger", "open", T1, T1),
    ("KI-2031", "PRD-PAYAPI", "Delayed webhooks", "", "closed", T1, T3),
]
EXCEPTIONS = [
    (
        "exception_id",
        "account_id",
        "product_id",
        "kind",
        "handling",
        "status",
        "approver",
        "valid_from",
        "valid_to",
        "runbook_id",
        "section",
        "summary",
        "recorded_at",
    ),
    (
        "EXC-1042",
        "ACC-000002",
        "PRD-PAYAPI",
        "contractual notification variant",
        "notify-10min",
        "pending",
        "",
        "2024-01-01",
        "",
        RUNBOOK,
        "Notify the customer",
        "Globex wants 10 minute updates",
        "2024-01-05T00:00:00Z",
    ),
    (
        "EXC-1042",
        "ACC-000002",
        "PRD-PAYAPI",
        "contractual notification variant",
        "notify-10min",
        "approved",
        "m.ross",
        "2024-01-01",
        "",
        RUNBOOK,
        "Notify the customer",
        "Globex wants 10 minute updates",
        "2024-02-01T00:00:00Z",
    ),
    (
        "EXC-1043",
        "ACC-000001",
        "PRD-PAYAPI",
        "handling carve-out",
        "page-secondary-first",
        "approved",
        "m.ross",
        "2024-01-01",
        "2024-06-30",
        RUNBOOK,
        "Page the owner",
        "Acme pages secondary",
        "2024-01-10T00:00:00Z",
    ),
]


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> None:
    """A CSV file as the source systems write it: LF line ends, minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def revision_text(runbook_id, revision, status, supersedes, approved_by, published_at, body):
    """A revision file: YAML front matter then Markdown."""

    def scalar(value):
        return "null" if value is None else value

    return (
        "---\n"
        f"runbook_id: {runbook_id}\n"
        f"revision: {revision}\n"
        "title: Severity-1 Escalation Runbook\n"
        f"status: {status}\n"
        f"supersedes: {scalar(supersedes)}\n"
        f"approved_by: {scalar(approved_by)}\n"
        f"published_at: {scalar(published_at)}\n"
        f"change_reason: Update {revision}\n"
        "---\n"
        f"# Severity-1 Escalation ({revision})\n\n{body}"
    )


def write_crm(path: Path) -> None:
    """The tiny CRM, with a column_catalog like the sample's."""
    from digestkit.sources import SCHEMAS

    con = sqlite3.connect(path)
    for table, rows in (
        ("accounts", ACCOUNTS),
        ("contacts", CONTACTS),
        ("entitlements", ENTITLEMENTS),
    ):
        cols = SCHEMAS[table]
        kinds = {"int": "INTEGER"}
        ddl = ", ".join(
            f"{c.name} {kinds.get(c.dtype, 'TEXT')}{' PRIMARY KEY' if i == 0 else ''}"
            for i, c in enumerate(cols)
        )
        con.execute(f"CREATE TABLE {table} ({ddl})")
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
    con.execute(
        "CREATE TABLE column_catalog (table_name TEXT, column_name TEXT, dtype TEXT,"
        " sensitive INTEGER, description TEXT)"
    )
    con.executemany(
        "INSERT INTO column_catalog VALUES (?, ?, ?, ?, ?)",
        [
            (t, c.name, c.dtype, int((t, c.name) in CATALOG_SENSITIVE), c.doc)
            for t in ("accounts", "contacts", "entitlements")
            for c in SCHEMAS[t]
        ],
    )
    con.commit()
    con.close()


def write_git_runbooks(runbooks: Path, dest: Path) -> None:
    """The folder repository as git, same layout: one commit per revision file in REVISIONS
    order, published revisions tagged <runbook_id>/<revision>."""
    dest.mkdir(parents=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "digestkit",
        "GIT_AUTHOR_EMAIL": "digestkit@example.invalid",
        "GIT_COMMITTER_NAME": "digestkit",
        "GIT_COMMITTER_EMAIL": "digestkit@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args, when=None):
        extra = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
        subprocess.run(
            ["git", "-C", str(dest), *args], check=True, capture_output=True, env={**env, **extra}
        )

    git("init", "-q", "-b", "main")
    for runbook_id, revision, status, *_, saved_at, _body in REVISIONS:
        (dest / runbook_id).mkdir(exist_ok=True)
        name = f"{runbook_id}/{revision}.md"
        shutil.copyfile(runbooks / name, dest / name)
        git("add", name)
        git("commit", "-q", "-m", f"{runbook_id} {revision}", when=saved_at)
        if status == "published":
            git("tag", f"{runbook_id}/{revision}")


@pytest.fixture
def tiny_world(tmp_path: Path) -> Path:
    """A minimal valid data directory: 2 runbooks (3 + 2 revisions), CRM, registry, feed."""
    root = tmp_path / "world"
    for runbook_id, revision, status, supersedes, approved_by, published_at, _, body in REVISIONS:
        path = root / "runbooks" / runbook_id / f"{revision}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            revision_text(runbook_id, revision, status, supersedes, approved_by, published_at, body)
        )
    write_crm(root / "crm.sqlite")
    write_csv(root / "registry" / "products.csv", PRODUCTS)
    write_csv(root / "registry" / "teams.csv", TEAMS)
    write_csv(root / "registry" / "known_issues.csv", KNOWN_ISSUES)
    write_csv(root / "exceptions" / "register.csv", EXCEPTIONS)
    (root / "feed").mkdir()
    lines = []
    for i, (runbook_id, revision, status, *_rest) in enumerate(REVISIONS, start=1):
        data = (root / "runbooks" / runbook_id / f"{revision}.md").read_bytes()
        event_type = {
            "published": "runbook.published",
            "draft": "runbook.draft_saved",
            "withdrawn": "runbook.withdrawn",
        }[status]
        lines.append(
            json.dumps(
                {
                    "event_id": f"EVT-{i:06d}",
                    "type": event_type,
                    "runbook_id": runbook_id,
                    "revision": revision,
                    "occurred_at": REVISIONS[i - 1][6],
                    "actor": "u123",
                    "content_sha256": hashlib.sha256(data).hexdigest(),
                }
            )
        )
    (root / "feed" / "events.jsonl").write_text("\n".join(lines) + "\n")
    (root / "gold").mkdir()
    (root / "gold" / "labels.json").write_text("{}\n")
    return root


SAMPLE_CRM = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample" / "crm.sqlite"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server on 127.0.0.1 for this test session, stopped and deleted at its end.

    A missing server fails the tests that need it (never a quiet skip): under CI the setup is
    wrong, on a workstation the message says what to install.
    """
    bin_dir = server_bin()
    if bin_dir is None:
        why = " under CI, whose .ci/run should have installed it" if os.environ.get("CI") else ""
        pytest.fail(f"no PostgreSQL server (initdb) found{why}: {INSTALL_HINT}", pytrace=False)
    with running_cluster(bin_dir) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_crm(pg_cluster: Cluster) -> dict[str, dict[str, str]]:
    """The sample CRM loaded into database ``crm`` with native types; returns those types."""
    import psycopg

    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE crm")
    return load_sqlite(SAMPLE_CRM, pg_cluster.conninfo("crm"))


@pytest.fixture(scope="session")
def pg_crm_url(pg_cluster: Cluster, pg_crm: dict[str, dict[str, str]]) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://...``) of the sample CRM on PostgreSQL."""
    return pg_cluster.url("crm")
