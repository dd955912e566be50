"""The scope guard: fail a digest that recommends an action the duty manager must decide alone.

A digest informs; it never decides. ``check_digest`` reads every sentence the digest itself states
(claim ``text``) and every human clarification, and reports each sentence that breaks one of three
rules:

``concession``
    Recommends or promises a concession: offer / grant / issue / give / apply / approve a credit,
    refund, discount, waiver, compensation or goodwill gesture; "they should receive a credit";
    "credit the account"; "waive the fee"; "a refund is warranted"; "is eligible for a refund".
    Why: concessions are commercial decisions with contractual weight; a generated digest that
    suggests one reads as a commitment.
``case_routing``
    Routes or assigns a live case: route / assign / reassign / transfer / hand off / send the case
    (ticket, incident, it) to someone; "escalate this case to"; "this ticket should go to";
    "X should take this incident"; "page the VP" (paging a responder hands them the live case).
    Why: who works a live incident is the duty manager's call; the digest describes ownership
    records and paging paths, it does not dispatch.
``severity_declaration``
    Declares or changes an incident severity or priority: declare / raise / lower / downgrade /
    set / change the severity; "declare Sev1"; "treat as Sev1"; "mark as P1"; "this is a Sev-1";
    "bump it to P2"; "the severity should be lowered".
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
* Negated instructions ("do not offer credits") are not matched; they recommend nothing.

The rules are regular expressions (``RULES``), matched case-insensitively on one sentence at a
time; the contrast set in ``tests/data/scope_contrast.yaml`` pins what must fail and what must pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from digestkit.exceptions import DigestkitError, ScopeError

__all__ = [
    "CASE_ROUTING",
    "CONCESSION",
    "DIGEST_SECTIONS",
    "RULES",
    "SEVERITY_DECLARATION",
    "Quotes",
    "Rule",
    "Violation",
    "assert_in_scope",
    "check_digest",
    "check_sentence",
    "check_texts",
]

Quotes = Literal["reported", "all"]

DIGEST_SECTIONS = ("header", "changed_steps", "carried_forward", "open_questions", "flags")

SCOPE_ERROR = (
    "digest {digest} is out of scope: {count} sentence(s) make a decision that belongs to the "
    "duty manager:\n{lines}\nRemove or rephrase them as descriptions; the digest informs, "
    "it does not recommend concessions, route cases or set severity."
)
SCOPE_LINE = '  {where}: [{rule}] "{sentence}" (matched "{match}")'


@dataclass(frozen=True)
class Violation:
    """One sentence that breaks a scope rule, and where in the digest it is."""

    rule: str
    sentence: str
    match: str
    where: str


@dataclass(frozen=True)
class Rule:
    """A scope rule: what it forbids and the patterns that detect it."""

    name: str
    forbids: str
    patterns: tuple[re.Pattern[str], ...]


# --- shared building blocks --------------------------------------------------------------------

_WORD = r"[\w%$'’/.-]+"
# Words that end a noun phrase: a window of object words never crosses them, so "Issue tracking
# for refunds moved" does not read as "issue ... refunds".
_STOP = (
    r"(?:for|of|in|on|at|with|about|from|by|was|were|is|are|be|been|has|have|had|to|that|which|"
    r"who|whose|and|or|but|if|when|than|per|under|after|before|changed|moved|removed|added|not)"
)


def _window(n: int) -> str:
    """Up to ``n`` object words (determiners, names, amounts) inside one clause."""
    return rf"(?:(?!{_STOP}\b){_WORD}\s+){{0,{n}}}?"


def _gerunds(verbs: str) -> str:
    """The -ing forms of a ``|``-separated list of base verbs, as a regex alternation."""
    forms = []
    for verb in verbs.split("|"):
        if verb in ("set", "put"):
            forms.append(verb + verb[-1] + "ing")
        elif verb.endswith("e") and not verb.endswith("ee"):
            forms.append(verb[:-1] + "ing")
        else:
            forms.append(verb + "ing")
    return "|".join(forms)


_FILLER = (
    r"(?:(?:please|now|then|also|so|just|ok|okay|first|next|finally|immediately|kindly|right|"
    r"quickly|definitely|probably|maybe|perhaps|still|simply|go\s+ahead\s+and|and|but)\b[\s,]*)*"
)
# Where an imperative clause can begin: the sentence start (after a bullet, a short label such as
# "Action:" or "Premium Plus:", a vocative "Dana," or a leading "Since ...," / "If ...," clause),
# an opening bracket or quote (an unmasked quote is the writer's own words), or a dash.
_START = (
    r"(?:^[\W_]*(?:[a-z'’-]+(?:\s+[a-z'’-]+){0,3}:\s+|[a-z'’-]+,\s+|(?:since|because|as|if|once|"
    r"when|given|after|before|until|while|now\s+that)\b[^,;:]*,\s+)?"
    r"|(?<=[(\[\"“‘])|(?<=\s')|(?<=\s[—–])\s*|(?<=\s-)\s+|(?<=\s--)\s+)"
)
# Recommending cues: a modal, a request, a proposal or a consequence ("so", "then").
_CUE = (
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:ve|s)\s+to|had\s+better|"
    r"go\s+ahead\s+and|make\s+sure\s+(?:to\s+)?|be\s+sure\s+to|remember\s+to|"
    r"don'?t\s+forget\s+to|please|let'?s|let\s+us|(?:can|could|would|will)\s+you|"
    r"(?:i|we|you)(?:\s+(?:would|will|can|could|might)|['’](?:d|ll))|want\s+to|wants\s+to|"
    r"it(?:'s|’s|\s+is)\s+(?:best|advisable|wise|better|time)\s+to|time\s+to|then|so|therefore|"
    r"hence|instead|but|recommend|suggest|advise|propose|urge)\b"
    r"(?:\s+that)?"
    r"(?:\s+(?:you|we|they|someone|somebody|on-?call|the\s+(?:duty\s+manager|dm|team|on-?call|ic|"
    r"incident\s+commander))(?:\s+(?:should|must|needs?\s+to))?)?"
    r"[\s,]+"
)
_CONJ = r"(?P<conj>\b(?:and|or)\s+|,\s+)"
_LEAD = rf"(?:{_START}{_FILLER}|{_CUE}{_FILLER}|{_CONJ}{_FILLER})"
# Cues that take a gerund: "consider issuing", "recommend declaring".
_GERUND_CUE = (
    r"\b(?:recommend|suggest|propose|consider|advise|try|start|worth|go\s+ahead\s+with|"
    r"i'?d\s+go\s+with|how\s+about|what\s+about)\s+"
)
_MODAL = (
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:ve|s)\s+to|will|would|could|"
    r"deserves?\s+to)\b"
)
_PRONOUN_OBJ = r"(?:it|this|that|them|this\s+one)"


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# --- concession --------------------------------------------------------------------------------

# A concession noun, unless it modifies another noun ("Refunds API", "credit card", "refund
# workflow"): then it names a product, team or process.
_CONCESSION = (
    r"\b(?:credits?|refunds?|discounts?|concessions?|waivers?|compensation|goodwill|rebates?|"
    r"reimbursements?|make-?goods?|free\s+(?:months?|weeks?|period|upgrade|tier|seats?)|"
    r"(?:a|an|one|two|three|\d+)\s+(?:months?|weeks?)\s+(?:free|on\s+us|at\s+no\s+(?:cost|charge))|"
    r"\d+\s*%\s+off)\b"
    r"(?!\s*-?\s*(?:cards?|apis?|services?|teams?|queues?|products?|workflows?|paths?|paging|"
    r"process|system|desk|portal|endpoints?|steps?|sections?|ledger|flow|pipeline|engineers?|"
    r"owners?|on-?call|runbooks?|pages?|dashboard|polic(?:y|ies)|eligibility|vocabulary|"
    r"clauses?|rules?|ownership)\b)"
)
_GIVE_VERBS = (
    "offer|grant|issue|give|apply|approve|provide|extend|process|authorize|authorise|arrange|"
    "promise|comp|award|send|add|post|honor|honour"
)
_PAY_VERBS = "credit|refund|comp|compensate|reimburse"

CONCESSION = Rule(
    name="concession",
    forbids="recommending or promising a credit, refund, discount, waiver or other concession",
    patterns=_compile(
        # "Offer them a 10% service credit", "we should issue a refund"
        rf"{_LEAD}(?P<hit>\b(?:{_GIVE_VERBS})\b\s+{_window(6)}{_CONCESSION})",
        # "consider offering a goodwill credit"
        rf"{_GERUND_CUE}(?P<hit>(?:{_gerunds(_GIVE_VERBS)})\s+{_window(6)}{_CONCESSION})",
        # "Credit the account", "refund them", "compensate the customer"
        rf"{_LEAD}(?P<hit>\b(?:{_PAY_VERBS})\s+(?:them|him|her|it|the|their|this|that|those|these|"
        r"each|every|all|both|back|\$|\d))",
        # "A goodwill discount should be applied to their renewal"
        rf"(?P<hit>{_CONCESSION}\s+(?:[\w%'’-]+\s+){{0,4}}?{_MODAL}\s+(?:also\s+|now\s+)?be\s+"
        r"(?:applied|given|offered|granted|issued|extended|processed|approved|added|posted|"
        r"honou?red|arranged)\b)",
        # "Extend their contract by a quarter at no extra charge", "upgrade them free of charge"
        rf"{_LEAD}(?P<hit>\b(?:{_GIVE_VERBS}|upgrade|extend|add|throw\s+in|include)\b[^.;!?]{{0,60}}?"
        r"\b(?:at\s+no\s+(?:extra\s+|additional\s+)?(?:charge|cost)|free\s+of\s+charge|for\s+free|"
        r"on\s+the\s+house|on\s+us)\b)",
        # "Make it right with a goodwill gesture"
        rf"{_LEAD}(?P<hit>\bmake\s+(?:it|this|things)\s+(?:right|good|up\s+to\s+(?:them|the\s+"
        rf"customer))\s+(?:with|by\s+\w+ing)\s+{_window(6)}{_CONCESSION})",
        # "waive the late fees"
        rf"{_LEAD}(?P<hit>\b(?:waive|forgive|write\s+off|zero\s+out)\s+{_window(4)}"
        r"(?:fees?|charges?|penalt(?:y|ies)|invoices?|overages?|bills?|costs?|surcharges?|balance)\b)",
        # "We recommend a service credit", "Suggest a goodwill refund."
        rf"(?:{_LEAD}|\b(?:i|we|you)\s+(?:would\s+|'d\s+|strongly\s+|also\s+|still\s+)?)"
        rf"(?P<hit>\b(?:recommend|suggest|propose|consider|advise|approve|authori[sz]e|"
        rf"go\s+with|push\s+for)\s+{_window(5)}{_CONCESSION})",
        # "The customer should receive a credit", "they will be refunded"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|still\s+|now\s+)?(?:(?:receive|get|be\s+(?:given|offered|"
        rf"granted|issued|owed|sent|entitled\s+to|eligible\s+for))\s+{_window(5)}{_CONCESSION}|"
        r"be\s+(?:credited|refunded|compensated|reimbursed|comped)\b))",
        # "They are entitled to a refund", "qualifies for a credit", "deserves a goodwill credit"
        rf"(?P<hit>\b(?:(?:is|are|'re|’re|'s|’s)\s+(?:now\s+|also\s+|clearly\s+)?(?:owed|due|"
        rf"entitled\s+to|eligible\s+for)|qualif(?:y|ies)\s+for|deserves?|owe\s+(?:them|him|her|"
        rf"the\s+customer|the\s+account))\s+{_window(4)}{_CONCESSION})",
        # "A goodwill credit is warranted here"
        rf"(?P<hit>{_CONCESSION}\s+(?:\w+\s+){{0,2}}?(?:is|are|would\s+be|seems?|feels?)\s+"
        r"(?:\w+\s+)?(?:warranted|appropriate|recommended|justified|due|owed|in\s+order|"
        r"reasonable|fair|advisable|the\s+right\s+call|called\s+for|merited)\b)",
    ),
)

# --- case routing ------------------------------------------------------------------------------

# A severity value: Sev1, Sev-1, SEV 1, severity one, P1, priority 2, S1.
_SEV = (
    r"\b(?:sev(?:erity)?[\s-]?(?:level[\s-]?)?|pri(?:ority)?[\s-]?(?:level[\s-]?)?|[sp]-?)"
    r"(?:[0-4]|zero|one|two|three|four)\b"
)
_CASE_NOUN = (
    r"(?:cases?|tickets?|incidents?|escalations?|issues?|requests?|outages?|pages?|bridges?|"
    r"customers?|accounts?|calls?)\b"
)
_CASE_OBJ = (
    rf"(?:{_PRONOUN_OBJ}\b|(?:the|this|that|these|those|their|its|our|every|each|all|any)\s+"
    rf"(?:[\w'’-]+\s+){{0,3}}?{_CASE_NOUN})"
)
_NOT_SEV = rf"(?!(?:a\s+|an\s+)?{_SEV})"
_TARGET = r"(?:(?:the|a|an|our|their)\s+)?[\w@-]+"
_ROUTE_VERBS = (
    "route|reroute|re-route|assign|reassign|re-assign|transfer|send|move|forward|pass|give|hand|"
    "escalate|push|kick|bounce|dispatch|refer|redirect|shift|take"
)

CASE_ROUTING = Rule(
    name="case_routing",
    forbids="routing, assigning, handing off or escalating a live case, or paging a responder",
    patterns=_compile(
        # "Route this case to platform-oncall", "hand the ticket over to identity-eng"
        rf"{_LEAD}(?P<hit>\b(?:{_ROUTE_VERBS})\s+{_CASE_OBJ}\s+(?:(?:over|off|back|along|up|across)"
        rf"\s+)?(?:to|into|with|via|through)\s+{_NOT_SEV}{_TARGET})",
        # "Reassign this ticket.", "escalate the incident"
        rf"{_LEAD}(?P<hit>\b(?:escalate|reassign|re-assign|reroute|re-route|transfer)\s+{_CASE_OBJ})",
        # "Assign to identity-eng", "hand off to platform-oncall", "escalate to the VP"
        rf"{_LEAD}(?P<hit>\b(?:route|reroute|re-route|assign|reassign|re-assign|transfer|escalate|"
        r"hand\s+(?:it\s+)?(?:off|over)|hand-?off|pass\s+(?:it\s+)?(?:on|over|along)|"
        rf"kick\s+(?:it\s+)?(?:over|up))\s+(?:over\s+)?(?:to|into|via)\s+{_NOT_SEV}{_TARGET})",
        # "assign platform-oncall as incident commander"
        rf"{_LEAD}(?P<hit>\b(?:assign|appoint|name|make)\s+{_window(3)}as\s+(?:the\s+)?(?:owner|ic|"
        r"incident\s+commander|lead|primary|assignee|responder)\b)",
        # "Page the VP", "loop in identity-eng" (not the customer: that is communication)
        rf"{_LEAD}(?P<hit>\b(?:page|re-page|repage|engage|loop\s+in|pull\s+in|bring\s+in|call\s+in|"
        r"wake\s+(?:up\s+)?)\s+(?!(?:the\s+|their\s+)?(?:customer|account|client|contact)s?\b)"
        rf"(?!\d|with\b|severity\b){_TARGET})",
        # "The case should be routed to Platform Security"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+(?:routed|re-?routed|assigned|"
        r"re-?assigned|transferred|sent|handed(?:\s+(?:off|over))?|escalated|moved|forwarded|"
        rf"passed|given|redirected|dispatched)\s+(?:over\s+|back\s+)?(?:to|via)\s+{_NOT_SEV}{_TARGET})",
        # "This case should go to identity-eng", "this ticket belongs with Platform Security"
        rf"(?P<hit>{_CASE_OBJ}\s+(?:{_MODAL}\s+(?:go|stay|sit)\s+(?:straight\s+|directly\s+)?"
        r"(?:to|with)|(?:belongs|should\s+belong)\s+(?:to|with))\b)",
        # "platform-oncall should take this case", "let identity-eng handle it"
        rf"(?P<hit>(?:{_MODAL}|\blet\s+[\w-]+(?:\s+[\w-]+)?)\s+(?:take(?:\s+over)?|own|handle|"
        rf"pick\s+up|work|lead|run)\s+{_CASE_OBJ})",
        # "Have identity-eng pick up the open ticket", "get platform-oncall to take this case"
        rf"{_LEAD}(?P<hit>\b(?:have|get|let)\s+(?:the\s+)?[\w@-]+(?:\s+[\w@-]+)?\s+(?:to\s+)?"
        rf"(?:take(?:\s+over)?|own|handle|pick\s+up|work(?:\s+on)?|grab|lead|run|look\s+at)\s+"
        rf"{_CASE_OBJ})",
        # "Put identity-eng on this incident"
        rf"{_LEAD}(?P<hit>\bput\s+{_window(3)}on\s+(?:this|the|that)\s+{_CASE_NOUN})",
    ),
)

# --- severity declaration ----------------------------------------------------------------------

# A severity value used as a modifier ("Sev-1 definitions", "the Sev1 runbook") names policy.
_SEV_VALUE = (
    rf"{_SEV}(?![\s-]*(?:definitions?|criteria|sections?|runbooks?|escalations?|polic(?:y|ies)|"
    r"process|procedures?|playbooks?|steps?|vocabulary|matrix|table|levels?|guidance|rules?|"
    r"wording|template|checklist|paging|path|response|handling|program|support|declaration|"
    r"classification|tier|labels?|headings?|language)\b)"
)
# "severity"/"priority" as the thing being set, not the name of a section or scheme.
_SEV_WORD = (
    r"\b(?:(?:the|its|this|that|their|current|incident|case|ticket|outage)\s+)*"
    r"(?:severity|priority|sev)\b(?![\s-]*(?:[0-4]|zero|one|two|three|four)\b)"
    r"(?!\s*-?\s*(?:definitions?|criteria|sections?|vocabulary|matrix|table|levels?|polic(?:y|ies)|"
    r"model|scale|wording|rules?|guidance|labels?|names?|headings?)\b)"
)
# Severity said in words: "treat it as critical", "mark it as high priority".
_SEV_WORDS = (
    r"(?:critical|urgent|blocker|major\s+incident|(?:high|higher|highest|low|lower|lowest|top|"
    r"medium|normal)[\s-]+priority)\b(?![\s-]*(?:definitions?|criteria|sections?|polic(?:y|ies)|"
    r"matrix|table|levels?|rules?|wording|labels?|queue|path|paging|handling|response|tier)\b)"
)
_SET_VERBS = (
    r"(?:set|reset|change|bump|drop|reduce|increase|elevate|raise|lower|downgrade|upgrade|"
    r"escalate|de-?escalate|move|update|adjust|lift|promote|demote|keep|put|take|knock)"
)
_SEV_PARTICIPLES = (
    r"(?:raised|lowered|downgraded|upgraded|set|reset|changed|bumped|dropped|reduced|increased|"
    r"elevated|escalated|de-?escalated|declared|re-?declared|treated|handled|classified|"
    r"reclassified|marked|flagged|tagged|labell?ed|logged|filed|moved|kept|opened|"
    r"categori[sz]ed|counted|considered)"
)
# "the Refunds API outage": up to three words may name what the incident is about.
_INCIDENT_SUBJ = (
    r"(?:this|it|that|this\s+one|(?:the|this|that|today'?s)\s+(?:[\w-]+\s+){0,3}?(?:incident|"
    r"outage|case|ticket|issue|event|escalation)s?)"
)
_CLAUSE_END = (
    r"(?=\s*(?:$|[.!?,;:)\]—–]|(?:and|but|so|now|per|for|according|given|because|since|as|with|"
    r"already|right|then|too)\b))"
)

SEVERITY_DECLARATION = Rule(
    name="severity_declaration",
    forbids="declaring, setting or changing the severity or priority of an incident",
    patterns=_compile(
        # "Declare Sev1", "open a Sev-1 bridge", "call a P1"
        rf"{_LEAD}(?P<hit>\b(?:declare|re-?declare|open|call|log|file|raise|start|kick\s+off|"
        rf"spin\s+up|run|record|confirm|(?:go|stick|roll)\s+with)\s+(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Bump it to P1", "downgrade to Sev2", "keep the incident at Sev 2"
        rf"{_LEAD}(?P<hit>\b{_SET_VERBS}\s+{_window(5)}(?:to|at|into|down\s+to|up\s+to)\s+"
        rf"(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Treat as Sev1", "mark it as P1", "call it a Sev-1", "make this a P1"
        rf"{_LEAD}(?P<hit>\b(?:(?:treat|handle|mark|flag|tag|label|classify|reclassify|categori[sz]e|"
        rf"count|consider|log|file|record)\s+{_window(5)}as\s+|(?:call|make|declare|consider|"
        rf"confirm)\s+{_window(5)})(?:a\s+|an\s+)?(?:{_SEV_VALUE}|{_SEV_WORDS}))",
        # "Declare severity", "raise the severity", "lower its priority"
        rf"{_LEAD}(?P<hit>\b(?:declare|raise|lower|downgrade|upgrade|set|reset|change|bump|drop|"
        rf"reduce|increase|elevate|escalate|adjust|update|lift|revise)\s+{_SEV_WORD})",
        # "Downgrade this incident", "reclassify it"
        rf"{_LEAD}(?P<hit>\b(?:downgrade|upgrade|de-?escalate|reclassify)\s+{_INCIDENT_SUBJ}\b)",
        # "This should be treated as a Sev1", "it needs to be P1"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|now\s+|still\s+)?(?:be|stay|remain|become|go)\s+"
        rf"(?:{_SEV_PARTICIPLES}\s+)?(?:(?:as|to|at|into|down\s+to|up\s+to)\s+)?(?:a\s+|an\s+)?"
        rf"{_SEV_VALUE})",
        # "The severity should be lowered"
        rf"(?P<hit>{_SEV_WORD}\s+(?:\w+\s+){{0,2}}?{_MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+"
        rf"{_SEV_PARTICIPLES})",
        # "This is a Sev-1", "it's now P1", "we have a Sev1"
        rf"(?P<hit>\b{_INCIDENT_SUBJ}\s*(?:is|'s|’s|becomes|counts\s+as|qualifies\s+as|"
        r"should\s+count\s+as|has\s+become)\s+"
        rf"(?:(?:now|officially|clearly|definitely|really|already|still|a|an)\s+)*{_SEV}"
        rf"(?:[\s-]+(?:incident|outage|issue|event|case|ticket|page))?{_CLAUSE_END})",
        # "We have a Sev-1 on Payments API", "we're in a P1"
        rf"(?P<hit>\bwe(?:(?:'ve|’ve|\s+have)?\s+(?:got|have)|(?:'re|’re|\s+are)\s+(?:in|at))\s+"
        rf"(?:(?:now|officially|clearly|definitely|really|already|still|a|an)\s+)*{_SEV_VALUE})",
        # "Its severity is now 1", "the incident priority should be P2"
        rf"(?P<hit>\b(?:the|its|this|current)\s+(?:incident\s+|case\s+|ticket\s+)?(?:severity|"
        r"priority)\s+(?:is|=|should\s+be|becomes|stays|remains)\s+(?:now\s+)?(?:a\s+)?"
        rf"(?:{_SEV}|[0-4]\b))",
    ),
)

RULES: dict[str, Rule] = {
    rule.name: rule for rule in (CONCESSION, CASE_ROUTING, SEVERITY_DECLARATION)
}

# --- sentences, quotations and reported speech -------------------------------------------------

_OPEN_CLOSE = {"'": "'’", '"': '"', "“": "”", "‘": "’'"}
_QUOTE = re.compile(
    r"(?:^|(?<=[\s(\[{:—–/]))(['\"“‘])(.+?)(['\"”’])(?=$|[\s.,;:!?)\]}—–/])", re.DOTALL
)
# What introduces a quotation in a clarification: "reads '...'", "renamed to '...'", "'A' to '...'".
_QUOTE_INTRO = re.compile(
    r"(?:\b(?:says?|said|states?|stated|reads?|wording|text|titled|named|called|heading|headed|"
    r"section|step\s+\d+\w*|lines?\s+[\d–-]+|quotes?|quoted|verbatim|from|replaced|reworded|"
    r"renamed|changed|label(?:led)?|phrase|sentence|instruction|line)\s*[:,]?\s*(?:as\s+|to\s+)?"
    r"|['\"”’]\s*(?:to|and|or|with|,)\s*)$",
    re.IGNORECASE,
)
# A step named by its label, "Step 3 (page the primary on-call)", quotes the runbook.
_STEP_LABEL = re.compile(r"\bstep\s+\d+[a-z]?\s*(\([^()]*\)|[—–]\s[^—–]*\s[—–])", re.IGNORECASE)
# "<runbook|step N|section|text> (now) says/states/reads/requires ...": the rest of the clause
# reports what the runbook says.
_REPORTED = re.compile(
    r"\b(?:runbook|step\s+\d+\w*|steps?|section|revision|r\d+|text|wording|policy|procedure|"
    r"it|instruction|line)\s+(?:now\s+|no\s+longer\s+|previously\s+|still\s+|also\s+|used\s+to\s+)?"
    r"(?:says?|said|states?|stated|reads?|read|requires?|required|instructs?|instructed|tells?|"
    r"told|directs?|directed|asks?|asked|specif(?:ies|ied|y)|mandates?|mandated)\b",
    re.IGNORECASE,
)
_OWN_CLAUSE = re.compile(r",\s*(?:but|so)\b|\s(?:but|so)\s|[—–]|\s-\s|\binstead\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)]*\s+|;\s*|\n+|\s[•·]\s")
_VERB_START = re.compile(
    rf"{_START}{_FILLER}\b(?:{_GIVE_VERBS}|{_PAY_VERBS}|{_ROUTE_VERBS}|declare|treat|mark|set|"
    r"raise|lower|downgrade|upgrade|bump|page|call|notify|tell|contact|email|ping|update|check|"
    r"confirm|ask|inform|alert|reply|respond|wait|keep|let|make|open|close|start|stop|loop|pull|"
    r"bring|use|review|monitor|acknowledge|ack|join|spin|put|go|engage|waive|assign|route)\b",
    re.IGNORECASE,
)
_CUE_RE = re.compile(_CUE, re.IGNORECASE)


def _mask(text: str, quotes: Quotes) -> str:
    """``text`` with quoted spans blanked (same length), so no rule can match inside them."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if not chars[i].isspace():
                chars[i] = "_"

    for m in _STEP_LABEL.finditer(text):
        blank(m.start(1) + 1, m.end(1) - 1)
    for m in _QUOTE.finditer(text):
        if m.group(3) not in _OPEN_CLOSE[m.group(1)]:
            continue
        if quotes == "all" or _QUOTE_INTRO.search("".join(chars[: m.start()])):
            blank(m.start(2), m.end(2))
    return "".join(chars)


def _sentences(text: str, masked: str) -> Iterable[tuple[str, str]]:
    """(original, masked) sentence pairs; boundaries are found in the masked text."""
    start = 0
    for m in [*_SENTENCE_END.finditer(masked), None]:
        end = m.start() if m else len(masked)
        if masked[start:end].strip():
            lead = len(masked[start:end]) - len(masked[start:end].lstrip())
            yield text[start + lead : end].rstrip(), masked[start + lead : end].rstrip()
        if m:
            start = m.end()


def _is_reported(masked: str, pos: int) -> bool:
    """Whether position ``pos`` lies in a clause that reports what the runbook says."""
    for frame in _REPORTED.finditer(masked, 0, pos):
        if not _OWN_CLAUSE.search(masked, frame.end(), pos):
            return True
    return False


def _scan(sentence: str, masked: str, where: str) -> list[Violation]:
    """At most one violation per rule: the first accepted match of its first matching pattern."""
    found = []
    for rule in RULES.values():
        for pattern in rule.patterns:
            hit = _first_hit(pattern, masked)
            if hit is not None:
                found.append(Violation(rule.name, sentence, sentence[hit[0] : hit[1]], where))
                break
    return found


def _first_hit(pattern: re.Pattern[str], masked: str) -> tuple[int, int] | None:
    group = "hit" if "hit" in pattern.groupindex else 0
    m = pattern.search(masked)
    while m is not None:
        start, end = m.span(group)
        # "and declare Sev1" is a directive only inside a directive sentence.
        conj_ok = (
            "conj" not in pattern.groupindex
            or m.group("conj") is None
            or _VERB_START.search(masked)
            or _CUE_RE.search(masked, 0, start)
        )
        if conj_ok and not _is_reported(masked, start):
            return start, end
        m = pattern.search(masked, m.start() + 1)
    return None


# --- public API --------------------------------------------------------------------------------


def check_texts(
    items: Iterable[tuple[str, str]], *, quotes: Quotes = "reported"
) -> list[Violation]:
    """Split each ``(where, text)`` pair into sentences and return every rule violation.

    ``quotes="reported"`` masks only quotations introduced as such ("the text reads '...'");
    ``quotes="all"`` masks every quoted span (for template-generated text, where quotes are
    always source text). At most one violation per rule and sentence is reported.
    """
    found: list[Violation] = []
    for where, text in items:
        for sentence, masked in _sentences(text, _mask(text, quotes)):
            found.extend(_scan(sentence, masked, where))
    return found


def check_sentence(sentence: str, *, quotes: Quotes = "reported") -> list[Violation]:
    """Return the violations in one sentence (or short text); empty when it is in scope.

    >>> [v.rule for v in check_sentence("Declare Sev1 and page the VP.")]
    ['case_routing', 'severity_declaration']
    >>> check_sentence("Step 4 of the severity-one escalation runbook was reworded.")
    []
    """
    return check_texts([("", sentence)], quotes=quotes)


def _claims(digest: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for section in DIGEST_SECTIONS:
        claims = digest.get(section)
        # A mapping header (schema_version 1) is record metadata copied from the revision, not
        # statements of the digest; only claim lists are read.
        if claims is None or isinstance(claims, Mapping):
            continue
        if isinstance(claims, str) or not isinstance(claims, Iterable):
            raise DigestkitError(
                f"digest section '{section}' must be a list of claims, got "
                f"{type(claims).__name__}; pass Digest.to_dict() or the digest JSON"
            )
        for i, claim in enumerate(claims, start=1):
            yield str(claim.get("id") or f"{section} {i}"), str(claim.get("text") or "")


def check_digest(digest: Mapping[str, Any]) -> list[Violation]:
    """Return every violation in a digest's claim texts and human clarifications.

    Claim texts are checked with every quoted span masked (they are generated, so a quote is
    source text); clarifications with only introduced quotations masked. ``details`` (quoted
    old/new runbook text) are not checked. ``where`` is the claim id or ``"clarification N"``.
    """
    if hasattr(digest, "to_dict"):
        digest = digest.to_dict()
    found = check_texts(_claims(digest), quotes="all")
    clarifications = digest.get("clarifications") or []
    found += check_texts(
        (
            (f"clarification {i}", str(note.get("text") or ""))
            for i, note in enumerate(clarifications, start=1)
        ),
        quotes="reported",
    )
    return found


def assert_in_scope(digest: Mapping[str, Any]) -> None:
    """Raise :class:`ScopeError` listing every violation (where, rule, sentence), if any.

    The error's ``violations`` attribute holds the :class:`Violation` list.
    """
    found = check_digest(digest)
    if not found:
        return
    if hasattr(digest, "to_dict"):
        digest = digest.to_dict()
    lines = "\n".join(
        SCOPE_LINE.format(where=v.where, rule=v.rule, sentence=v.sentence, match=v.match)
        for v in found
    )
    error = ScopeError(
        SCOPE_ERROR.format(
            digest=digest.get("digest_id", "<unnamed>"), count=len(found), lines=lines
        ),
        violations=found,
    )
    raise error
