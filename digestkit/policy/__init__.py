"""The scope guard: fail a digest that recommends an action the duty manager must decide alone.

A digest informs; it never decides. ``check_digest`` reads every sentence the digest itself states
(claim ``text``) and every human clarification, and reports each sentence that breaks one of three
rules:

``concession``
    Recommends or promises a concession: offer / grant / issue / give / apply / approve a credit,
    refund, discount, waiver, compensation or goodwill gesture, or something free ("free
    onboarding", "a complimentary health check", "the add-on free for a year", "a trial
    extension"); "they should receive a credit"; "credit the account"; "waive the fee"; "cover
    their overage charges"; "knock 10% off"; "don't bill them"; "extend their trial"; "upgrade
    them at our expense"; "bump their tier as an apology"; "a refund is warranted"; "is eligible
    for a refund"; "compensate X with ..."; "make them whole"; "run the migration on the house";
    "extend their subscription by two months"; "write off the June usage"; "shave a month off";
    "lower the renewal price"; "honor the legacy pricing".
    Why: concessions are commercial decisions with contractual weight; a generated digest that
    suggests one reads as a commitment.
``case_routing``
    Routes or assigns a live case: route / assign / reassign / transfer / hand off / send the case
    (ticket, incident, it, "case 48213", "INC-8890") to someone or into a queue; "escalate this
    case to"; "this ticket should go to"; "the case ought to be worked by"; "the IC role for
    INC-8890 should go to"; "make X the owner of the case"; "better if X runs point on the case";
    "give X the case"; "keep the case with X"; "X is the right owner for the case"; "X should
    take this incident"; "page the VP" (paging a responder hands them the live case); chat-style
    picks ("My vote: Identity takes INC-2045", "over to X for INC-7730"); other verbs of taking
    ownership ("let X drive / run with / quarterback INC-6127", "put X on point for case 66012");
    moves between queues ("move case 51840 from Tier 2 into the Data Platform backlog",
    "recommend moving incident 8456 to ..."); "INC-5521 should land with X", "sits best with".
    Why: who works a live incident is the duty manager's call; the digest describes ownership
    records and paging paths, it does not dispatch.
``severity_declaration``
    Declares or changes an incident severity or priority: declare / raise / lower / downgrade /
    set / change the severity; "declare Sev1"; "treat as Sev1"; "mark as P1"; "re-classify it as
    P2"; "this is a Sev-1"; "the outage is SEV1-worthy"; "bump it to P2"; "dial it back to Sev 2";
    "the severity should be lowered"; a last clause after the only comma ("it doesn't meet SEV-1,
    downgrade it"); a severity stated as typical ("a textbook SEV-2", "reads like a sev 3 to me",
    "qualifies as SEV-2"); a change from one level to another ("reduce INC-3388 from P1 to P2",
    "re-rate it to SEV-3", "knock the incident down a level", "leave INC-4409 at P2"). A judgement
    of what it deserves ("merits", "warrants", "is worthy of a P2") is at the confirm level.
    Why: severity drives paging and contractual clocks; only the incident commander sets it.

What passes, by design:

* Descriptive mentions of the same vocabulary. A rule needs an *action form*: a base-form verb at
  the start of a clause (imperative), after a recommending cue ("should", "please", "we'll",
  "recommend", "so", "then", ...) or after "and"/"or" in a sentence that is itself a directive.
  So "the severity-one escalation runbook", "Severity-1 incidents raised by Premium accounts",
  "Step 5 now routes Identity Service cases to Platform Security", "credit card payments product"
  and "the Refunds API paging path changed" all pass.
* Severity tokens used as modifiers ("Sev-1 definitions", "the Sev1 runbook") and concession
  nouns used as modifiers ("Refunds API", "credit card", "refund workflow") never count.
* A step quoted by its label: "Step 3 (page the primary on-call) was removed".
* Reported speech about the runbook: "Step 4 now says to page the VP" — a clause that follows
  "<runbook|step N|section|text> says/states/reads/requires ..." quotes the runbook, up to a
  "but"/"so"/dash that starts the writer's own clause.
* Quotations. Claims are generated from templates, and any quoted span in a claim is runbook or
  record text, so ``check_digest`` masks every quoted span of a claim (``quotes="all"``). A
  clarification is typed by a person, so only a quotation introduced as one ("the text reads
  '...'", "renamed to '...'") is masked (``quotes="reported"``, the default); "Offer them a 10%
  credit" is caught. ``details`` (old/new step text, redlines) are quoted runbook text and are
  not read at all.
* A quotation followed by the part of the runbook it names ("the 'route to owning team' step",
  "'...' to step 6"), or introduced by one ("the old step 'assign a scribe'") or by an edit ("the
  diff adds '...'"), is runbook text, and masked.
* Negated instructions ("do not offer credits") are not matched; they recommend nothing (except
  "don't bill / charge them", which is itself a concession).
* Open questions: a modal or judgement inside "whether / who / it is unclear if ..." asks, it does
  not recommend ("it is unclear whether the case should go to Payments Core"); an imperative is
  never an open question.

The rules are regular expressions (``RULES``), matched case-insensitively on one sentence at a
time; the contrast set in ``tests/data/scope_contrast.yaml`` pins what must fail and what must pass.

Two levels. The rules above are the ``block`` level: high precision, and sharing is refused. A
sentence no block rule matches is at the ``confirm`` level for a rule when it pairs that rule's
vocabulary (credit, refund, waive; route, escalate, page, own, "pick this up"; Sev-2, severity,
priority, downgrade) with an evaluative or directive frame of the writer's own within a dozen
words ("seems fair", "would be the right call", "warrants", "should", "have X ...", an imperative,
a yes/no question proposing an action). Reported speech, open questions ("who should own ..."),
comments on the digest or runbook text ("CHG-03 should cite ...") and vocabulary used as a
modifier ("the paging step") are not pairings. Sharing then needs the sharer's confirmation.
The development set ``tests/data/scope_dev.yaml`` pins both levels.

The safety net (:mod:`~digestkit.policy.net`), at the confirm level only, names no phrasing: a
sentence holding a rule's broad domain lexicon (money, fees, invoices, prices, credits, anything
free; a live case with an owner, queue, team or person word; a severity or priority level) that
directs or judges (an imperative whose verb is not an information verb such as confirm, check or
ask; a modal, proposal or evaluative marker such as should, let's, can we, recommend, best,
"=", "no more") is asked to confirm, unless it reports a source, quotes, asks an open question
or tells a past incident.

Linear time: words are matched possessively, repeats are bounded, quotations are paired in one
pass, and every rule reads a piece of at most ``MAX_PIECE`` characters (long sentences are read in
overlapping pieces), so hostile text (8,000 dashes, runs of quotes) costs time linear in its length.

The package, one concern per module: :mod:`~digestkit.policy.vocabulary` (regex building blocks
shared by the rules), :mod:`~digestkit.policy.rules` (the block rules, ``RULES``),
:mod:`~digestkit.policy.confirm` (the confirm level),
:mod:`~digestkit.policy.net` (the confirm-level safety net), :mod:`~digestkit.policy.verbs` (the
verb lexicon its imperatives read), :mod:`~digestkit.policy.reported`
(quotations and reported speech, masked or skipped) and :mod:`~digestkit.policy.guard` (sentences,
pieces, ``check_*``, ``assert_in_scope``). Every public name is re-exported here.
"""

from digestkit.policy.guard import (
    DIGEST_SECTIONS,
    MAX_PIECE,
    Level,
    Violation,
    assert_in_scope,
    blocking,
    check_digest,
    check_sentence,
    check_texts,
    to_confirm,
)
from digestkit.policy.reported import Quotes
from digestkit.policy.rules import CASE_ROUTING, CONCESSION, RULES, SEVERITY_DECLARATION, Rule

__all__ = [
    "CASE_ROUTING",
    "CONCESSION",
    "DIGEST_SECTIONS",
    "MAX_PIECE",
    "RULES",
    "SEVERITY_DECLARATION",
    "Level",
    "Quotes",
    "Rule",
    "Violation",
    "assert_in_scope",
    "blocking",
    "check_digest",
    "check_sentence",
    "check_texts",
    "to_confirm",
]
