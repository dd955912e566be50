"""Entitlement counts at many times: the in-memory tally gives exactly the SQL's numbers.

A hand-written CRM with the edges of every filter: entitlements starting or ending on the day
counted, open-ended (NULL) days, updates exactly at, within the second of and after the as-of
time, pending and NULL statuses, terms that deviate by minutes, by variant or both, NULL minutes,
and terms whose order differs between byte and case-insensitive sorting.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from digestkit import sources as S
from digestkit.context import load_context
from digestkit.sources.tally import TierCount, tier_entitlements

P, PP, OK, EARLY, YEAR = "Premium", "Premium Plus", "approved", "2024-02-01T00:00:00Z", "2024-01-01"
END = "2024-12-31"
# entitlement_id, account_id, tier, starts_on, ends_on, minutes, variant, status, updated_at
ROWS = [
    ("E01", "A1", P, "2024-03-01", "2024-03-31", 30, None, OK, EARLY),
    ("E02", "A2", P, "2024-03-10", "2024-03-10", 15, None, OK, EARLY),
    ("E03", "A3", P, "2024-03-10", None, 30, None, OK, EARLY),
    ("E04", "A4", P, None, END, 30, None, OK, EARLY),
    ("E05", "A5", P, YEAR, END, 30, "zeta-notice", OK, "2024-03-10T12:00:00Z"),
    ("E06", "A5", P, YEAR, END, 60, None, OK, "2024-03-10T12:00:01Z"),
    ("E07", "A6", P, YEAR, END, None, None, OK, EARLY),
    ("E08", "A7", P, YEAR, END, 60, "Alpha-notice", "pending", EARLY),
    ("E09", "A8", P, YEAR, END, 60, None, None, EARLY),
    ("E10", "A8", P, YEAR, END, 45, "Alpha-notice", OK, None),
    ("E11", "A9", P, "2024-03-11", END, 30, "éclair-notice", OK, EARLY),
    ("E12", "A1", P, YEAR, END, 30, "Alpha-notice", OK, "2024-03-11T00:00:00Z"),
    ("E13", "A1", PP, YEAR, END, 10, None, OK, EARLY),
    ("E14", "A10", P, YEAR, END, 30, None, OK, "2024-03-20T08:30:00.250Z"),
    ("E15", "A11", P, YEAR, END, 15, None, OK, "2024-03-20T08:30:00Z"),
]
TIMES = [
    "2024-02-15T00:00:00Z",
    "2024-03-10T00:00:00Z",  # E02 starts and ends that day; E05, E06 not yet updated
    "2024-03-10T12:00:00Z",  # E05 updated exactly then, E06 a second later
    "2024-03-10T12:00:01Z",  # E06 updated exactly then
    "2024-03-10T18:00:00Z",
    "2024-03-11T00:00:00Z",  # E11 starts, E12 updated exactly then
    "2024-03-11T06:00:00Z",
    "2024-03-20T08:30:00Z",  # E15 updated exactly then, E14 a quarter second later
    "2024-03-20T08:30:01Z",
    "2024-03-31T00:00:00Z",  # E01's last day
    "2024-04-01T00:00:00Z",
]
# Times at which a counted Premium row was updated within the time's own second: the SQL checks
# those rows' times exactly, so the tally leaves them to it.
EDGES = {"2024-03-10T12:00:00Z", "2024-03-10T12:00:01Z", "2024-03-11T00:00:00Z",
         "2024-03-20T08:30:00Z"}  # fmt: skip
MINUTES = (15, 30, 45, 60)


def _crm(world: Path, rows: list[tuple[object, ...]]) -> None:
    """Replace the world's entitlements with ``rows`` (the other columns filled in)."""
    con = sqlite3.connect(world / "crm.sqlite")
    con.execute("DELETE FROM entitlements")
    con.executemany(
        "INSERT INTO entitlements VALUES (?, ?, 'PRD-PAYAPI', ?, ?, ?, ?, 60, ?, 'clause', ?, ?)",
        rows,
    )
    con.commit()
    con.close()


def _sql(world: Path, tier: str, when: str, minutes: int) -> tuple[TierCount, pd.DataFrame]:
    row = S.count_entitlement_accounts(
        world, as_of=when, tiers=[tier], approved_only=True, active_on=when,
        count_deviating_from=minutes,
    ).iloc[0]  # fmt: skip
    term = None if pd.isna(row["deviating_term"]) else str(row["deviating_term"])
    count = TierCount(
        int(row["accounts"]), int(row["deviating"]), int(row["deviating_terms"]), term
    )
    by_terms = S.count_entitlement_accounts(
        world, as_of=when, tiers=[tier], approved_only=True, active_on=when,
        deviating_from_minutes=minutes, group_by=["terms"],
    )  # fmt: skip
    return count, by_terms


@pytest.mark.parametrize("tier", ["Premium", "Premium Plus", "Standard"])
def test_the_tally_counts_what_the_sql_counts_at_every_time(tiny_world, tier):
    _crm(tiny_world, ROWS)
    tally = tier_entitlements(tiny_world, tier)
    assert tally is not None
    first = pd.Timestamp("2024-01-01T00:00:00Z")
    # The first time is left to the SQL: one digest never reads the whole tier.
    assert tally.counts(first, 30) is None and tally.by_terms(first, 30) is None
    left: set[str] = set()
    for text in TIMES:
        when = pd.Timestamp(text)
        for minutes in MINUTES:
            expected, by_terms = _sql(tiny_world, tier, text, minutes)
            got = tally.counts(when, minutes)
            if got is None:
                left.add(text)
                continue
            assert got == expected, (text, minutes)
            terms = tally.by_terms(when, minutes)
            assert terms is not None
            assert terms.values.tolist() == by_terms.values.tolist(), (text, minutes)
            assert list(terms.columns) == list(by_terms.columns)
            assert str(terms["accounts"].dtype) == "int64"
    assert left == (EDGES if tier == "Premium" else set())


def test_the_cases_the_numbers_rest_on(tiny_world):
    _crm(tiny_world, ROWS)
    tally = tier_entitlements(tiny_world, "Premium")
    assert tally is not None
    tally.counts(pd.Timestamp("2024-01-01T00:00:00Z"), 30)
    # 2024-03-10 18:00: E01, E02 (its one day), E05 and E06 (updated earlier that day), E07
    # (NULL minutes: not other terms); not E03 (open-ended: a NULL end), E04 (NULL start), E08
    # (pending), E09 (NULL status), E10 (never updated), E11 (starts the next day), E12-E15
    # (updated later).
    when = pd.Timestamp("2024-03-10T18:00:00Z")
    assert tally.counts(when, 30) == TierCount(
        accounts=4, deviating=2, deviating_terms=3, deviating_term="15-minute initial response"
    )
    terms = tally.by_terms(when, 30)
    assert terms is not None
    assert terms.values.tolist() == [
        ["15-minute initial response", 1],
        ["60-minute initial response", 1],
        ["zeta-notice", 1],
    ]
    # The next morning, terms in byte order, as SQLite sorts them (digits, capitals, lower case,
    # accented letters).
    terms = tally.by_terms(pd.Timestamp("2024-03-11T06:00:00Z"), 30)
    assert terms is not None
    assert [t for t, _ in terms.values.tolist()] == [
        "60-minute initial response",
        "Alpha-notice",
        "zeta-notice",
        "éclair-notice",
    ]
    # E14 was updated a quarter second into 08:30:00, after that time: the SQL decides.
    assert tally.counts(pd.Timestamp("2024-03-20T08:30:00Z"), 30) is None


@pytest.mark.parametrize(
    "odd",
    [
        ("E98", "A98", P, b"2024-01-01", END, 30, None, OK, EARLY),  # a BLOB day
        ("E99", "A99", P, YEAR, END, "thirty", None, OK, EARLY),  # text minutes
    ],
    ids=["blob day", "text minutes"],
)
def test_values_sqlite_compares_otherwise_are_left_to_the_sql(tiny_world, odd):
    _crm(tiny_world, [*ROWS, odd])
    tally = tier_entitlements(tiny_world, P)
    assert tally is not None
    sources = S.open_sources(tiny_world)
    for text in TIMES[:3]:
        assert tally.counts(pd.Timestamp(text), 30) is None
        context = load_context(sources, as_of=pd.Timestamp(text))
        total, deviating, _ = context.entitlement_counts(P, 30)
        expected, _ = _sql(tiny_world, P, text, 30)
        assert (total, deviating) == (expected.accounts, expected.deviating)


def test_context_counts_are_the_same_with_and_without_the_tally(tiny_world):
    _crm(tiny_world, ROWS)
    sources = S.open_sources(tiny_world)
    for text in TIMES:
        when = pd.Timestamp(text)
        context = load_context(sources, as_of=when)
        for minutes in MINUTES:
            total, deviating, by_terms = context.entitlement_counts("Premium", minutes)
            expected, expected_terms = _sql(tiny_world, "Premium", text, minutes)
            assert (total, deviating) == (expected.accounts, expected.deviating)
            assert by_terms.values.tolist() == expected_terms.values.tolist()


def test_a_column_the_catalog_marks_sensitive_is_never_read_as_rows(tiny_world):
    _crm(tiny_world, ROWS)
    con = sqlite3.connect(tiny_world / "crm.sqlite")
    con.execute(
        "UPDATE column_catalog SET sensitive = 1 WHERE table_name = 'entitlements' "
        "AND column_name = 'account_id'"
    )
    con.commit()
    con.close()
    tally = tier_entitlements(tiny_world, P)
    assert tally is not None
    for text in TIMES[:2]:
        assert tally.counts(pd.Timestamp(text), 30) is None
