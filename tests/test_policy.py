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

BLIND5 = Path(__file__).parent / "data" / "scope_blind5.yaml"


def rates(forbidden, allowed):
    """(catch rate at either level, over-block rate, misses, flagged) of check_sentence.

    ``flagged`` lists every allowed sentence blocked or asked to confirm, with (level, rule, match).
    """
    misses = [
        (rule, text)
        for rule, text in forbidden
        if rule not in {v.rule for v in check_sentence(text)}
    ]
    found = [(text, check_sentence(text)) for text in allowed]
    flagged = [(text, [(v.level, v.rule, v.match) for v in vs]) for text, vs in found if vs]
    blocked = [text for text, vs in found if policy.blocking(vs)]
    return 1 - len(misses) / len(forbidden), len(blocked) / len(allowed), misses, flagged


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
        confirm = len(over) / len(r["allowed"]) - over_block
        print(
            f"\n{r['name']} ({r['status']}): caught {catch:.0%}, blocked {over_block:.0%}, "
            f"asked to confirm {confirm:.0%}"
        )
        for rule, text in misses:
            print(f"  miss [{rule}]: {text}")
        for text, found in over:
            print(f"  over-block {found}: {text}")
        if r["status"] == "used for fixes":
            regressions += [*misses, *over]
    # A round whose misses were fixed is a regression set from then on.
    assert regressions == []


def test_blind_set_5_used_for_fixes_stays_fixed():
    """Blind set 5 was blind when measured on 07f1289 (85.3% caught, 0.7% of in-scope sentences
    blocked, 0.7% asked to confirm); its misses were then fixed by class, so from then on it is a
    regression set like the used held-out rounds: everything caught, nothing flagged."""
    data = yaml.safe_load(BLIND5.read_text())
    forbidden = [(item["category"], item["text"]) for item in data["out_of_scope"]]
    allowed = [item["text"] for item in data["in_scope"]]
    assert (len(forbidden), len(allowed)) == (150, 150)
    assert {rule: sum(r == rule for r, _ in forbidden) for rule in policy.RULES} == dict.fromkeys(
        policy.RULES, 50
    )
    catch, over_block, misses, flagged = rates(forbidden, allowed)
    print(f"\nblind set 5 (used for fixes): caught {catch:.1%}, flagged in scope {len(flagged)}")
    assert (misses, flagged) == ([], [])
    assert (catch, over_block) == (1.0, 0.0)


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
        level="block",
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
    assert 'CHG-03: [block: case_routing] "Declare Sev1 and page the VP."' in message
    assert 'CHG-03: [block: severity_declaration] "Declare Sev1 and page the VP."' in message
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


# --- two levels (issue 16) --------------------------------------------------------------------

DEV = Path(__file__).parent / "data" / "scope_dev.yaml"


def test_contrast_set_is_still_caught_at_block_level(contrast):
    forbidden, _ = contrast
    levels = {text: {(v.rule, v.level) for v in check_sentence(text)} for _, text in forbidden}
    assert [text for rule, text in forbidden if (rule, "block") not in levels[text]] == []


def test_development_set_is_caught_at_either_level_and_its_in_scope_sentences_pass():
    data = yaml.safe_load(DEV.read_text())
    forbidden = [(item["rule"], item["text"]) for item in data["out_of_scope"]]
    assert len(forbidden) >= 50 and len(data["in_scope"]) >= 50
    per_rule = {name: sum(rule == name for rule, _ in forbidden) for name in policy.RULES}
    assert min(per_rule.values()) >= 15, per_rule
    catch, _, misses, flagged = rates(forbidden, data["in_scope"])
    print(f"\ndevelopment set: caught {catch:.0%}, flagged in scope {len(flagged)}")
    assert (misses, flagged) == ([], [])
    # The new level does the work here: most of these phrasings pass the block rules.
    confirm_only = [t for _, t in forbidden if not policy.blocking(check_sentence(t))]
    assert len(confirm_only) >= len(forbidden) // 2


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "Declare Sev1 and page the VP.",
            [("case_routing", "block"), ("severity_declaration", "block")],
        ),
        ("The incident warrants SEV-2.", [("severity_declaration", "confirm")]),
        ("Severity must go down to 3.", [("severity_declaration", "confirm")]),
        ("I think a partial refund makes sense here.", [("concession", "confirm")]),
        ("Refunding them would be the right call.", [("concession", "confirm")]),
        ("This should be run by Platform Security.", [("case_routing", "confirm")]),
        ("Have the Ledger team pick this up.", [("case_routing", "confirm")]),
        ("Put the escalation with the account manager.", [("case_routing", "confirm")]),
        ("Should we go to Sev 1?", [("severity_declaration", "confirm")]),
        # a case named by its number, a queue, a passive owner, a role (blind set 5's classes)
        ("Reassign ticket 4411 to the Billing Engine team.", [("case_routing", "block")]),
        ("Drop the Ledger incident into the Payments Core queue.", [("case_routing", "block")]),
        (
            "The Halcyon escalation ought to be handled by the EMEA desk.",
            [("case_routing", "block")],
        ),
        (
            "Ownership of INC-4410 should move to the Data Pipelines team.",
            [("case_routing", "block")],
        ),
        ("Put Payments Core in charge of the Ledger Service case.", [("case_routing", "block")]),
        ("Payments Core is the right owner for INC-5530.", [("case_routing", "block")]),
        ("Keep INC-3301 with Payments Core.", [("case_routing", "block")]),
        ("Give Payments Core the Ledger Service case.", [("case_routing", "block")]),
        ("Storage should be the ones working INC-3301.", [("case_routing", "block")]),
        ("Knock 10% off their next invoice.", [("concession", "block")]),
        ("Upgrade Brightwater to Premium Plus at our expense.", [("concession", "block")]),
        ("Bump their support tier to Premium Plus as an apology.", [("concession", "block")]),
        ("Don't bill Orbital Bank for the downtime hours.", [("concession", "block")]),
        ("Dial the Halcyon incident back to Sev 2.", [("severity_declaration", "block")]),
        ("Should the Ledger incident go to Payments Core?", [("case_routing", "confirm")]),
        ("Throw in a free health check for the trouble.", [("concession", "block")]),
        ("Let's extend their evaluation period by a month.", [("concession", "block")]),
        ("Re-categorize the Ledger incident as P1.", [("severity_declaration", "block")]),
        ("That outage is P1 territory.", [("severity_declaration", "block")]),
        (
            "Error rates are back to normal, downgrade the incident.",
            [("severity_declaration", "block")],
        ),
        # the same vocabulary reported, described or asked about passes
        ("The runbook says a service credit should be offered when the update is late.", []),
        ("Step 4 says the VP should be paged after 30 minutes.", []),
        ("It is unclear whether the severity can be lowered by the duty manager.", []),
        ("CHG-03 should say the escalation path changed, not the owner.", []),
        # open questions, descriptions and quoted step labels with the same vocabulary
        ("It is unclear whether the Ledger case should be worked by Payments Core.", []),
        ("Who should be the owner of INC-8890 is not stated.", []),
        ("Whether the incident should be treated as Sev1 is an open question.", []),
        ("Case 48213 was assigned to the Messaging Platform team on 2026-05-02.", []),
        ("EXC-1042 grants complimentary onboarding to one account.", []),
        ("The free-text field in the intake form was removed.", []),
        ("A SEV1-worthy outage is defined in section 2 as total loss of login.", []),
        ("Reviewers called the 'route to owning queue' step redundant.", []),
        ("The old bullet 'assign a scribe' was dropped.", []),
        ("The Ledger Service case belongs to a Premium Plus account.", []),
        ("Case 48213 was opened today and is assigned to Messaging Platform in the CRM.", []),
        ("Step 4 now has three actions: declare severity, open the bridge, page the primary.", []),
        ("Step 4 raises the severity to Sev 2 after an hour.", []),
        ("Give the reviewer the case summary.", []),
        ("The diff adds 'keep the case with the owning team' to step 6.", []),
        ("Primary on-call for Payments API changed: payments-oncall → platform-oncall.", []),
    ],
)
def test_check_sentence_reports_rule_and_level(text, found):
    assert [(v.rule, v.level) for v in check_sentence(text)] == found


def test_a_block_match_wins_over_a_confirm_pairing_for_the_same_rule():
    (found,) = check_sentence("A P1 seems fair, so raise it to P1.")
    assert (found.rule, found.level, found.match) == (
        "severity_declaration",
        "block",
        "raise it to P1",
    )


def test_assert_in_scope_lets_confirmed_sentences_through_but_never_blocked_ones(digest):
    digest["clarifications"].append(
        {"author": "u-dm", "at": "2026-06-02T10:05:00Z", "text": "Sev 2 seems fair for this one."}
    )
    with pytest.raises(ScopeError, match=r"clarification 2: \[confirm: severity_declaration\]"):
        assert_in_scope(digest)
    assert_in_scope(digest, confirmed=True)
    digest["flags"].append(claim("FLG-03", "Route this case to identity-eng."))
    with pytest.raises(ScopeError) as caught:
        assert_in_scope(digest, confirmed=True)
    assert [(v.where, v.level) for v in caught.value.violations] == [("FLG-03", "block")]


def test_every_sample_digest_of_every_runbook_has_no_sentence_to_block_or_confirm(tmp_path):
    from digestkit import sample
    from digestkit.digest import build_digest
    from digestkit.exceptions import RevisionError

    data = tmp_path / "data"
    sample.generate_world(data, seed=11, steps=30, products=20)
    digests = []
    for runbook in sorted((data / "runbooks").iterdir()):
        for path in sorted(runbook.glob("*.md")):
            try:
                digests.append(build_digest(runbook.name, path.stem, data=data).to_dict())
            except RevisionError:
                continue
    assert len({d["header"]["runbook_id"] for d in digests}) >= 2 and len(digests) >= 6
    assert [(d["digest_id"], v) for d in digests for v in check_digest(d)] == []


# --- linear on adversarial text (issue 12) ----------------------------------------------------

ADVERSARIAL = {
    "8,000 dashes": "-" * 8_000,
    "8,000 dashes between words": "Offer " + "-" * 8_000 + " a credit",
    "50,000 repeated words": "word " * 50_000,
    "5,000 fillers": "please " * 5_000 + "offer a credit",
    "20,000 quotes": "'" * 20_000,
    "10,000 spaced quotes": "' " * 10_000,
    "10,000 quoted words": '"a" ' * 10_000,
    "20,000 brackets": "(" * 20_000,
    "10,000 step labels": "step 1 ( " * 10_000,
    "10,000 reported frames": "the runbook says " * 10_000,
    "10,000 modals": "should " * 10_000 + "refund",
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_the_guard_reads_adversarial_text_in_bounded_pieces(name, monkeypatch):
    """Every rule runs on pieces of at most MAX_PIECE characters that cover the text at most
    twice, so the work is linear in the length whatever the text holds (an iteration bound, not
    a timer; benchmarks/bench_scope.py times it against a linear baseline)."""
    text = ADVERSARIAL[name]
    pieces: list[int] = []
    scan = policy._scan

    def counting_scan(sentence, masked, where):
        pieces.append(len(masked))
        return scan(sentence, masked, where)

    monkeypatch.setattr(policy, "_scan", counting_scan)
    check_texts([("x", text)])
    assert max(pieces) <= policy.MAX_PIECE
    assert sum(pieces) <= 2 * len(text)
    assert len(pieces) <= 2 * len(text) // (policy.MAX_PIECE - 2 * policy._OVERLAP) + 2


def test_quotations_are_paired_in_one_pass_over_runs_of_quotes():
    # Each opening quote is paired with the first closing quote after it, or the scan stops.
    assert len(list(policy._quotations("' " * 10_000))) <= 5_000
    assert list(policy._quotations("'" * 20_000)) == [(0, 1, 19_999)]
    assert check_sentence("Step 4 now reads 'Declare Sev1 and page the VP.'") == []


def test_a_violation_after_a_long_run_of_junk_is_still_found():
    found = check_sentence("-" * 8_000 + " Offer them a 10% credit.")
    assert [(v.rule, v.level, v.match) for v in found] == [
        ("concession", "block", "Offer them a 10% credit")
    ]
    long = "The runbook was reworded " + "and reworded " * 300 + "so page the VP now."
    assert [v.rule for v in check_sentence(long)] == ["case_routing"]
