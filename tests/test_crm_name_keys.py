"""The screen's CRM lookup by name key: nothing the screen would read is left behind, and with
the indexes of ``lookup_indexes`` the lookups read the index, not the table.

The names are written for the purpose: accents before, inside and after an ASCII run, combining
marks, look-alike letters, ligatures, soft hyphens and zero-width spaces, punctuation at either
end, one-letter words, legal forms; phones spaced every way.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from hand_crm import account, contact, write_crm_rows

from digestkit.normalize import fold
from digestkit.sources import find_name_candidates
from digestkit.sources.lookup import lookup_indexes

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
WHEN = "2025-01-01T00:00:00Z"

WORDS = [
    "Anna",
    "Li",
    "ng",
    "O'Brien",
    "McDonald",
    "van",
    "der",
    "Berg",
    "Jr.",
    "III",
    "x",
    "7",
    "Émile",
    "Müller",
    "Jürgensen",
    "Søren",
    "Ærø",
    "Straße",
    "Ｆull",
    "A\u0441me",
    "\u0132ssel",
    "\ufb01nch",
    "Ng\u200b",
    "co\u0301te",
    "\u00adsoft",
    "Ferre\u00edra",
    "Dvořák",
    "Łukasz",
    "Zoë",
    "naïve",
    "Ōtsuka",
    "Nguyễn",
    "Gal\u00adlagher",
    "Smith-Jones",
    "d'Arc",
    "GmbH",
    "B.V.",
]
SEPARATORS = [" ", " ", " ", "-", " & ", ", ", "  ", "'", "\u00a0"]
ENDS = [" ", "¡", "(", ")", ".", "\u200b", "»", "1"]
PHONES = [
    "+1 415 555 0123",
    "(212) 555-0188",
    "+33 1 42 68 53 00",
    "555-0142 ext",
    "+49 30 5550 1999",
]


def tokens(text: str) -> list[str]:
    """The words the screen reads in a text: folded, then runs of ASCII letters and digits."""
    return re.findall(r"[a-z0-9]+", fold(text).text)


def random_name(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    body = words[0] + "".join(rng.choice(SEPARATORS) + w for w in words[1:])
    lead, trail = (rng.choice(ENDS) if rng.random() < 0.15 else "" for _ in range(2))
    return lead + body + trail


def write_crm(path: Path, rng: random.Random, *, indexed: bool) -> dict[str, list[tuple]]:
    n = 400
    rows = {
        "accounts": [
            (f"ACC-{i:04d}", random_name(rng), "Premium", "EMEA", "approved", WHEN)
            for i in range(n)
        ],
        "contacts": [
            (
                f"CON-{i:04d}", f"ACC-{i:04d}", random_name(rng), f"c{i}@example.test",
                rng.choice(PHONES), "escalation contact", WHEN,
            )
            for i in range(n)
        ],
        "entitlements": [
            (
                f"ENT-{i:04d}", f"ACC-{i:04d}", "PRD-PAYAPI", "Premium", "2024-01-01",
                "2026-12-31", 5, 5, None, random_name(rng) if i % 3 else None, "ok", WHEN,
            )
            for i in range(n)
        ],
    }  # fmt: skip
    write_crm_rows(path, rows, lookup_indexes("sqlite").values() if indexed else ())
    return rows


def world(root: Path, rows_seed: int, *, indexed: bool) -> tuple[Path, dict[str, list[tuple]]]:
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("crm.sqlite"))
    rows = write_crm(root / "crm.sqlite", random.Random(rows_seed), indexed=indexed)
    return root, rows


def on_postgres(root: Path, cluster, database: str) -> Path:
    import psycopg
    from postgres_cluster import load_sqlite

    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    load_sqlite(root / "crm.sqlite", cluster.conninfo(database))
    pg = root.parent / f"{root.name}-pg"
    shutil.copytree(root, pg, ignore=shutil.ignore_patterns("crm.sqlite"))
    url = cluster.url(database)
    (pg / "sources.toml").write_text(f"crm_url = {json.dumps(url)}\n", encoding="utf-8")
    return pg


def expected(rows: dict[str, list[tuple]], words: set[str], givens: set[str], tails: set[str]):
    """What the screen keeps of a full read of the CRM: the records it must be given."""
    accounts = {a for a, name, *_ in rows["accounts"] if tokens(name)[:1] in ([w] for w in words)}
    clauses = {
        r[0]
        for r in rows["entitlements"]
        if r[9] is not None and tokens(r[9])[:1] in [[w] for w in words]
    }
    contacts = set()
    for contact_id, _, name, _, phone, *_ in rows["contacts"]:
        key = tokens(name)
        digits = re.sub(r"\D", "", phone)
        if (key and (key[-1] in words or key[0] in givens)) or (
            len(digits) >= 7 and digits[-7:] in tails
        ):
            contacts.add(contact_id)
    return accounts, contacts, clauses


@pytest.mark.parametrize("database", ["sqlite", "sqlite-indexed", "postgresql-indexed"])
def test_every_record_the_screen_would_read_comes_back(database, tmp_path, request):
    root, rows = world(tmp_path / "w", 11, indexed="indexed" in database)
    if database.startswith("postgresql"):
        root = on_postgres(root, request.getfixturevalue("pg_cluster"), "name_keys_all")
    every = {
        t for name, *_ in rows["accounts"] + [r[2:] for r in rows["contacts"]] for t in tokens(name)
    }
    rng = random.Random(5)
    for _ in range(6):
        words = {w for w in every if rng.random() < 0.3} | {"zebulon", "q"}
        givens = {w for w in every if rng.random() < 0.2}
        tails = {"5550123", "4268530"}
        found = find_name_candidates(
            root, first_words=words, last_words=words, given_words=givens, phone_tails=tails
        )
        accounts, contacts, clauses = expected(rows, words, givens, tails)
        assert accounts <= {a for a, _ in found.accounts}
        assert contacts <= {c for c, *_ in found.contacts}
        assert clauses <= {e for e, _ in found.clauses}
        assert [a for a, _ in found.accounts] == sorted(a for a, _ in found.accounts)
    # Candidates only: asked about a word no name starts or ends like, a record comes back only
    # when SQL cannot judge it (its name starts, or ends, with no ASCII letter or digit; its
    # phone with no digit).
    found = find_name_candidates(
        root, first_words={"qzzq"}, last_words={"qzzq"}, given_words={"qzzq"},
        phone_tails={"0000000"},
    )  # fmt: skip
    assert {a for a, _ in found.accounts} == {
        a for a, name, *_ in rows["accounts"] if not re.match("[A-Za-z0-9]", name)
    }
    assert {c for c, *_ in found.contacts} == {
        c
        for c, _, name, _, phone, *_ in rows["contacts"]
        if not (re.match("[A-Za-z0-9]", name) and re.search("[A-Za-z0-9]$", name))
        or not re.search("[0-9]{4}$", phone)
    }
    assert len(found.accounts) < len(rows["accounts"]) / 2  # the filter left most out


def test_without_indexes_the_same_records_come_back(tmp_path):
    plain, _ = world(tmp_path / "plain", 3, indexed=False)
    indexed, _ = world(tmp_path / "indexed", 3, indexed=True)
    words = {"anna", "berg", "muller", "nguyen", "smith", "jones", "c", "te", "gallagher"}
    asked = dict(
        first_words=words, last_words=words, given_words={"anna", "zoe"}, phone_tails={"5550188"}
    )
    assert find_name_candidates(plain, **asked) == find_name_candidates(indexed, **asked)


def statements_of(root: Path, **asked) -> list[tuple[str, object]]:
    """The SELECT statements (and their parameters) a lookup sends to the database."""
    sent: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\bFROM (accounts|contacts|entitlements)\b", statement):
            sent.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", listen)
    try:
        find_name_candidates(root, **asked)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", listen)
    return sent


ASKED = dict(
    first_words={"anna", "zebulon"}, last_words={"berg", "li"}, given_words={"emile"},
    phone_tails={"5550123"},
)  # fmt: skip


def test_sqlite_lookups_read_the_name_indexes(tmp_path):
    root, _ = world(tmp_path / "w", 2, indexed=False)
    printed = subprocess.run(
        [sys.executable, "-m", "digestkit", "sources", "--index-sql", "sqlite"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with sqlite3.connect(root / "crm.sqlite") as con:
        con.executescript(printed)  # what a database administrator would run
    sent = statements_of(root, **ASKED)
    assert len(sent) == 3  # accounts, contract clauses, contacts
    con = sqlite3.connect(root / "crm.sqlite")
    for statement, parameters in sent:
        plan = [row[-1] for row in con.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert any("USING INDEX ix_" in step and "_start" in step for step in plan), plan
    contacts = [row[-1] for row in con.execute(f"EXPLAIN QUERY PLAN {sent[-1][0]}", sent[-1][1])]
    assert {"ix_contacts_contact_name_end", "ix_contacts_phone_digits"} <= {
        word for step in contacts for word in step.split()
    }


def test_postgresql_lookups_read_the_name_indexes(tmp_path, pg_cluster):
    import psycopg

    root, _ = world(tmp_path / "w", 2, indexed=True)
    pg = on_postgres(root, pg_cluster, "name_keys_plan")
    sent = statements_of(pg, **ASKED)
    assert len(sent) == 3
    with psycopg.connect(pg_cluster.conninfo("name_keys_plan")) as con:
        con.execute("SET enable_seqscan = off")  # 400 rows: the planner would rather scan
        for statement, parameters in sent:
            plan = "\n".join(r[0] for r in con.execute(f"EXPLAIN {statement}", parameters))
            assert "Seq Scan" not in plan, plan
            assert "ix_" in plan, plan


def test_a_turkish_postgresql_database_finds_capital_i(tmp_path, pg_cluster):
    """PostgreSQL's lower() follows the database's locale: in Turkish, 'I' lowers to a dotless
    'ı', and "IVAN" would never equal the word "ivan". The keys map ASCII letters one by one."""
    import psycopg
    from postgres_cluster import load_sqlite

    from digestkit.screen import find_sensitive

    root = tmp_path / "w"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("crm.sqlite"))
    rows = {
        "accounts": [account("ACC-T1", "IZMIR LOGISTICS")],
        "contacts": [
            contact("CON-T1", "ACC-T1", "IVAN PETROV", "+90 212 555 0101"),
            contact("CON-T2", "ACC-T1", "Ayşe KILIÇ", "+90 212 555 0102"),
        ],
        "entitlements": [],
    }
    write_crm_rows(root / "crm.sqlite", rows, lookup_indexes("sqlite").values())
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as admin:
        admin.execute(
            "CREATE DATABASE name_keys_tr TEMPLATE template0 LOCALE_PROVIDER icu "
            "ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"
        )
    with psycopg.connect(pg_cluster.conninfo("name_keys_tr")) as con:
        assert con.execute("SELECT lower('I')").fetchone() == ("ı",)  # the trap is armed
    load_sqlite(root / "crm.sqlite", pg_cluster.conninfo("name_keys_tr"))
    pg = tmp_path / "pg"
    shutil.copytree(root, pg, ignore=shutil.ignore_patterns("crm.sqlite"))
    url = pg_cluster.url("name_keys_tr")
    (pg / "sources.toml").write_text(f"crm_url = {json.dumps(url)}\n", encoding="utf-8")

    found = find_name_candidates(
        pg, first_words={"izmir"}, last_words={"petrov", "kilic"}, given_words={"ivan"}
    )
    assert [a for a, _ in found.accounts] == ["ACC-T1"]
    assert [c for c, *_ in found.contacts] == ["CON-T1", "CON-T2"]
    assert find_sensitive("Ask Ivan Petrov at Izmir Logistics.", pg) == [
        "the name of CRM contact CON-T1",
        "the name of CRM account ACC-T1",
    ]


@pytest.mark.parametrize("indexed", [False, True])
def test_a_nul_or_a_very_long_word_is_asked_always(indexed, tmp_path):
    """SQLite's text functions stop at a NUL that Python reads past, and a 40,000-letter word
    must not ask for every part of itself: such values come back for any text (their key is
    ''), and the lookup stays small. Found by an adversarial review."""
    long_run = "x" * 70
    root = tmp_path / "w"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("crm.sqlite"))
    rows = {
        "accounts": [
            account("ACC-N1", "Acme\x00 Widgets"),
            account("ACC-N2", f"{long_run}é Holdings"),
            account("ACC-N3", "Plain Holdings"),
        ],
        "contacts": [
            contact("CON-N1", "ACC-N1", "Ciaran\x00Gallagher", "+1 415 555 0101"),
            contact("CON-N2", "ACC-N1", "Bo Ng", "+1 415 555 0123\x0045"),
            contact("CON-N3", "ACC-N3", "Anna Berg", "+1 415 555 0199"),
        ],
        "entitlements": [],
    }
    write_crm_rows(root / "crm.sqlite", rows, lookup_indexes("sqlite").values() if indexed else ())
    found = find_name_candidates(
        root, first_words={"zz"}, last_words={"gallagher"}, given_words={"c"},
        phone_tails={"5012345"},
    )  # fmt: skip
    assert [a for a, _ in found.accounts] == ["ACC-N1", "ACC-N2"]
    assert [c for c, *_ in found.contacts] == ["CON-N1", "CON-N2"]
    huge = "a" * 40_000  # one unbroken word, as a pasted token might be
    found = find_name_candidates(root, first_words={huge}, last_words={huge})
    assert [a for a, _ in found.accounts] == ["ACC-N1", "ACC-N2"]
