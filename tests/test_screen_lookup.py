"""The screen asks the CRM only about a text's own words, and finds what a full index would.

A hand-written CRM (accents, very short names, one-word and punctuated account names, a clause)
is screened on SQLite and on PostgreSQL; every expected hit below is what the screen found when
it indexed every record of the CRM (before it asked per word), so the lookup changes no result.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hand_crm import write_crm_rows

from digestkit import sources
from digestkit.screen import find_hits, find_sensitive, prefetch
from digestkit.sources import find_name_candidates

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
WHEN = "2025-01-01T00:00:00Z"

ACCOUNTS = [
    ("ACC-H01", "Société Générale Nord SA"),
    ("ACC-H02", "O'Brien & Sons Ltd"),
    ("ACC-H03", "Harbor & Finch"),
    ("ACC-H04", "Quillfeather"),
    ("ACC-H05", "Zebulon Widgets Ltd"),
    ("ACC-H06", "Ng Logistics Pte. Ltd."),
]
CONTACTS = [  # (id, account, name, phone)
    ("CON-H01", "ACC-H01", "Émile Durand", "+33 1 42 68 53 00"),
    ("CON-H02", "ACC-H03", "Amy Li", "+1 415 555 0123"),
    ("CON-H03", "ACC-H06", "Bo Ng", "(212) 555-0188"),
    ("CON-H04", "ACC-H02", "Siobhan O'Brien", "+353 1 555 0142"),
    ("CON-H05", "ACC-H05", "Yusuf Zebulonsky", "+49 30 5550 1999"),
]
CLAUSE = "Clause 9.1: Harbor & Finch receive a named engineer within five minutes."

AMY, BO, EMILE = (f"the name of CRM contact {c}" for c in ("CON-H02", "CON-H03", "CON-H01"))


def write_hand_crm(path: Path) -> None:
    rows = {
        "accounts": [(i, n, "Premium", "EMEA", "approved", WHEN) for i, n in ACCOUNTS],
        "contacts": [
            (i, a, n, f"{i.lower()}@example.test", p, "escalation contact", WHEN)
            for i, a, n, p in CONTACTS
        ],
        "entitlements": [
            (e, a, "PRD-PAYAPI", "Premium", "2024-01-01", "2026-12-31", m, m, None, c, "ok", WHEN)
            for e, a, m, c in (("ENT-H1", "ACC-H03", 5, CLAUSE), ("ENT-H2", "ACC-H05", 30, None))
        ],
    }
    write_crm_rows(path, rows)


@pytest.fixture(scope="module")
def hand_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's registry and register with the hand-written CRM in SQLite."""
    root = tmp_path_factory.mktemp("hand") / "data"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("crm.sqlite"))
    write_hand_crm(root / "crm.sqlite")
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hand_world(request: pytest.FixtureRequest, hand_sqlite: Path) -> Path:
    if request.param == "sqlite":
        return hand_sqlite
    import psycopg
    from postgres_cluster import load_sqlite

    cluster = request.getfixturevalue("pg_cluster")
    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE screen_hand")
    load_sqlite(hand_sqlite / "crm.sqlite", cluster.conninfo("screen_hand"))
    root = hand_sqlite.parent / "pg"
    shutil.copytree(hand_sqlite, root, ignore=shutil.ignore_patterns("crm.sqlite"))
    url = cluster.url("screen_hand")
    (root / "sources.toml").write_text(f"crm_url = {json.dumps(url)}\n", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        # accents in the CRM, written with or without them, in any case, in look-alike letters
        ("Call Émile Durand now.", [EMILE]),
        ("call emile durand", [EMILE]),
        ("CALL EMILE DURAND", [EMILE]),
        ("Call \u0415mile Dur\u0430nd now.", [EMILE]),  # Cyrillic Е and а
        ("Durand, Émile asked", [EMILE]),
        ("E. Durand asked", [EMILE]),
        ("Emile D. asked", [EMILE]),
        ("Durand asked", ["the surname of CRM contact CON-H01"]),
        ("Société Générale Nord SA agreed", ["the name of CRM account ACC-H01"]),
        ("SOCIETE GENERALE NORD agreed", ["the name of CRM account ACC-H01"]),
        ("see the societe-generale tickets", ["the name of CRM account ACC-H01"]),
        # very short names: whole, reversed and with initials; never a two-letter word alone
        ("Amy Li joined the bridge.", [AMY]),
        ("Li, Amy joined", [AMY]),
        ("A. Li joined", [AMY]),
        ("Amy L. joined", [AMY]),
        ("\u0410my Li joined", [AMY]),  # Cyrillic А
        ("Li joined", []),
        ("Bo Ng", [BO]),
        ("ask\nBO NG\n", [BO]),
        ("Ng, Bo asked", [BO]),
        ("Ng Logistics asked", ["the name of CRM account ACC-H06"]),
        ("Ng asked", []),
        # punctuation in the CRM's names
        ("O'Brien & Sons Ltd agreed", ["the name of CRM account ACC-H02"]),
        ("obrien sons agreed", []),
        ("O'Brien & Sons agreed", ["the name of CRM account ACC-H02"]),
        ("Siobhan O'Brien agreed", ["the name of CRM contact CON-H04"]),
        ("Harbor & Finch", ["the name of CRM account ACC-H03"]),
        ("escalate for harbor & finch", ["the name of CRM account ACC-H03"]),
        ("Harbor and Finch", []),
        # a one-word account name, a rare word alone
        ("Quillfeather called.", ["the name of CRM account ACC-H04"]),
        ("QUILLFEATHER", ["the name of CRM account ACC-H04"]),
        # phone numbers however spaced
        ("ring 4155550123", ["the phone number of CRM contact CON-H02"]),
        (
            "ring (415) 555-0123",
            ["a phone number", "the phone number of CRM contact CON-H02"],
        ),
        ("ring 01 42 68 53 00", ["the phone number of CRM contact CON-H01"]),
        ("ring 2125550188", ["the phone number of CRM contact CON-H03"]),
        ("ring 212 555 0189", ["a phone number"]),
        # the clause in full, in another case and spacing
        (
            "They quote: clause 9.1 -- harbor & finch receive a named engineer within five"
            " minutes!",
            ["a contract clause of CRM entitlement ENT-H1"],
        ),
        ("Zebulon is a word here, Widgets another.", []),
    ],
)
def test_the_lookup_finds_what_the_full_index_found(hand_world, typed, found):
    assert find_sensitive(typed, hand_world) == found


def test_spans_cover_the_original_spelling(hand_world):
    text = "Ask \u0415mile Durand or Amy L. today"
    hits = find_hits(text, hand_world)
    assert [(text[h.start : h.end], h.replacement) for h in hits] == [
        ("\u0415mile Durand", "CON-H01"),
        ("Amy L", "CON-H02"),
    ]


def test_a_register_summary_is_found_in_full(hand_world):
    register = sources.load_exceptions(hand_world, history=True, include_sensitive=True)
    summary = next(s for s in register["summary"].dropna() if len(s.split()) >= 5)
    exception_id = register.loc[register["summary"] == summary, "exception_id"].iloc[0]
    assert find_sensitive(f"Note: {summary.upper()}", hand_world) == [
        f"the summary of exception {exception_id}"
    ]


def test_the_crm_returns_candidates_only(hand_world):
    found = find_name_candidates(
        hand_world,
        first_words=["harbor", "quillfeather", "amy"],
        last_words=["durand", "li"],
        given_words=["amy"],
        phone_tails=["5550123"],
    )
    # Each name as its first or last word asks: "Émile Durand" by its last word, "Amy Li" by
    # its given name, surname and phone; "O'Brien", "Ng" and "Bo Ng" were not asked about.
    assert [a for a, _ in found.accounts] == ["ACC-H03", "ACC-H04"]
    assert [c for c, *_ in found.contacts] == ["CON-H01", "CON-H02"]
    assert found.clauses == []
    assert [e for e, _ in find_name_candidates(hand_world, first_words=["clause"]).clauses] == [
        "ENT-H1"
    ]
    assert find_name_candidates(hand_world) == ([], [], [])


def test_prefetch_asks_once_for_every_text(hand_world, monkeypatch):
    from digestkit import screen
    from digestkit.sources import lookup

    screen._sources_lookup.cache_clear()  # nothing asked yet

    asked: list[set[str]] = []
    real = lookup.find_name_candidates

    def counting(*args, **kwargs):
        asked.append(set(kwargs["first_words"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(sources, "find_name_candidates", counting)
    texts = ["Prefetched: Amy Li and Bo Ng.", "Prefetched: Quillfeather, Harbor & Finch."]
    prefetch(texts, hand_world)
    assert len(asked) == 1 and {"amy", "quillfeather", "finch"} <= asked[0]
    assert [find_sensitive(t, hand_world) for t in texts] == [
        [AMY, BO],
        ["the name of CRM account ACC-H04", "the name of CRM account ACC-H03"],
    ]
    assert len(asked) == 1  # the screens themselves asked nothing more
