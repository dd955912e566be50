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
    for a refund".
    Why: concessions are commercial decisions with contractual weight; a generated digest that
    suggests one reads as a commitment.
``case_routing``
    Routes or assigns a live case: route / assign / reassign / transfer / hand off / send the case
    (ticket, incident, it, "case 48213", "INC-8890") to someone or into a queue; "escalate this
    case to"; "this ticket should go to"; "the case ought to be worked by"; "the IC role for
    INC-8890 should go to"; "make X the owner of the case"; "better if X runs point on the case";
    "give X the case"; "keep the case with X"; "X is the right owner for the case"; "X should
    take this incident"; "page the VP" (paging a responder hands them the live case).
    Why: who works a live incident is the duty manager's call; the digest describes ownership
    records and paging paths, it does not dispatch.
``severity_declaration``
    Declares or changes an incident severity or priority: declare / raise / lower / downgrade /
    set / change the severity; "declare Sev1"; "treat as Sev1"; "mark as P1"; "re-classify it as
    P2"; "this is a Sev-1"; "the outage is SEV1-worthy"; "bump it to P2"; "dial it back to Sev 2";
    "the severity should be lowered"; a last clause after the only comma ("it doesn't meet SEV-1,
    downgrade it").
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

Linear time: words are matched possessively, repeats are bounded, quotations are paired in one
pass, and every rule reads a piece of at most ``MAX_PIECE`` characters (long sentences are read in
overlapping pieces), so hostile text (8,000 dashes, runs of quotes) costs time linear in its length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from digestkit.exceptions import DigestkitError, ScopeError

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

Quotes = Literal["reported", "all"]
Level = Literal["block", "confirm"]
Span = tuple[int, int]

DIGEST_SECTIONS = ("header", "changed_steps", "carried_forward", "open_questions", "flags")

SCOPE_ERROR = (
    "digest {digest} is out of scope: {count} sentence(s) make a decision that belongs to the "
    "duty manager:\n{lines}\nRemove or rephrase them as descriptions; the digest informs, "
    "it does not recommend concessions, route cases or set severity."
)
SCOPE_LINE = '  {where}: [{level}: {rule}] "{sentence}" (matched "{match}")'


@dataclass(frozen=True)
class Violation:
    """One sentence that breaks a scope rule, at which level, and where in the digest it is.

    ``level`` is ``"block"`` (sharing is refused) or ``"confirm"`` (sharing needs the sharer's
    confirmation).
    """

    rule: str
    sentence: str
    match: str
    where: str
    level: Level = "block"


@dataclass(frozen=True)
class Rule:
    """A scope rule: what it forbids and the patterns that detect it."""

    name: str
    forbids: str
    patterns: tuple[re.Pattern[str], ...]


# --- shared building blocks --------------------------------------------------------------------

# Possessive (``++``): a word is never given back, so a run of 8,000 dashes is read once.
_WORD = r"[\w%$'’/.-]++"
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
    r"quickly|definitely|probably|maybe|perhaps|still|simply|go\s+ahead\s+and|and|but)\b[\s,]{0,4}){0,4}"
)
# Where an imperative clause can begin: the sentence start (after a bullet, a short label such as
# "Action:" or "Premium Plus:", a vocative "Dana," or a leading "Since ...," / "If ...," clause),
# an opening bracket or quote (an unmasked quote is the writer's own words), or a dash.
_START = (
    r"(?:^[\W_]*+(?:[a-z'’-]++(?:\s+[a-z'’-]++){0,3}:\s+|[a-z'’-]++,\s+|(?:since|because|as|if|"
    r"once|when|given|after|before|until|while|now\s+that)\b[^,;:]*+,\s+)?"
    r"|(?<=[(\[\"“‘])|(?<=\s')|(?<=\s[—–])\s*|(?<=\s-)\s+|(?<=\s--)\s+)"
)
# Recommending cues: a modal, a request, a proposal or a consequence ("so", "then").
_CUE = (
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:ve|s)\s+to|had\s+better|"
    r"go\s+ahead\s+and|make\s+sure\s+(?:to\s+)?|be\s+sure\s+to|remember\s+to|"
    r"don'?t\s+forget\s+to|please|let'?s|let\s+us|(?:can|could|would|will)\s+you|"
    r"(?:i|we|you)(?:\s+(?:would|will|can|could|might)|['’](?:d|ll))|"
    r"(?:can|could|shall|should)\s+we|"
    r"want\s+to|wants\s+to|"
    r"(?:it(?:'s|’s|\s+is)\s+)?(?:best|advisable|wise|better|time)\s+to|then|so|therefore|"
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
    r"reimbursements?|make-?goods?|(?:trial|contract|subscription|term)\s+extensions?|"
    # something given free: "free onboarding", "a complimentary health check", "a month of free
    # support", "the add-on free for a year"
    r"(?<!-)(?:free|complimentary|bonus)\s+(?!of\b|to\b|for\b|text\b|form\b|and\b|or\b)[\w-]++|"
    r"(?:months?|weeks?|years?|days?|quarters?)\s+of\s+(?:free|complimentary)|"
    r"extended\s+trials?|(?:(?:\d+|one|two|three|four|six|twelve|a\s+few|a\s+couple\s+of)\s+"
    r"(?:extra|additional|bonus|more)|(?:extra|additional|bonus)\s+\d+)\s+(?:days?|weeks?|months?)|"
    r"price\s+(?:freezes?|locks?|holds?|cuts?|reductions?|matches?)|"
    r"\d+\s*%\s+(?:reductions?|cuts?|markdowns?)|"
    r"free\s+for\s+(?:a|an|one|two|three|six|twelve|\d+|the\s+(?:rest|first|next))|"
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
        rf"{_LEAD}(?P<hit>\b(?:{_GIVE_VERBS}|throw\s+in|toss\s+in)\b\s+{_window(6)}{_CONCESSION})",
        # "Extend their trial of the Sentinel tier by 60 days"
        rf"{_LEAD}(?P<hit>\b(?:extend|lengthen|prolong)\s+{_window(3)}(?:trials?|evaluations?|"
        r"pilots?|grace\s+periods?)\b)",
        # "consider offering a goodwill credit"
        rf"{_GERUND_CUE}(?P<hit>(?:{_gerunds(_GIVE_VERBS)})\s+{_window(6)}{_CONCESSION})",
        # "Credit the account", "refund them", "compensate the customer"
        rf"{_LEAD}(?P<hit>\b(?:{_PAY_VERBS})\s+(?:them|him|her|it|the|their|this|that|those|these|"
        r"each|every|all|both|back|\$|\d))",
        # "A goodwill discount should be applied to their renewal"
        rf"(?P<hit>{_CONCESSION}\s+(?:[\w%'’-]++\s+){{0,4}}?{_MODAL}\s+(?:also\s+|now\s+)?be\s+"
        r"(?:applied|given|offered|granted|issued|extended|processed|approved|added|posted|"
        r"honou?red|arranged)\b)",
        # "Extend their contract by a quarter at no extra charge", "upgrade them free of charge"
        # "bump their tier to Premium Plus as an apology", "send them a gift card for the trouble"
        rf"{_LEAD}(?P<hit>\b(?:{_GIVE_VERBS}|upgrade|extend|add|throw\s+in|include|bump|move|"
        rf"switch|let|keep|hold|freeze|lock)\b[^.;!?]{{0,60}}?"
        r"\b(?:(?:at\s+)?no\s+(?:extra\s+|additional\s+)?(?:charge|cost)|free\s+of\s+charge|for\s+free|"
        r"on\s+the\s+house|on\s+us|gratis|at\s+our\s+(?:own\s+)?(?:expense|cost)|"
        r"on\s+our\s+(?:own\s+)?dime|without\s+(?:paying|charge|charging|billing|cost))\b)",
        # ... or with a purpose that makes it one, unless what is given is a message ("send the
        # customer an update as an apology" is communication)
        rf"{_LEAD}(?P<hit>\b(?:{_GIVE_VERBS}|upgrade|extend|add|throw\s+in|include|bump|move|"
        r"switch|let|keep|hold|freeze|lock)\b"
        r"(?![^.;!?]{0,60}?\b(?:updates?|summar(?:y|ies)|notes?|messages?|e-?mails?|"
        r"status|calls?|explanations?|post-?mortems?|rcas?|reports?|statements?|letters?)\b)"
        r"[^.;!?]{0,60}?\b(?:as\s+(?:an?\s+)?(?:apology|compensation|goodwill(?:\s+gesture)?|"
        r"make-?good|sweetener|peace\s+offering)|to\s+make\s+up\s+for|for\s+(?:the|their)\s+"
        r"(?:trouble|inconvenience|patience)|to\s+smooth\s+(?:this|things|it)\s+over)\b)",
        # "Don't bill Orbital Bank for the downtime", "let's not charge them for March"
        rf"{_LEAD}(?P<hit>(?:don['’]?t|do\s+not|not|never)\s+(?:charge|bill|invoice)\s+"
        r"(?!(?:[\w'’-]++\s+){0,3}?(?:twice|again|double|wrong)\b)(?!(?:the\s+|their\s+)?cards?\b)"
        r"[\w'’-]++)",
        # "Make it right with a goodwill gesture"
        rf"{_LEAD}(?P<hit>\bmake\s+(?:it|this|things)\s+(?:right|good|up\s+to\s+(?:them|the\s+"
        rf"customer))\s+(?:with|by\s+\w+ing)\s+{_window(6)}{_CONCESSION})",
        # "Sweeten the deal with two free months", "smooth this over with a goodwill credit"
        rf"{_LEAD}(?P<hit>\b(?:sweeten|soften|smooth|make\s+up\s+for)\b[^.;!?]{{0,40}}?\bwith\s+"
        rf"{_window(4)}{_CONCESSION})",
        # "waive the late fees"
        rf"{_LEAD}(?P<hit>\b(?:waive|forgive|write\s+off|zero\s+out|cover|absorb|eat|void|cancel|"
        r"skip|forgo|suspend|pause)\s+"
        rf"{_window(4)}(?:fees?|charges?|penalt(?:y|ies)|invoices?|overages?|bills?|costs?|"
        r"surcharges?|balance|uplifts?|price\s+increases?)\b)",
        # "Knock 10% off their next invoice"
        rf"{_LEAD}(?P<hit>\b(?:knock|take|shave|chop)\s+(?:[$€£]\s?)?\d[\w.,%]*+\s+(?:percent\s+)?off\b)",
        # "We recommend a service credit", "Suggest a goodwill refund."
        rf"(?:{_LEAD}|\b(?:i|we|you)\s+(?:would\s+|'d\s+|strongly\s+|also\s+|still\s+)?)"
        rf"(?P<hit>\b(?:recommend|suggest|propose|consider|advise|approve|authori[sz]e|"
        rf"go\s+with|push\s+for)\s+{_window(5)}{_CONCESSION})",
        # "The customer should receive a credit", "they will be refunded"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|still\s+|now\s+)?(?:(?:receive|get|be\s+(?:given|offered|"
        rf"granted|issued|owed|sent|entitled\s+to|eligible\s+for))\s+{_window(5)}{_CONCESSION}|"
        r"be\s+(?:credited|refunded|compensated|reimbursed|comped)\b|"
        r"(?:get|receive)\s+(?:something|some\s+money|money|some\s+of\s+(?:it|that|their\s+money))\s+"
        r"back\b))",
        # "They are entitled to a refund", "qualifies for a credit", "deserves a goodwill credit"
        rf"(?P<hit>\b(?:(?:is|are|'re|’re|'s|’s)\s+(?:now\s+|also\s+|clearly\s+)?(?:owed|due|"
        rf"entitled\s+to|eligible\s+for)|qualif(?:y|ies)\s+for|deserves?|owe\s+(?:them|him|her|"
        rf"the\s+customer|the\s+account))\s+(?:at\s+least\s+|at\s+minimum\s+)?{_window(4)}"
        rf"{_CONCESSION})",
        # "A goodwill credit is warranted here"
        rf"(?P<hit>{_CONCESSION}\s+(?:\w++\s+){{0,2}}?(?:is|are|would\s+be|seems?|feels?)\s+"
        r"(?:\w++\s+)?(?:warranted|appropriate|recommended|justified|due|owed|in\s+order|"
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
# A live case named by its number: "case 48213", "ticket #77410", "INC-8890".
_CASE_ID = (
    r"(?:(?:cases?|tickets?|incidents?|escalations?)\s+(?:no\.?\s*|number\s+)?#?\d[\w-]*+|"
    r"(?:inc|case|tkt|sr)-?\d+)\b"
)
# A case named by a determiner and its noun, or by its number (not a bare pronoun).
_CASE_REF = (
    rf"(?:(?:the|this|that|these|those|their|its|our|every|each|all|any)\s+"
    rf"(?:[\w'’-]++\s+){{0,3}}?{_CASE_NOUN}|{_CASE_ID})"
)
_CASE_OBJ = rf"(?:{_PRONOUN_OBJ}\b|{_CASE_REF})"
# "the (natural) owner of", "the incident commander for"
_OWNER_OF = (
    r"(?:the\s+)?(?:(?!of\b|for\b|on\b)[\w-]++\s+)?(?:owner|assignee|lead|"
    r"ic|incident\s+commander|dri)\s+(?:of|for|on)\s+"
)
_NOT_SEV = rf"(?!(?:a\s+|an\s+)?{_SEV})"
_TARGET = r"(?:(?:the|a|an|our|their)\s+)?[\w@-]+"
_ROUTE_VERBS = (
    "route|reroute|re-route|assign|reassign|re-assign|transfer|send|move|forward|pass|give|hand|"
    "escalate|push|kick|bounce|dispatch|refer|redirect|shift|take|flip|shunt|punt|offload|"
    "delegate|allocate|relay|funnel|channel"
)

CASE_ROUTING = Rule(
    name="case_routing",
    forbids="routing, assigning, handing off or escalating a live case, or paging a responder",
    patterns=_compile(
        # "Route this case to platform-oncall", "hand the ticket over to identity-eng"
        rf"{_LEAD}(?P<hit>\b(?:{_ROUTE_VERBS})\s+{_CASE_OBJ}\s+(?:(?:over|off|back|along|up|across|"
        rf"straight|directly|right)\s+)?(?:to|into|with|via|through)\s+{_NOT_SEV}{_TARGET})",
        # "Put the Sentinel incident in the Security Response queue"
        rf"{_LEAD}(?P<hit>\b(?:{_ROUTE_VERBS}|put|place|drop|park|file|stick)\s+{_CASE_OBJ}\s+"
        r"(?:in|into|on|onto|under)\s+(?:the\s+|their\s+|our\s+)?(?:[\w@'’-]++\s+){0,3}?"
        r"(?:queue|backlog|"
        r"board|desk|bucket|lane|inbox|rotation|team)s?\b)",
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
        r"wake(?:\s+up)?)\s+(?!(?:the\s+|their\s+)?(?:customer|account|client|contact)s?\b)"
        rf"(?!\d|with\b|severity\b){_TARGET})",
        # "The case should be routed to Platform Security"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+(?:routed|re-?routed|assigned|"
        r"re-?assigned|transferred|sent|handed(?:\s+(?:off|over))?|escalated|moved|forwarded|"
        rf"passed|given|redirected|dispatched)\s+(?:over\s+|back\s+)?(?:to|via)\s+{_NOT_SEV}{_TARGET})",
        # "Shouldn't the Notifications Gateway incident go to Messaging Platform instead?" (a plain
        # "Should the incident go to ...?" asks, and is left to the confirm level)
        rf"(?P<hit>\b(?:shouldn['’]?t|mustn['’]?t|why\s+(?:doesn['’]?t|not\s+(?:have|let)))\s+"
        rf"{_CASE_REF}\s+"
        r"(?:go|move|sit|stay)\s+(?:straight\s+|directly\s+)?(?:to|with)\b)",
        # "The incident commander role for INC-8890 should go to the Platform Reliability lead"
        rf"(?P<hit>\b(?:role|ownership|command|lead|point|owner)\s+(?:for|of|on)\s+{_CASE_REF}\s+"
        rf"{_MODAL}\s+(?:go|pass|move|fall|sit|stay)\s+(?:straight\s+|directly\s+)?(?:to|with)\b)",
        # "The Ledger Service case ought to be worked by Payments Core"
        rf"(?P<hit>{_CASE_REF}\s+{_MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+"
        r"(?:worked|handled|owned|"
        r"run|led|picked\s+up|taken(?:\s+over)?|managed|driven|triaged)\s+(?:on\s+)?by\b)",
        # "Make Analytics the owner of the open Quillfeather case", "X would be the natural owner
        # for this case"
        rf"{_LEAD}(?P<hit>\bmake\s+{_window(4)}{_OWNER_OF}{_CASE_REF})",
        # "Put Payments Core in charge of the Ledger Service case"
        rf"{_LEAD}(?P<hit>\b(?:put|make|leave|keep)\s+{_window(4)}"
        r"(?:in\s+charge\s+of|responsible\s+for|"
        rf"accountable\s+for)\s+{_CASE_OBJ})",
        rf"(?P<hit>{_MODAL}\s+be\s+{_OWNER_OF}{_CASE_REF})",
        # "Better if the Platform Reliability team runs point on INC-6120"
        r"(?P<hit>\b(?:better|best|ideally|preferably|(?:i|we)['’]?d\s+rather)\s+"
        r"(?:if\s+|that\s+)?"
        rf"{_window(4)}(?:runs?|takes?|owns?|handles?|leads?|works?|picks?\s+up|drives?)\s+"
        rf"(?:point\s+on\s+|the\s+lead\s+on\s+|over\s+|ownership\s+of\s+|on\s+)?{_CASE_OBJ})",
        # "This case should go to identity-eng", "this ticket belongs with Platform Security"
        rf"(?P<hit>{_CASE_OBJ}\s+(?:{_MODAL}\s+(?:go|stay|sit)\s+(?:straight\s+|directly\s+)?"
        r"(?:to|with)|(?:belongs|should\s+belong)\s+(?:to|with|in)\b"
        # "belongs to a Premium Plus account" says whose case it is, not who works it
        r"(?!(?:\s+[\w-]++){0,3}?\s+(?:customers?|accounts?|clients?|tenants?|regions?|tiers?|"
        r"products?|contracts?)\b(?!\s+(?:managers?|teams?|directors?|owners?|executives?|leads?|"
        r"success|support|care|desk|queue)\b)))\b)",
        # "Payments Core is the right owner for INC-5530", "the natural home for this case"
        r"(?P<hit>\b(?:is|are|'s|’s|would\s+be|seems?(?:\s+like)?|looks?\s+like|sounds?\s+like)\s+"
        r"(?:the\s+|a\s+)?(?:right|correct|natural|obvious|best|better|proper|logical|ideal|rightful)\s+"
        rf"(?:owner|home|team|place|queue|assignee|fit|desk|lead)\s+(?:for|of)\s+{_CASE_REF})",
        # "Keep INC-3301 with Payments Core", "leave the Halcyon case with the EMEA desk"
        rf"{_LEAD}(?P<hit>\b(?:keep|leave|park)\s+{_CASE_REF}\s+with\s+{_TARGET})",
        # "platform-oncall should take this case", "let identity-eng handle it"
        rf"(?P<hit>(?:{_MODAL}|\blet\s+[\w-]+(?:\s+[\w-]+)?)\s+(?:take(?:\s+over)?|own|handle|"
        rf"pick\s+up|work|lead|run)\s+{_CASE_OBJ})",
        # "Have identity-eng pick up the open ticket", "get platform-oncall to take this case"
        rf"{_LEAD}(?P<hit>\b(?:have|get|let|ask|tell)\s+(?:the\s+)?[\w@-]+(?:\s+[\w@-]+)?\s+"
        r"(?:to\s+)?"
        rf"(?:take(?:\s+over)?|own|handle|pick\s+up|work(?:\s+on)?|grab|lead|run|look\s+at)\s+"
        rf"{_CASE_OBJ})",
        # "Put identity-eng on this incident", "assign an engineer from Data Pipelines to INC-1"
        rf"{_LEAD}(?P<hit>\b(?:put|assign|place|staff)\s+(?:[\w@'’-]++\s+){{0,5}}?(?:on|onto|to)\s+"
        rf"{_CASE_REF})",
        # "Transfer ownership of the Halcyon case to Storage"
        rf"{_LEAD}(?P<hit>\b(?:{_ROUTE_VERBS})\s+(?:the\s+)?(?:ownership|command|lead|ic\s+role|"
        rf"incident\s+commander\s+role)\s+(?:of|for|on)\s+{_CASE_OBJ}\s+"
        rf"(?:(?:for|on|of)\s+{_CASE_REF}\s+)?(?:over\s+)?to\s+{_TARGET})",
        # "Give Payments Core the Ledger Service case", "let Data Pipelines have case 55120"
        rf"{_LEAD}(?P<hit>\b(?:give|hand|pass|send|let)\s+{_window(3)}(?:have\s+)?{_CASE_REF})"
        r"(?=\s*(?:$|[.!?,;:)—–]|(?:and|but|so|now|until|tonight|today|instead|going|from)\b))",
        # "Point the Orbital Bank case at the Ledger crew"
        rf"{_LEAD}(?P<hit>\b(?:point|aim|steer)\s+{_CASE_OBJ}\s+(?:at|to|toward|towards)\s+{_TARGET})",
        # "Storage should be the ones working INC-3301"
        rf"(?P<hit>{_MODAL}\s+be\s+(?:the\s+)?(?:ones?|team|people|folks|group)\s+(?:to\s+)?"
        r"(?:work(?:ing)?|handl(?:e|ing)|own(?:ing)?|run(?:ning)?|tak(?:e|ing)|driv(?:e|ing)|"
        rf"lead(?:ing)?)\s+(?:on\s+)?{_CASE_OBJ})",
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
    rf"\b(?:(?:the|its|this|that|their|current|incident|case|ticket|outage)\s+|{_CASE_ID}['’]s\s+)*"
    r"(?:severity|priority|sev|incident\s+level)\b(?![\s-]*(?:[0-4]|zero|one|two|three|four)\b)"
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
    r"escalate|de-?escalate|move|update|adjust|lift|promote|demote|keep|put|take|knock|"
    r"re-?prioriti[sz]e|re-?open|reopen|bring|dial|walk|ratchet|roll|scale|"
    # "Step INC-7741 down", never "Step 4 raises ..." (a step of the runbook)
    r"step(?=\s+(?!\d|one|two|three|four|five|six|seven|eight|nine|ten)[\w-]++\s+(?:\w++\s+){0,2}"
    r"(?:down|up|back)\b))"
)
_SEV_PARTICIPLES = (
    r"(?:raised|lowered|downgraded|upgraded|set|reset|changed|bumped|dropped|reduced|increased|"
    r"elevated|escalated|de-?escalated|declared|re-?declared|treated|handled|classified|"
    r"reclassified|marked|flagged|tagged|labell?ed|logged|filed|moved|kept|opened|"
    r"categori[sz]ed|counted|considered)"
)
# "the Refunds API outage": up to three words may name what the incident is about.
_INCIDENT_SUBJ = (
    rf"(?:{_CASE_ID}|this|it|that|this\s+one|(?:the|this|that|today'?s)\s+(?:[\w-]++\s+){{0,3}}?"
    r"(?:incident|"
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
        rf"{_LEAD}(?P<hit>\b{_SET_VERBS}\s+{_window(5)}(?:(?:back\s+|down\s+|up\s+)*(?:to|at|into))\s+"
        rf"(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Treat as Sev1", "mark it as P1", "call it a Sev-1", "make this a P1"
        rf"{_LEAD}(?P<hit>\b(?:(?:treat|handle|(?:re-?)?(?:mark|flag|tag|label|classify|"
        r"categori[sz]e|prioriti[sz]e|open|file|log|record|rate|grade|score)|count|consider)\s+"
        rf"{_window(5)}as\s+|(?:call|make|declare|consider|confirm|rate|grade|score)\s+"
        rf"{_window(5)})(?:a\s+|an\s+)?(?:{_SEV_VALUE}|{_SEV_WORDS}))",
        # "Declare severity", "raise the severity", "lower its priority"
        rf"{_LEAD}(?P<hit>\b(?:declare|raise|lower|downgrade|upgrade|set|reset|change|bump|drop|"
        rf"reduce|increase|elevate|escalate|adjust|update|lift|revise)\s+{_SEV_WORD})",
        # "Downgrade this incident", "reclassify it"
        rf"{_LEAD}(?P<hit>\b(?:downgrade|upgrade|de-?escalate|re-?classify)\s+{_INCIDENT_SUBJ}\b)",
        # "The login failures for Halcyon are SEV1-worthy", "this is P1 territory"
        rf"(?<=\w\s)(?P<hit>(?:is|are|seems?|looks?|feels?|sounds?)\s+(?:\w++\s+){{0,2}}?{_SEV}"
        r"[\s-]*(?:worthy|territory|material)\b)",
        # "This should be treated as a Sev1", "it needs to be P1"
        rf"(?P<hit>{_MODAL}\s+(?:also\s+|now\s+|still\s+)?(?:be|stay|remain|become|go)\s+"
        rf"(?:{_SEV_PARTICIPLES}\s+)?(?:(?:as|to|at|into|down\s+to|up\s+to)\s+)?(?:a\s+|an\s+)?"
        rf"{_SEV_VALUE})",
        # "The severity should be lowered"
        rf"(?P<hit>{_SEV_WORD}\s+(?:\w++\s+){{0,4}}?{_MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+"
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

# --- confirm level -----------------------------------------------------------------------------

# Vocabulary of each rule, in any grammatical form. Alone it is in scope ("the refund step was
# removed"); paired with an evaluative or directive frame in the writer's own words it asks the
# sharer to confirm ("a refund seems fair", "have the Ledger team pick this up").
_VOCABULARY: dict[str, re.Pattern[str]] = {
    "concession": re.compile(
        rf"{_CONCESSION}|\b(?:credit(?:ed|ing)|refund(?:ed|ing)|discounted|waive[sd]?|waiving|"
        r"compensat(?:e|ed|es|ing)|comp(?:ed|ing)?|reimburs(?:e|ed|ing)|(?:at\s+)?no\s+(?:extra\s+)?"
        r"(?:charge|cost)|free\s+of\s+charge|not\s+(?:charge|bill|invoice)|on\s+the\s+house|"
        r"on\s+us|for\s+free|write\s+off|throw\s+in|money\s+back|comping|crediting|refunding|"
        r"waiving|discounting|cover\s+(?:\w++\s+){0,2}?(?:fees?|costs?|overages?|charges?|bill)|"
        r"(?:knock|take)\s+[$\d][\w.%]*\s+off|(?:no\s+need\s+to|not|don['’]?t|won['’]?t|never)\s+"
        r"(?:charge|bill|invoice)|revers(?:e|ing)\s+(?:\w++\s+){0,2}?(?:charges?|fees?|invoices?|"
        r"billing)|make\s+(?:them|the\s+customer|it)\s+(?:whole|good|right))\b",
        re.IGNORECASE,
    ),
    "case_routing": re.compile(
        r"\b(?:route[sd]?|routing|re-?rout(?:e|ed|ing)|(?:re-?)?assign(?:ed|ing|ment)?|"
        r"transfer(?:red|ring)?|hand(?:s|ed|ing)?\s+(?:\w++\s+){0,3}?(?:over|off)|"
        r"hand-?offs?|escalat(?:e|ed|es|ing|ion|ions)|pag(?:e|ed|ing)(?!\s*\d)|ping(?:ed)?|"
        r"loop(?:ed)?\s+in|owns?|owned|owning|take[sn]?\s+over|taking\s+over|"
        r"pick(?:s|ed)?\s+(?:\w++\s+){0,2}?up|handle[sd]?|handling|"
        r"(?:work(?:s|ing)?|lead(?:s|ing)?|driv(?:e|es|ing)|run(?:s|ning)?|deal(?:s|ing)?\s+with|"
        r"tak(?:e|es|ing)\s+(?:point|it|this|that|over))\s+(?:on\s+)?(?:this|the|that|it|from)\b|"
        r"belongs?|run\s+by|involved|sen[dt]|sending|forward(?:ed|ing)?|bounce[sd]?|"
        r"tag(?:ged)?\s+in|wake\s+up|bring\s+in|over\s+to|take\s+point|takes\s+it|"
        r"(?:is|be|sit|stay|go|goes|went|move|moved|belongs?)?\s*(?:straight\s+|back\s+)?"
        r"(?:with|to|for|in)\s+"
        r"(?:the\s+)?(?:[\w@-]++\s+){0,2}?[\w@-]*?(?:-eng|-oncall|team|queue|security|manager|"
        r"desk|ops|folks|people)\b|"
        r"(?:right|correct|wrong)\s+(?:team|queue|owner|people|folks)|"
        r"gets?\s+(?:this|it|the\s+(?:case|ticket|incident|escalation))|"
        r"be\s+on\s+(?:this|the|that)\s+(?:case|ticket|incident|bridge|escalation|outage)|"
        r"(?:someone|somebody)\s+from|straight\s+to|"
        r"better\s+placed|best\s+placed|(?:run|runs|running|ran|take|takes|taking|took)\s+point|"
        rf"{_CASE_REF}\s+(?:go|goes|move|moves)\s+(?:straight\s+|directly\s+)?(?:to|with))\b"
        r"|(?<=\s)->(?=\s)",
        re.IGNORECASE,
    ),
    "severity_declaration": re.compile(
        rf"{_SEV}|\b(?:severity|priority|sev)\b(?!-)|\b(?:critical|major\s+incident|"
        r"(?:high|higher|low|lower|top)[\s-]+priority|(?:down|up)grad(?:e|ed|es|ing)|"
        r"de-?escalat(?:e|ed|ing))\b",
        re.IGNORECASE,
    ),
}
# A directive or evaluative frame: a modal or request, a hedge or opinion, a judgement.
_FRAME = re.compile(
    r"(?<![\w-])(?:should(?!-)|shouldn['’]?t|must|ought\s+to|needs?\s+to|ha(?:s|ve)\s+to|had\s+better|"
    r"(?:it['’]?s\s+|is\s+)?(?:better|best)\s+(?:to|if)|(?:i|we|you)['’]d|(?:i|we)\s+would|"
    r"would|could|"
    r"shall|let['’]s|let\s+us|please|pls|plz|recommend\w*|suggest\w*|"
    r"propos(?:e|ed|ing)|my\s+vote|vote\s+(?:for|to)|how\s+about|what\s+about|why\s+not|"
    r"time\s+to|go\s+ahead|make\s+sure|consider|worth|maybe|perhaps|probably|"
    r"i\s+(?:think|believe|feel|guess|reckon)|in\s+my\s+(?:view|opinion|book)|imo|to\s+me|"
    r"if\s+you\s+ask\s+me|"
    r"honestly|arguably|ideally|seems?|seemed|feels?\s+(?:like|right|fair|appropriate)|"
    r"looks?\s+like|sounds?\s+(?:like|right|fair|good)|makes?\s+sense|"
    r"warrant(?:s|ed)?|merit(?:s|ed)|deserve[sd]?|earned|calls?\s+for|called\s+for|"
    r"justif(?:y|ies|ied)|fair|reasonable|appropriate|sensible|enough|sufficient|overkill|"
    r"(?:the\s+)?(?:right|correct|best|better|safe|obvious)\s+(?:call|move|choice|option|thing|"
    r"answer|approach|fix)|at\s+best|here\s*[.!?]*$|"
    r"the\s+way\s+to\s+go|(?:better|best)\s+(?:placed|handled|suited|off)|more\s+appropriate|"
    r"not\s+us|not\s+ours|effective\s+immediately|asap|right\s+away|"
    # the writer's own voice: "I'm inclined", "we'll cover", "from my side", "the least we can"
    r"i['’]m|i\s+am|we['’](?:re|ll|d)|we\s+(?:are|will|would|should|can|could|must|need|might|"
    r"may)|i\s+(?:would|will|want|need|prefer|lean)|my\s+(?:side|end|call|take|view)|"
    r"the\s+least\s+we|why\s+don['’]?t|inclined|"
    # about this case, now: "this ticket", "from here", "at most", "too high", "anymore"
    r"this\s+(?:case|ticket|incident|outage|escalation|issue|one|customer|account)|from\s+here|"
    r"at\s+most|too\s+(?:high|low|much)|plenty|anymore|owed|the\s+(?:\w++[\s-]+)?bar|"
    r"feels?\s+(?:\w++\s+)?(?:like|right|fair|appropriate)|today|tonight|right\s+now|"
    r"this\s+(?:week|morning|afternoon|evening|shift)|from\s+now\s+on|going\s+forward|"
    r"clearly|obviously|definitely|certainly|surely|makes?\s+(?:the\s+most\s+|more\s+)?sense)\b"
    r"|^[\W_]*+this\b(?!\s+(?:revision|step|section|digest|clarification|runbook|change|"
    r"version|claim|paragraph|note|summary|flag|question|wording|text)\b)"
    # a gerund judged as the subject: "Comping a month is cheap", "Refunding them would be ..."
    r"|^[\W_]*+\w+ing\b(?:\s+(?!(?:is|would|seems|makes)\b)[\w'’%$-]++){0,8}\s+"
    r"(?:is|would\s+be|seems|makes)\s+"
    r"(?!(?:now|still|also|no\s+longer|not|being|done|handled|described|covered|the|a|an|up|"
    r"part|one)\b)(?!\w+ed\b)"
    r"|^[\W_]*+(?:severity|priority|sev)[\s:=-]*(?:[0-4]|one|two|three|four)"
    r"(?=\s*(?:[,;.!]|$|for\s+(?:this|now|the\s+(?:incident|outage|case|ticket))\b))",
    re.IGNORECASE,
)
# A yes/no question that proposes an action: "Should we credit them?", "Can we do a P2?".
_PROPOSAL_QUESTION = re.compile(
    r"^[\W_]{0,8}(?:should|shall|shouldn['’]?t|can|could|may|must|do\s+we|why\s+not|"
    r"how\s+about|what\s+about|any\s+reason\s+not\s+to)\b[^?]{0,400}\?",
    re.IGNORECASE,
)
# An imperative: a clause that starts with a base-form verb ("Put the escalation with ...").
_IMPERATIVE = re.compile(
    rf"{_START}(?:please\s+|pls\s+|just\s+|maybe\s+|perhaps\s+|then\s+|now\s+){{0,3}}"
    rf"(?:{_GIVE_VERBS}|{_PAY_VERBS}|{_ROUTE_VERBS}|get|have|put|keep|let|make|throw|bring|ping|"
    r"loop|call|treat|go|leave|stick|charge|waive|page|declare|downgrade|upgrade|lower|raise|set|"
    r"bump|mark|drop|hold|tag|wake|pass|reverse|(?:don['’]?t|do\s+not|never)\s+\w++|no)\b"
    # followed by an object, a particle or nothing: "Issue tracking", "Credit Card Gateway" are not
    r"(?=\s+(?:them|him|her|it|this|that|these|those|the|a|an|their|our|its|some|all|every|each|"
    r"both|to|in|on|up|over|off|back|with|out|not|me|us|finance|billing|someone|somebody|"
    r"everyone|charge|need|if|when|once|again|immediately|asap|accordingly)\b|\s+\w+ly\b|"
    r"\s+[\w@]+-[\w@-]+|\s+[$\d]|\s*[,.!?:]|\s*$)",
    re.IGNORECASE,
)
# "Who should own this", "whether severity can be lowered": an open question, not a proposal.
_INDIRECT = re.compile(
    r"\b(?:(?<!is\s)(?<!one\s)(?<!ones\s)who|whom|whose|which|whether|what(?!\s+about)|when|"
    r"where|how(?!\s+about)|"
    r"(?<!best\s)(?<!better\s)if|unclear|"
    r"not\s+clear|"
    r"not\s+(?:stated|say|said|specif(?:y|ied))|silent|open\s+question)\b[^,;.?]{0,80}$",
    re.IGNORECASE,
)
# The subject is the digest, a claim or the runbook itself: "CHG-03 should cite the registry",
# "the new step probably needs a severity threshold" comment on the text, not on a live case.
_META = re.compile(
    r"\b(?:(?:chg|cf|oq|flg|hdr)-\d+|digest|claims?|summary|clarification|citation|link|reference|"
    r"heading|title|typo|wording|text|diff|redline|runbook|step(?:\s+\d+\w*)?|"
    r"section(?:\s+[\d.]+)?|revision|r\d+|registry|register|template|checklist|"
    r"doc(?:ument)?(?:ation)?|reviewers?)\b[^,;.?!()]{0,60}$",
    re.IGNORECASE,
)
# A word of the vocabulary naming a thing ("the paging step", "severity definitions") proposes
# nothing.
_MODIFIED = re.compile(
    r"[\s-]+(?:steps?|paths?|polic(?:y|ies)|sections?|rules?|tables?|matrix|definitions?|criteria|"
    r"wording|text|runbooks?|process|procedures?|workflows?|templates?|checklists?|fields?|"
    r"columns?|entr(?:y|ies)|records?|docs?|links?|labels?|headings?|names?|vocabulary|language|"
    r"guidance|numbers?|thresholds?|targets?|contacts?|codes?|changes?|paging|response|"
    r"handling)\b",
    re.IGNORECASE,
)
# The block patterns whose hit is an imperative clause; the others hang on a modal or a judgement,
# which an open question ("whether the case should go to ...") only asks about.
_DIRECTIVE_PATTERNS = frozenset(
    p for rule in RULES.values() for p in rule.patterns if p.pattern.startswith(_LEAD)
)
# An open question before a modal hit, in the same clause.
_OPEN_QUESTION = re.compile(
    r"\b(?:(?<!is\s)(?<!one\s)(?<!ones\s)who|whom|whose|which|whether|what(?!\s+about)|"
    r"how(?!\s+about)|unclear|not\s+clear|not\s+(?:stated|said|specified|defined)|"
    r"open\s+question|(?:asked|asks|asking|wonder(?:s|ed|ing)?)\s+(?:if|whether))\b[^,;.?]{0,80}$",
    re.IGNORECASE,
)
# "merits P1 handling": a judgement on the modified word makes it a proposal again.
_JUDGED = re.compile(
    r"\b(?:merits?|warrants?|deserves?|calls?\s+for|justif(?:y|ies))\s+(?:a\s+|an\s+)?$",
    re.IGNORECASE,
)
# A participle stated as fact ("is assigned to", "were transferred") describes a record.
_STATED = re.compile(
    r"\b(?:is|are|was|were|been|has|have|had)\s+(?:(?:already|now|still|also|just|since|\w+ly)\s+)?$",
    re.IGNORECASE,
)
_CONFIRM_WORDS = 12
_CONFIRM_SPAN = re.compile(r"\S++")


def _confirm_hits(masked: str, rules: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Where ``masked`` pairs each rule's vocabulary with a frame, outside reported speech."""
    words = {rule: list(_VOCABULARY[rule].finditer(masked)) for rule in rules}
    if not any(words.values()):
        return {}
    frames = [
        m.span()
        for m in _FRAME.finditer(masked)
        if not _INDIRECT.search(masked, max(0, m.start() - 80), m.start())
        and not _META.search(masked, max(0, m.start() - 80), m.start())
    ]
    for regex in (_PROPOSAL_QUESTION, _IMPERATIVE):
        m = regex.search(masked)
        if m is not None:
            frames.append(m.span())
    frames = [span for span in frames if not _is_reported(masked, span[0])]
    hits = {}
    for rule, found in words.items():
        for word in found:
            if (
                (
                    _MODIFIED.match(masked, word.end())
                    and not _JUDGED.search(masked, max(0, word.start() - 30), word.start())
                )
                or _INDIRECT.search(masked, max(0, word.start() - 80), word.start())
                or (
                    word.group().lower().endswith(("ed", "sent"))
                    and _STATED.search(masked, max(0, word.start() - 30), word.start())
                )
            ):
                continue
            hit = next((span for span in _pairs(masked, word, frames)), None)
            if hit is not None and not _is_reported(masked, word.start()):
                hits[rule] = hit
                break
    return hits


def _pairs(masked: str, word: re.Match[str], frames: list[tuple[int, int]]) -> Iterable[Span]:
    """Spans joining ``word`` to each frame within a dozen words of it (one proposal)."""
    for start, end in frames:
        lo, hi = min(start, word.start()), max(end, word.end())
        if len(_CONFIRM_SPAN.findall(masked, lo, hi)) <= _CONFIRM_WORDS:
            yield lo, hi


# --- sentences, quotations and reported speech -------------------------------------------------

_OPEN_CLOSE = {"'": "'’", '"': '"', "“": "”", "‘": "’'"}
# A quotation opens after a space or bracket and closes before a space or punctuation; openers
# and closers are found separately and paired in one pass, so a run of quotes stays linear.
_QUOTE_OPEN = re.compile(r"(?:^|(?<=[\s(\[{:—–/]))['\"“‘]")
_QUOTE_CLOSE = re.compile(r"['\"”’](?=$|[\s.,;:!?)\]}—–/])")
# What introduces a quotation in a clarification: "reads '...'", "renamed to '...'", "'A' to '...'".
_QUOTE_INTRO = re.compile(
    r"(?:\b(?:says?|said|states?|stated|reads?|wording|text|titled|named|called|heading|headed|"
    r"section|steps?(?:\s+\d+\w*)?|clause|item|bullet|lines?\s+[\d–-]+|quotes?|quoted|verbatim|"
    r"from|replaced|reworded|renamed|changed|label(?:led)?|phrase|sentence|instruction|line|"
    # an edit to the runbook's text: "the diff adds '...'", "r8 removed '...'"
    r"adds|added|inserts|inserted|removes|removed|deletes|deleted|drops|dropped|restores|restored|"
    r"mentions|mentioned|cites|cited)\s*[:,]?\s*(?:as\s+|to\s+)?"
    r"|['\"”’]\s*(?:to|and|or|with|,)\s*)$",
    re.IGNORECASE,
)
_INTRO_CHARS = 80
# A quotation that names a part of the runbook by its label: "the 'route to owning team' step".
_QUOTE_LABEL = re.compile(
    r"['\"”’]\s*(?:(?:to|in|into|from|under|of)\s+(?:the\s+)?(?:new\s+|old\s+)?)?(?:steps?|"
    r"sections?|clauses?|items?|instructions?|lines?|headings?|wording|bullets?|checklist\s+items?|"
    r"rules?)\b",
    re.IGNORECASE,
)
# A step named by its label, "Step 3 (page the primary on-call)", quotes the runbook.
_STEP_LABEL = re.compile(
    r"\bstep\s+\d+[a-z]?\s*(\([^()]{0,400}\)|[—–]\s[^—–]{0,400}\s[—–])", re.IGNORECASE
)
# "<runbook|step N|section|text> (now) says/states/reads/requires ...": the rest of the clause
# reports what the runbook says.
_REPORTED = re.compile(
    r"\b(?:runbook|registry|register|step\s+\d+\w*|steps?|section(?:\s+[\d.]+\w*)?|revision|r\d+|"
    r"text|wording|policy|procedure|guidance|contract|changelog|appendix|entry|record|table|"
    r"matrix|checklist|version|one|it|instruction|line)(?:['’]s\s+guidance)?\s+"
    r"(?:now\s+|no\s+longer\s+|previously\s+|still\s+|also\s+|used\s+to\s+|only\s+)?"
    r"(?:says?|said|states?|stated|reads?|read|requires?|required|instructs?|instructed|tells?|"
    r"told|directs?|directed|asks?|asked|specif(?:ies|ied|y)|mandates?|mandated|is\s+that|"
    r"was\s+that)\b"
    r"|\b(?:according\s+to|per|under|as\s+(?:stated|described|written|defined)\s+in)\s+"
    r"(?:the\s+)?(?:new\s+|old\s+|current\s+)?(?:runbook|registry|register|section|step|revision|"
    r"r\d+|text|wording|polic(?:y|ies)|contract|exception|exc-\d+|records?|changelog|timeline|"
    r"reviewer)\b",
    re.IGNORECASE,
)
# "..., per section 7." at the end of a sentence: the sentence restates the source, unless it is an
# imperative (a match at its very start).
_TRAILING_ATTRIBUTION = re.compile(
    r"(?:,\s*|\s)(?:per|under|according\s+to|as\s+(?:stated|defined|written|described)\s+in)\s+"
    r"(?:the\s+|their\s+|its\s+)?(?:runbook|registry|register|section|step|revision|r\d+|"
    r"contract|exception|exc-\d+|polic(?:y|ies)|records?|billing\s+records|wording|text)\b"
    r"[^,;]{0,60}$",
    re.IGNORECASE,
)
# After "according to the registry," a clause that starts with a verb is the writer's directive.
_ATTRIBUTION_START = re.compile(r"[^,]{0,80},\s*$")
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
_LAST_CLAUSE = re.compile(r"[\s.!?\"'’”)]*")
_LIST_MARK = re.compile(r"[,:;]")
# Every rule reads one piece of at most this many characters at a time, so the work per piece is
# bounded and the work per text grows linearly with its length, whatever the text holds. Longer
# sentences are read in overlapping pieces.
MAX_PIECE = 600
_OVERLAP = 150


def _quotations(text: str) -> Iterable[tuple[int, int, int]]:
    """(opening quote, content start, content end) of every quotation, left to right."""
    closers = [m.start() for m in _QUOTE_CLOSE.finditer(text)]
    pos = 0
    for opener in _QUOTE_OPEN.finditer(text):
        if opener.start() < pos:
            continue
        # The first closer after at least one character of content (a lazy match).
        i = bisect_left(closers, opener.start() + 2)
        if i == len(closers):
            return
        yield opener.start(), opener.end(), closers[i]
        pos = closers[i] + 1


def _mask(text: str, quotes: Quotes) -> str:
    """``text`` with quoted spans blanked (same length), so no rule can match inside them."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if not chars[i].isspace():
                chars[i] = "_"

    for m in _STEP_LABEL.finditer(text):
        blank(m.start(1) + 1, m.end(1) - 1)
    for opener, start, end in _quotations(text):
        if text[end] not in _OPEN_CLOSE[text[opener]]:
            continue
        before = "".join(chars[max(0, opener - _INTRO_CHARS) : opener])
        if quotes == "all" or _QUOTE_INTRO.search(before) or _QUOTE_LABEL.match(text, end):
            blank(start, end)
    return "".join(chars)


def _pieces(sentence: str) -> Iterable[tuple[int, int]]:
    """(start, end) of pieces of at most MAX_PIECE characters covering ``sentence``.

    A long sentence is cut at a space where it can be, and consecutive pieces overlap, so a
    phrase up to _OVERLAP characters long is whole in at least one piece.
    """
    start, n = 0, len(sentence)
    while True:
        end = min(start + MAX_PIECE, n)
        if end < n:
            space = sentence.rfind(" ", start + MAX_PIECE - _OVERLAP, end)
            end = space if space > start else end
        yield start, end
        if end >= n:
            return
        space = sentence.find(" ", end - _OVERLAP, end)
        start = space + 1 if space > start else end - _OVERLAP


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
    lead = len(masked) - len(masked.lstrip(" \t*•·-–—\"'“‘([_"))
    if pos > lead + 1 and _TRAILING_ATTRIBUTION.search(masked, pos):
        return True
    for frame in _REPORTED.finditer(masked, 0, pos):
        if _OWN_CLAUSE.search(masked, frame.end(), pos):
            continue
        attribution = frame.group().split(None, 1)[0].lower() in ("according", "per", "under", "as")
        if attribution and _ATTRIBUTION_START.fullmatch(masked, frame.end(), pos):
            continue  # "Per the registry, route this case to ..." directs in the writer's voice
        return True
    return False


def _scan(sentence: str, masked: str, where: str) -> list[Violation]:
    """At most one violation per rule: a block-level match, else a confirm-level pairing."""
    found, unmatched = [], []
    for rule in RULES.values():
        for pattern in rule.patterns:
            hit = _first_hit(pattern, masked)
            if hit is not None:
                found.append(Violation(rule.name, sentence, sentence[hit[0] : hit[1]], where))
                break
        else:
            unmatched.append(rule.name)
    for name, (start, end) in _confirm_hits(masked, unmatched).items():
        found.append(Violation(name, sentence, sentence[start:end], where, level="confirm"))
    return found


def _asked(pattern: re.Pattern[str], masked: str, start: int) -> bool:
    """Whether a modal hit lies inside an open question ("it is unclear whether a credit should be
    offered", "who should take this case is not stated"); an imperative never does."""
    return pattern not in _DIRECTIVE_PATTERNS and bool(
        _OPEN_QUESTION.search(masked, max(0, start - 80), start)
    )


def _first_hit(pattern: re.Pattern[str], masked: str) -> tuple[int, int] | None:
    group = "hit" if "hit" in pattern.groupindex else 0
    m = pattern.search(masked)
    while m is not None:
        start, end = m.span(group)
        # "and declare Sev1" is a directive only inside a directive sentence, or as the last
        # clause after its only comma ("The incident doesn't meet SEV-1, downgrade it."; a list
        # of step names, "three actions: declare severity, open the bridge, page the primary",
        # has more commas or a colon).
        conj_ok = (
            "conj" not in pattern.groupindex
            or m.group("conj") is None
            or _VERB_START.search(masked)
            or _CUE_RE.search(masked, 0, start)
            or (
                m.group("conj").startswith(",")
                and _LAST_CLAUSE.fullmatch(masked, end)
                and not _LIST_MARK.search(masked, 0, m.start("conj"))
            )
        )
        if conj_ok and not _is_reported(masked, start) and not _asked(pattern, masked, start):
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
    always source text). At most one violation per rule and sentence is reported: block level
    if a block rule matches, else confirm level. Time and memory grow linearly with the text.
    """
    found: list[Violation] = []
    for where, text in items:
        for sentence, masked in _sentences(text, _mask(text, quotes)):
            seen: dict[str, Violation] = {}
            for start, end in _pieces(masked):
                for v in _scan(sentence[start:end], masked[start:end], where):
                    if v.rule not in seen or (v.level, seen[v.rule].level) == ("block", "confirm"):
                        seen[v.rule] = v
            found.extend(sorted(seen.values(), key=lambda v: list(RULES).index(v.rule)))
    return found


def check_sentence(sentence: str, *, quotes: Quotes = "reported") -> list[Violation]:
    """Return the violations in one sentence (or short text); empty when it is in scope.

    >>> [(v.rule, v.level) for v in check_sentence("Declare Sev1 and page the VP.")]
    [('case_routing', 'block'), ('severity_declaration', 'block')]
    >>> [(v.rule, v.level) for v in check_sentence("Sev 2 seems fair for this one.")]
    [('severity_declaration', 'confirm')]
    >>> check_sentence("Step 4 of the severity-one escalation runbook was reworded.")
    []
    """
    return check_texts([("", sentence)], quotes=quotes)


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The block-level violations: sharing is refused while there is one."""
    return [v for v in violations if v.level == "block"]


def to_confirm(violations: Iterable[Violation]) -> list[Violation]:
    """The confirm-level violations: sharing needs the sharer to confirm these sentences."""
    return [v for v in violations if v.level == "confirm"]


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
    """Return every violation (both levels) in a digest's claim texts and human clarifications.

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


def assert_in_scope(digest: Mapping[str, Any], *, confirmed: bool = False) -> None:
    """Raise :class:`ScopeError` listing every violation (where, level, rule, sentence), if any.

    Block-level violations always raise; confirm-level ones raise unless ``confirmed`` (the
    sharer read them and confirmed the digest still only informs). The error's ``violations``
    attribute holds the :class:`Violation` list.
    """
    found = check_digest(digest)
    if confirmed:
        found = blocking(found)
    if not found:
        return
    if hasattr(digest, "to_dict"):
        digest = digest.to_dict()
    lines = "\n".join(
        SCOPE_LINE.format(
            where=v.where, level=v.level, rule=v.rule, sentence=v.sentence, match=v.match
        )
        for v in found
    )
    error = ScopeError(
        SCOPE_ERROR.format(
            digest=digest.get("digest_id", "<unnamed>"), count=len(found), lines=lines
        ),
        violations=found,
    )
    raise error
