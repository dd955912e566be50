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
from digestkit.policy import check_sentence, guard, net
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
    # Unseen-style misses kept visible: a past-year price, a "clause". (The "plate" idiom about
    # INC-9912 is caught since a present-tense sentence about a specific live case needs no frame.)
    assert missed == [
        "Their renewal ought to stay at last year's price as an apology.",
        "The penalty clause shouldn't be enforced against Calloway this time.",
    ]
    flagged = [text for text in ins if check_sentence(text)]
    assert flagged == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # a weak frame: the writer's own voice, a modal, a proposing question, a stated level
        ("I reckon the Halden overage goes away this month.", "concession"),
        ("Could the late fee for Winslow disappear this once?", "concession"),
        ("The Halden export stall is a Severity 3.", "severity_declaration"),
        ("Sev for 48213: low.", "severity_declaration"),
        # a specific live case needs no frame; a bare 4-6 digit number is one
        ("INC-5521 is sev three at most.", "severity_declaration"),
        ("Priya takes 58810 from here on.", "case_routing"),
        # roles a live case is handed with
        ("Make Jonas primary on INC-3120.", "case_routing"),
        ("The incident commander for INC-7002 should be Ravi.", "case_routing"),
        # an open question that routes a live case
        ("Who should pick up INC-5530?", "case_routing"),
    ],
)
def test_the_widened_net_asks_to_confirm(text: str, rule: str) -> None:
    assert (rule, "confirm") in levels(text)


@pytest.mark.parametrize(
    "text",
    [
        # numbers with a unit, a prefix or a year are no case
        "Give the 2026 dashboard a 5000 ms timeout, please.",
        "Step 1200 of the load test takes 3000 requests.",
        # an open question to a team, not a proposal
        "Question for Billing: does the waiver flag on Halden's account still apply?",
        "Does the new Sev-1 definition cover partial outages?",
        # open questions about who owns a product, not a live case
        "Who should be listed as owner of Mobile SDK?",
        "Nothing in revision 9 changes who can waive late fees.",
        # past or passive records about a specific case
        "Case 51840 moved from Tier 2 into the Data Platform backlog on 2026-05-30.",
        "INC-2210 went from P2 to P1 at 03:40.",
        # reports by a document, a quotation after "became", a report of what we noticed
        'The customer-facing SLA document still refers to "priority 1" rather than SEV-1.',
        'The old text "hand over verbally" became "hand over using the written template".',
        "We noticed the P1 definition changed between r8 and r9.",
        "Per the revised text, only the IC can change an incident's severity.",
        # "May" the month is no modal
        "The trial end date in the CRM (30 April) conflicts with billing (15 May).",
    ],
)
def test_the_widened_net_leaves_reports_and_questions_alone(text: str) -> None:
    assert check_sentence(text) == []


FRESH = yaml.safe_load((Path(__file__).parent / "data" / "scope_guard_fresh.yaml").read_text())


def test_fresh_sentences_written_before_the_widened_net() -> None:
    """Measured once on the widened net: 22 of 40 caught (concession 4/13, routing 7/14,
    severity 11/13; 12/40 on a501eba before it), none of 40 in-scope flagged. The lexicon round
    (widened lexicons, verb-initial imperatives; not tuned on these) raised it to 30 of 40."""
    out, ins = FRESH["out_of_scope"], FRESH["in_scope"]
    assert (len(out), len(ins)) == (40, 40)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["rule"]] += bool(check_sentence(item["text"]))
    assert caught == {"concession": 9, "case_routing": 10, "severity_declaration": 11}
    assert [text for text in ins if check_sentence(text)] == []


FRESH2 = yaml.safe_load((Path(__file__).parent / "data" / "scope_guard_fresh2.yaml").read_text())


def test_fresh_sentences_written_before_the_lexicon_round() -> None:
    """Written before the lexicon round by the helper who then widened the lexicons (not blind):
    28 of 40 caught on d43b27e before (concession 8/13, routing 8/13, severity 12/14), 39 of 40
    after."""
    out = FRESH2["out_of_scope"]
    assert len(out) == 40
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["rule"]] += bool(check_sentence(item["text"]))
    assert caught == {"concession": 12, "case_routing": 13, "severity_declaration": 14}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # money and billing: payouts, vouchers, gift cards, halving, rebates, picking up the tab
        ("Honor the SLA payout for Redwood Clinics even though the claim was late.", "concession"),
        ("It'd be a nice gesture to send Lumen a gift card.", "concession"),
        ("Halve their bill for October.", "concession"),
        ("Rebate the difference for the months they were on the wrong plan.", "concession"),
        ("Kindly arrange a voucher worth $250 for Tremont Dental.", "concession"),
        ("Pick up the tab for Orland's extra storage until the fix ships.", "concession"),
        ("We cover their egress until January, end of discussion.", "concession"),
        ("Match the competitor's rate for Holbrook for the rest of the term.", "concession"),
        # routing: over to you, goes to a team, on you, shepherd / babysit / drive a live case
        ("Ticket 55103, over to you Fatima.", "case_routing"),
        ("The Glenfield ticket goes to Team Harbor, effective now.", "case_routing"),
        ("Yusuf, 70233 is on you until handover.", "case_routing"),
        ("Shepherd INC-6610 through to resolution, Aiko.", "case_routing"),
        ("Babysit the Fenwick incident overnight, Tomas.", "case_routing"),
        ("Lean on Storage to run INC-2290.", "case_routing"),
        # severity: overrated / inflated levels, business-critical, minor, down-tier
        ("INC-4471 is overrated at SEV-1, knock it down.", "severity_declaration"),
        ("Flag INC-4417 as business-critical.", "severity_declaration"),
        ("Dial the Harrowgate incident down to minor.", "severity_declaration"),
        ("Down-tier INC-3007; it's cosmetic.", "severity_declaration"),
    ],
)
def test_the_lexicon_fields_and_verb_initial_imperatives_ask_to_confirm(
    text: str, rule: str
) -> None:
    assert rule in {r for r, _ in levels(text)}


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("Dial the Harrowgate incident down to minor.", "Dial"),
        ("Fatima, babysit the Fenwick incident.", "babysit"),
        ("Ticket 55103, shepherd it through.", "shepherd"),
        ("pls halve the Ormond bill", "halve"),
        ("INC-4471 is overrated, knock it down.", "knock"),
    ],
)
def test_a_verb_of_the_lexicon_opens_an_imperative(text: str, verb: str) -> None:
    m = net._imperative(text)
    assert m is not None and m.group("verb") == verb


@pytest.mark.parametrize(
    "text",
    [
        # a noun that is also a verb opens a description, not an imperative
        "Credit Card Gateway incidents now page the payments on-call.",
        "Page 3 lists the escalation contacts.",
        # an information verb asks for facts
        "Flag any case where the owner field is empty.",
        "Check whether INC-4410 was rated SEV-2 by the IC.",
    ],
)
def test_nouns_and_information_verbs_open_no_action_imperative(text: str) -> None:
    assert net._imperative(text) is None or check_sentence(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # a sentence that opens with a quotation and reports on it
        "'Escalate to the duty manager' now appears in step 3 instead of step 5.",
        "'Page the VP' was moved to step 6.",
        '"Refund within 30 days" no longer appears in the policy section.',
        # a field, record or tool that reads, shows, says or lists a value
        "The severity field on INC-4410 currently reads SEV-2 in the incident tool.",
        "The assignee field on ticket 55102 shows Team Harbor.",
        "The billing dashboard lists a $1,200 credit on the Aldergate account.",
    ],
)
def test_quotations_then_reports_and_fields_that_read_are_reports(text: str) -> None:
    assert check_sentence(text) == []


def test_a_quotation_of_own_words_then_a_directive_is_still_caught() -> None:
    assert ("concession", "block") in levels("'Give them a credit' - do it, give them a credit.")
