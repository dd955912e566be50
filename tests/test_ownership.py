"""Ownership and first-paging statements found in prose (digestkit.ownership)."""

from __future__ import annotations

import pytest

from digestkit.ownership import ProseStatement, prose_statements

PRODUCTS = ["Data Export", "Payments API", "Ledger Service", "Identity Service"]


@pytest.mark.parametrize(
    ("sentence", "found"),
    [
        ("Data Export is owned by Platform Operations.", [("owner", "Platform Operations")]),
        (
            "data export is now owned by the Platform Operations team.",
            [("owner", "Platform Operations")],
        ),
        ("The Payments Engineering team owns Data Export.", [("owner", "Payments Engineering")]),
        (
            "The owning team of Data Export is Identity and Access Engineering.",
            [("owner", "Identity and Access Engineering")],
        ),
        ("Data Export belongs to Analytics Engineering.", [("owner", "Analytics Engineering")]),
        ("Data Export (owned by data-eng) runs nightly.", [("owner", "data-eng")]),
        (
            "Ownership of Data Export moved to Platform Operations.",
            [("owner", "Platform Operations")],
        ),
        ("For Data Export, page platform-oncall first.", [("primary_pager", "platform-oncall")]),
        (
            "The primary on-call for Data Export is `data-oncall`.",
            [("primary_pager", "data-oncall")],
        ),
        ("The on-call for Data Export is data-oncall.", [("primary_pager", "data-oncall")]),
        ("Page data-oncall for Data Export incidents.", [("primary_pager", "data-oncall")]),
        ("Data Export is paged via platform-oncall.", [("primary_pager", "platform-oncall")]),
        # not statements of ownership or of the first page
        ("Who owns the Data Export bridge after the reorganisation: TBD.", []),
        ("Data Export was owned by Analytics Engineering until May.", []),
        ("If the primary has not acknowledged, page sre-oncall for Data Export.", []),
        ("The secondary on-call for Data Export is sre-oncall.", []),
        ("Page the primary on-call for the affected product.", []),
        ("Search Platform is owned by Search Engineering.", []),  # not a registry product here
    ],
)
def test_prose_statements(sentence: str, found: list[tuple[str, str]]) -> None:
    got = prose_statements(sentence, PRODUCTS)
    assert [(s.kind, s.value) for s in got] == found
    assert all(isinstance(s, ProseStatement) and s.product.lower() == "data export" for s in got)


# Names that continue one another, differ only in case or carry accents: the trie-shaped
# alternation must prefer the longest name that lets the statement match, as a flat
# longest-first alternation does.
NESTED = ["Data", "Data Export", "Data Export Jobs", "Ledger", "Ledger-X", "Café Sync", "ÉCLAIR"]


@pytest.mark.parametrize(
    ("sentence", "found"),
    [
        ("Data Export Jobs is owned by Platform Operations.", ("Data Export Jobs", "owner")),
        ("Data Export is owned by Platform Operations.", ("Data Export", "owner")),
        ("DATA is owned by Platform Operations.", ("DATA", "owner")),
        ("Data Exporter is owned by Platform Operations.", None),  # no product ends there
        ("Ledger-X belongs to Finance Engineering.", ("Ledger-X", "owner")),
        ("Ledger belongs to Finance Engineering.", ("Ledger", "owner")),
        ("café sync pages sync-oncall first.", ("café sync", "primary_pager")),
        ("Éclair is paged via pastry-oncall.", ("Éclair", "primary_pager")),
    ],
)
def test_prose_statements_choose_the_longest_product_name(
    sentence: str, found: tuple[str, str] | None
) -> None:
    got = [(s.product, s.kind) for s in prose_statements(sentence, NESTED)]
    assert got == ([found] if found else [])


# Written by hand: a pattern is built only for the names a sentence mentions, so every spelling
# IGNORECASE takes for the same name must still count as a mention.
MANY = [f"{w} Routing Service" for w in ("Atlas", "Aurora", "Basalt")] + [
    "Istanbul Cloud",
    "Kelvin Lab",
    "Search Hub",
    "Straße API",
    "C++ Runtime",
    "Pay-API",
    "I/O Hub",
    "Ledger",
    "Ledger Service",
]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "İSTANBUL CLOUD is owned by Platform Operations.",
            ("İSTANBUL CLOUD", "Platform Operations"),
        ),
        (
            "ıstanbul cloud is owned by Platform Operations.",
            ("ıstanbul cloud", "Platform Operations"),
        ),
        ("\u212aelvin Lab is owned by Lab Ops.", ("\u212aelvin Lab", "Lab Ops")),
        ("\u017fearch Hub is owned by Find Team.", ("\u017fearch Hub", "Find Team")),
        ("STRAẞE API is owned by Road Team.", ("STRAẞE API", "Road Team")),
        ("c++ runtime is owned by Compiler Group.", ("c++ runtime", "Compiler Group")),
        ("I/O hub is owned by Storage.", ("I/O hub", "Storage")),
        ("pay-api is owned by Payments Core.", ("pay-api", "Payments Core")),
        ("Pay-API-v2 is owned by Payments Core.", None),
        ("Basalt Routing Service is owned by Edge.", ("Basalt Routing Service", "Edge")),
        ("Basalt Routing is owned by Edge.", None),  # only a part of a name
        ("Routing Service is owned by Edge.", None),
        ("Ledger Service. Ledger is owned by Money.", ("Ledger", "Money")),
        ("Atlas. Routing Service is owned by Edge.", None),  # a name across two sentences
    ],
)
def test_every_case_spelling_of_a_name_is_a_mention(text: str, found: tuple[str, str] | None):
    got = [(s.product, s.value) for s in prose_statements(text, MANY)]
    assert got == ([found] if found else [])
