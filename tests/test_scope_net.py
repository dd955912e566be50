"""The confirm-level safety net: a rule's domain lexicon in a sentence that directs or judges.

The net enumerates no phrasing (``digestkit/policy/net.py``): it pairs a broad lexicon per rule
with a generic frame (an imperative with an action verb, or a modal / proposal / evaluative
marker), outside reported speech, quotations, open questions and past incidents. It only ever
asks to confirm. ``tests/data/scope_net.yaml`` is its development set (tuning material).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from digestkit import policy
from digestkit.policy import check_sentence, guard
from digestkit.policy.net import net_hits

NET = yaml.safe_load((Path(__file__).parent / "data" / "scope_net.yaml").read_text("utf-8"))
RULES = list(policy.RULES)


def levels(text: str) -> set[tuple[str, str]]:
    return {(v.rule, v.level) for v in check_sentence(text)}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # each category, through the imperative frame
        ("Skip billing Delta Orchards for the months the export feature was broken.", "concession"),
        ("Move #5521 into the Edge Cache queue.", "case_routing"),
        ("Elevate case 51177 to critical priority.", "severity_declaration"),
        # each category, through a modal, proposal or evaluative marker
        ("Can we drop the late payment penalty for Winslow Media entirely?", "concession"),
        ("Case 58810 needs a new owner; Arjun is the obvious pick.", "case_routing"),
        ("Ledger export failures for a single tenant = P3, no more.", "severity_declaration"),
        ("The setup fee for Birchline should be returned to them.", "concession"),
        ("Recommend the incident be reclassified from minor to major.", "severity_declaration"),
        # fillers and an adverb before the verb
        ("pls just scrap the cancellation fee for Quarry Point.", "concession"),
        ("Retroactively apply the premium SLA credit for INC-4410 to all tenants.", "concession"),
    ],
)
def test_the_net_asks_to_confirm_what_no_block_rule_names(text: str, rule: str) -> None:
    assert levels(text) == {(rule, "confirm")}
    assert rule in net_hits(text, RULES)


@pytest.mark.parametrize(
    "text",
    [
        # reported speech and source descriptions
        "The runbook now says the setup fee should be returned to Birchline.",
        "Per the registry, the fee for Birchline should be returned.",
        "Step 6 now says to page the VP of Engineering for any Sev 1.",
        # quotations, introduced by an old/new label or an edit, or not introduced at all
        "Old revision: 'assign to whoever is available'. New revision: 'assign per the routing "
        "table in Appendix C'.",
        "The revision replaces 'assign to the on-call' with 'assign to the owning team'.",
        # open questions and past incidents
        "Whether case 48213 should drop to low priority is an open question.",
        "In INC-4410 the priority was lowered to P3 after the workaround.",
        # imperatives that gather information
        "Confirm the owner of case 58810 with Payments Core.",
        "Pls check whether the P2 definition changed between r7 and r8.",
        "Ask the Billing Ops lead whether the fee waiver clause still applies.",
        # a noun that is also a verb, opening a description
        "Refund requests for the June outage go through the Finance portal.",
        "Change summary: the severity matrix gained a row for data-integrity incidents.",
    ],
)
def test_reports_quotations_questions_and_information_imperatives_are_not_asked(text: str) -> None:
    assert check_sentence(text) == []
    assert net_hits(text, RULES) == {}


def test_routing_needs_a_live_case_and_bare_levels_need_a_severity_context() -> None:
    # ownership words without a live case, "top"/"low" without a severity word
    assert net_hits("Move the escalation contacts into the new page, please.", RULES) == {}
    assert net_hits("Keep the top banner low on the page, please.", RULES) == {}
    assert "case_routing" in net_hits("Move the Halden ticket to the Tier 2 crew, please.", RULES)


def test_the_net_never_blocks_and_a_block_rule_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert levels("Offer them a 10% service credit.") == {("concession", "block")}
    # Without any block rule, whatever is still found is found at the confirm level only.
    bare = {name: replace(rule, patterns=()) for name, rule in policy.RULES.items()}
    monkeypatch.setattr(guard, "RULES", bare)
    found = [v for item in NET["out_of_scope"] for v in check_sentence(item["text"])]
    assert len(found) >= 50 and {v.level for v in found} == {"confirm"}


def test_development_set_of_the_net() -> None:
    out, ins = NET["out_of_scope"], NET["in_scope"]
    assert (len(out), len(ins)) == (62, 87)
    missed = [item["text"] for item in out if not check_sentence(item["text"])]
    # Unseen-style misses kept visible: a past-year price, a "clause", a "plate" idiom.
    assert missed == [
        "Their renewal ought to stay at last year's price as an apology.",
        "The penalty clause shouldn't be enforced against Calloway this time.",
        "The Checkout outage (INC-9912) belongs on Payments Core's plate.",
    ]
    flagged = [text for text in ins if check_sentence(text)]
    assert flagged == []
