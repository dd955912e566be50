"""The sensitive-data screen: typed text is checked for customer-sensitive data."""

from __future__ import annotations

from pathlib import Path

import pytest

from digestkit.screen import find_sensitive


def test_find_sensitive_names_kind_and_id_never_the_value():
    from digestkit import sources

    data = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
    contact = sources.load_contacts(data, include_sensitive=True).iloc[0]
    account = sources.load_accounts(data, include_sensitive=True).iloc[0]
    stem = " ".join(account.account_name.split()[:-2])  # without "Pte. Ltd." and the like
    text = f"Ask {contact.contact_name.upper()} at {stem} ({contact.email}, {contact.phone})."
    found = find_sensitive(text, data)
    assert found == [
        "an e-mail address",
        "a phone number",
        f"the name of CRM contact {contact.contact_id}",
        f"the name of CRM account {account.account_id}",
        f"the phone number of CRM contact {contact.contact_id}",
    ]
    assert find_sensitive(text) == found[:2]  # without the CRM: patterns only
    # the other ways people write the same thing
    last, first = contact.contact_name.split()[-1], contact.contact_name.split()[0]
    local = "".join(contact.phone.split()[1:])  # without the country code, digits run together
    domain = contact.email.split("@")[1].split(".")[0]  # e.g. montague-bicycle
    for typed, what in [
        (f"{last}, {first} called", f"the name of CRM contact {contact.contact_id}"),
        (f"call {local} now", f"the phone number of CRM contact {contact.contact_id}"),
        (f"see the {domain} tickets", f"the name of CRM account {account.account_id}"),
    ]:
        assert find_sensitive(typed, data) == [what], typed


@pytest.mark.parametrize(
    "text",
    [
        "Payments API moved to platform-oncall on 2026-05-01 (PRD-PAYAPI, lines 40-42).",
        "EVT-000017 at 2026-06-01T09:30:00Z; EXC-1042 expires 2026-09-30; T+15, 30 min.",
        "Call +1 is not a phone number, nor is 123-45 or version 1.2.3.4.",
    ],
)
def test_find_sensitive_leaves_dates_ids_and_times_alone(text):
    assert find_sensitive(text, Path(__file__).resolve().parents[1] / "digestkit/data/sample") == []


def test_no_generated_claim_reads_as_sensitive():
    from digestkit import sources
    from digestkit.digest import build_digest

    data = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
    revisions = sources.load_revisions(data)
    texts = [
        claim["text"]
        for row in revisions[revisions["status"] == "published"].itertuples()
        for part in ("changed_steps", "carried_forward", "open_questions", "flags")
        for claim in build_digest(row.runbook_id, row.revision, data=data).to_dict()[part]
    ]
    assert len(texts) > 100
    assert [t for t in texts if find_sensitive(t, data)] == []


@pytest.fixture(scope="module")
def world_b(tmp_path_factory):
    from world_b import build_world_b

    return build_world_b(tmp_path_factory.mktemp("screen") / "world_b")


ZOFIA = "the name of CRM contact CON-B001"
ZOFIA_PHONE = "the phone number of CRM contact CON-B001"


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        # spelling tricks: format characters, look-alike letters, accents, width, case
        ("Call Zo\u00adfia Kowal\u200bczyk now.", [ZOFIA]),
        ("Call Z\u043efia \u041aowalczyk now.", [ZOFIA]),  # Cyrillic o and K
        ("Call \u0396ofia Kowalczyk now.", [ZOFIA]),  # Greek capital zeta
        ("Call Zófia Kowalczyk now.", [ZOFIA]),  # an accent added
        ("Mateus Albuquerque", ["the name of CRM contact CON-B002"]),
        ("Ask \uff3a\uff4f\uff46\uff49\uff41 KOWALCZYK.", [ZOFIA]),  # full-width letters
        ("Lukasiewicz Dental asked", ["the name of CRM account ACC-B002"]),  # accent removed
        ("łukasiewicz dental group s.a. asked", ["the name of CRM account ACC-B002"]),
        # partial forms that are refused
        ("Kowalczyk, Zofia asked", [ZOFIA]),
        ("Z. Kowalczyk asked", [ZOFIA]),
        ("Zofia K. asked", [ZOFIA]),
        ("Kowalczyk asked", ["the surname of CRM contact CON-B001"]),
        ("ask oyelowo first", ["the surname of CRM contact CON-B003"]),
        ("T. Page asked", ["the name of CRM contact CON-B004"]),
        ("Tobias P. asked", ["the name of CRM contact CON-B004"]),
        # phones and e-mails however written
        (
            "ring \uff0b48 22 555 0147",
            ["a phone number", "the phone number of CRM contact CON-B001"],
        ),
        ("ring 225550147", [ZOFIA_PHONE]),
        ("ring 022 555 01 47", [ZOFIA_PHONE]),
        ("ring 0048 22 555 0147", [ZOFIA_PHONE]),
        (
            "mail zofia\u200b.kowalczyk@kowalczyk-freight.example",
            ["an e-mail address", ZOFIA, "the name of CRM account ACC-B001"],
        ),
        # partial forms that are not refused (see the screen module): a first name alone,
        # bare initials, and a surname that is an ordinary word alone
        ("Zofia asked", []),
        ("ZK asked", []),
        ("Page the secondary; Tobias asked.", []),
        ("Page the Ledger Service on-call.", []),
    ],
)
def test_the_screen_folds_spelling_before_matching(world_b, typed, found):
    assert find_sensitive(typed, world_b) == found


def test_fold_maps_every_character_back_to_the_original():
    from digestkit.normalize import fold

    text = "Zo\u00adfia K\u043ewalczyk, Ferre\u0301ira \ufb01ne"
    folded = fold(text)
    assert folded.text == "zofia kowalczyk, ferreira fine"
    start = folded.text.index("kowalczyk")
    assert text[slice(*folded.span(start, start + len("kowalczyk")))] == "K\u043ewalczyk"
    assert text[slice(*folded.span(0, len("zofia")))] == "Zo\u00adfia"
