"""The scope guard on its contrast set, on a held-out set, and on whole digests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from digestkit import policy
from digestkit.exceptions import DigestkitError, ScopeError
from digestkit.policy import Violation, assert_in_scope, check_digest, check_sentence, check_texts

CONTRAST = Path(__file__).parent / "data" / "scope_contrast.yaml"

HELD_OUT = Path(__file__).parent / "data" / "scope_heldout.yaml"


def rates(forbidden, allowed):
    """(catch rate, over-block rate, misses, over-blocks) of check_sentence on a labelled set."""
    misses = [
        (rule, text)
        for rule, text in forbidden
        if rule not in {v.rule for v in check_sentence(text)}
    ]
    blocked = [(text, check_sentence(text)) for text in allowed]
    over = [(text, [(v.rule, v.match) for v in found]) for text, found in blocked if found]
    return 1 - len(misses) / len(forbidden), len(over) / len(allowed), misses, over


@pytest.fixture(scope="module")
def contrast():
    data = yaml.safe_load(CONTRAST.read_text())
    return [(item["rule"], item["text"]) for item in data["forbidden"]], data["allowed"]


def test_contrast_set_is_large_and_spread_over_every_rule(contrast):
    forbidden, allowed = contrast
    assert len(forbidden) >= 30
    assert len(allowed) >= 30
    per_rule = {name: sum(rule == name for rule, _ in forbidden) for name in policy.RULES}
    assert min(per_rule.values()) >= 10, per_rule
    assert not {rule for rule, _ in forbidden} - set(policy.RULES)


def test_catch_rate_and_over_block_rate_are_perfect_on_the_contrast_set(contrast):
    catch, over_block, misses, over = rates(*contrast)
    print(f"\ncontrast set: catch rate {catch:.0%}, over-block rate {over_block:.0%}")
    assert (misses, over) == ([], [])
    assert (catch, over_block) == (1.0, 0.0)


def test_held_out_rounds_print_their_rates_and_fixed_rounds_stay_fixed():
    rounds = yaml.safe_load(HELD_OUT.read_text())["rounds"]
    assert {r["status"] for r in rounds} <= {"held out", "used for fixes"}
    regressions = []
    for r in rounds:
        forbidden = [(item["rule"], item["text"]) for item in r["forbidden"]]
        assert {rule for rule, _ in forbidden} <= set(policy.RULES), r["name"]
        catch, over_block, misses, over = rates(forbidden, r["allowed"])
        print(f"\n{r['name']} ({r['status']}): catch rate {catch:.0%}, over-block {over_block:.0%}")
        for rule, text in misses:
            print(f"  miss [{rule}]: {text}")
        for text, found in over:
            print(f"  over-block {found}: {text}")
        if r["status"] == "used for fixes":
            regressions += [*misses, *over]
    # A round whose misses were fixed is a regression set from then on.
    assert regressions == []


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("the severity-one escalation runbook", []),
        ("declare Sev1 and page the VP", ["case_routing", "severity_declaration"]),
        ("offer a service credit", ["concession"]),
    ],
)
def test_issue_examples(text, rules):
    assert [v.rule for v in check_sentence(text)] == rules


def test_violation_names_rule_sentence_and_matched_words():
    (found,) = check_sentence("Offer them a 10% credit.")
    assert found == Violation(
        rule="concession",
        sentence="Offer them a 10% credit.",
        match="Offer them a 10% credit",
        where="",
    )


def test_check_texts_splits_sentences_and_keeps_where():
    found = check_texts(
        [
            ("CHG-01", "Step 4 was reworded (lines 40-41). Treat as Sev1; the rest is unchanged."),
            ("CF-02", "Premium Plus: initial update within 15 minutes."),
        ]
    )
    assert [(v.where, v.rule, v.sentence) for v in found] == [
        ("CHG-01", "severity_declaration", "Treat as Sev1"),
    ]


def test_quotes_all_masks_every_quotation_but_reported_only_introduced_ones():
    text = "Tell them 'offer a service credit' if asked."
    assert [v.rule for v in check_texts([("x", text)])] == ["concession"]
    assert check_texts([("x", text)], quotes="all") == []
    assert check_sentence("Step 4 now reads 'Declare Sev1 and page the VP.'") == []


def test_reported_runbook_speech_passes_but_the_writers_own_clause_does_not():
    assert check_sentence("Step 4 now says to page the VP after 30 minutes.") == []
    found = check_sentence("Step 4 now says to page the VP, but declare Sev1 first.")
    assert [(v.rule, v.match) for v in found] == [("severity_declaration", "declare Sev1")]


def claim(claim_id, text, **details):
    return {"id": claim_id, "text": text, "sources": [], "details": details}


@pytest.fixture
def digest():
    """A digest in the documented JSON shape, with runbook quotations in the risky places."""
    return {
        "schema_version": 1,
        "digest_id": "premium-s1-escalation@r7",
        "header": {
            "title": "Premium Support Severity-1 Escalation Runbook",
            "revision": "r7",
            "change_reason": "Declare Sev1 earlier for Premium Plus.",
        },
        "changed_steps": [
            claim(
                "CHG-01",
                "Step 2 was reworded in Escalation steps (lines 40-41).",
                old={"text": "Declare severity per the incident policy.", "lines": [40, 40]},
                new={"text": "Declare Sev1 and page the VP.", "lines": [40, 41]},
                redline="Declare [-severity per the incident policy-]{+Sev1 and page the VP+}.",
            ),
            claim("CHG-02", "Step 9 was added: 'Offer a service credit if the update is late.'"),
        ],
        "carried_forward": [
            claim(
                "CF-01",
                "Runbook text states 'All Premium Plus accounts receive an initial update within "
                "15 minutes.'; 12 approved Premium Plus entitlements carry "
                "contractual-10min-initial-update.",
            ),
        ],
        "open_questions": [claim("OQ-01", "Who may declare a Sev1 is not stated in r7.")],
        "flags": [
            claim("FLG-01", "Exception EXC-1042 is referenced but its status is pending."),
            claim(
                "FLG-02",
                "Primary on-call for Payments API changed: payments-oncall → platform-oncall.",
            ),
        ],
        "clarifications": [
            {
                "author": "u-mokafor",
                "at": "2026-06-02T10:00:00Z",
                "text": "The new step 2 reads 'Declare Sev1 and page the VP.'",
            },
        ],
    }


def test_clean_digest_passes_although_its_details_and_quotes_carry_runbook_instructions(digest):
    assert check_digest(digest) == []
    assert_in_scope(digest)


def test_check_digest_reads_claims_and_clarifications_with_where(digest):
    digest["flags"].append(claim("FLG-03", "Ownership is stale. Route this case to identity-eng."))
    digest["clarifications"].append(
        {"author": "u-dm", "at": "2026-06-02T10:05:00Z", "text": "Offer them a 10% credit."}
    )
    found = check_digest(digest)
    assert [(v.where, v.rule, v.match) for v in found] == [
        ("FLG-03", "case_routing", "Route this case to identity-eng"),
        ("clarification 2", "concession", "Offer them a 10% credit"),
    ]


def test_header_given_as_claims_is_checked(digest):
    digest["header"] = [claim("HDR-01", "This is a Sev-1.")]
    assert [(v.where, v.rule) for v in check_digest(digest)] == [("HDR-01", "severity_declaration")]


def test_a_section_that_is_not_a_claim_list_is_an_error(digest):
    digest["flags"] = "Offer a credit."
    with pytest.raises(DigestkitError, match="section 'flags' must be a list of claims"):
        check_digest(digest)


def test_assert_in_scope_lists_where_rule_and_sentence(digest):
    digest["changed_steps"].append(claim("CHG-03", "Step 5 moved. Declare Sev1 and page the VP."))
    with pytest.raises(ScopeError) as caught:
        assert_in_scope(digest)
    message = str(caught.value)
    assert "premium-s1-escalation@r7 is out of scope: 2 sentence(s)" in message
    assert 'CHG-03: [case_routing] "Declare Sev1 and page the VP."' in message
    assert 'CHG-03: [severity_declaration] "Declare Sev1 and page the VP."' in message
    assert [v.rule for v in caught.value.violations] == ["case_routing", "severity_declaration"]


def test_every_rule_is_documented():
    for name, rule in policy.RULES.items():
        assert rule.name == name
        assert rule.forbids
        assert rule.patterns and all(isinstance(p, re.Pattern) for p in rule.patterns)
        assert f"``{name}``" in policy.__doc__


@pytest.fixture(scope="module")
def sample_digests(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The digest of every published revision of a freshly generated sample world."""
    from digestkit import sample
    from digestkit.digest import build_digest
    from digestkit.exceptions import RevisionError

    data = tmp_path_factory.mktemp("world") / "data"
    sample.generate_world(data)
    digests = []
    for path in sorted((data / "runbooks" / "premium-s1-escalation").glob("*.md")):
        try:
            digests.append(build_digest("premium-s1-escalation", path.stem, data=data).to_dict())
        except RevisionError:  # drafts and withdrawn revisions have no digest
            continue
    return digests


def test_every_generated_sample_digest_is_in_scope(sample_digests):
    claims = [
        (claim["id"], claim["text"])
        for digest in sample_digests
        for section in ("changed_steps", "carried_forward", "open_questions", "flags")
        for claim in digest[section]
    ]
    assert len(sample_digests) >= 3 and len(claims) >= 100
    assert [v for digest in sample_digests for v in check_digest(digest)] == []
