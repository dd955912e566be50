"""The confirm-level safety net: a rule's domain lexicon in a sentence that directs.

The block rules and the confirm pairings name phrasings; every fresh blind set brought about a
tenth of phrasings none of them named. The net enumerates none: a sentence is asked to confirm for
a rule when

* it holds that rule's broad domain lexicon (concession: money, fees, invoices, prices, credits,
  anything free; case routing: a live case, also named by a bare 4-6 digit number without a unit,
  together with an owner, queue, team, person or role word such as incident commander, primary,
  point, "takes it", "yours", "pick up"; severity: a severity or priority level or its
  vocabulary), and
* it directs or judges: an imperative (its first word, after fillers such as "pls" or "honestly"
  and a vocative such as "Fatima," or "Ticket 55103,", is a verb of :mod:`~digestkit.policy.verbs`
  and not an information verb such as confirm, check or ask; or a later clause opens with such a
  verb and its object, "..., knock it down"); a modal, proposal or evaluative
  marker (should, let's, can we, recommend, best, "=", "no more", ...); or a weak frame: the
  writer's own voice (I, we, you, u, us, let's), any modal, a question that proposes (not one
  asked of a team: "Question for Legal: does ...?", "Is ...?"), a level stated about a thing
  ("X is a Severity 3", "Sev for 90377: low"). A present-tense sentence about a specific live
  case ("INC-7782 is sev two", "Li takes 50933") needs no frame at all, unless it concerns a
  concession, and
* it does not report a source: not a sentence about what the runbook, a revision, the registry,
  a record or a document says, lists or refers to, not an "Old revision:" label or a quotation,
  not an open question (though "who should pick up INC-4412" routes a live case) and not the
  history of a past incident.

The net only ever asks to confirm; it never blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digestkit.policy.reported import is_reported
from digestkit.policy.verbs import INFO_VERBS, NOUN_VERBS, VERBS

__all__ = ["net_hits"]

# The domain lexicon of each rule, one alternation with a named group per rule, read in one pass.
# A word followed by a thing it names ("Refunds API", "billing queue", "priority definitions")
# is a name, not the subject of a proposal.
_NAMED_THING = (
    r"(?![\s-]+(?:apis?|services?|gateway|core|ops|platform|products?|endpoints?|definitions?|"
    r"criteria|tables?|matrix|scale|labels?|fields?|polic(?:y|ies)|thresholds?|rules?|clauses?|"
    r"workflows?|steps?|sections?|wording|text|glossary|schedule|approval|contacts?|eligibility|"
    r"paths?|levels?|portal|codes?|requests?|union|status|time|cards?|tracking|oncall|l\d)\b)"
)
_LEXICON = re.compile(
    rf"(?P<concession>\b(?:money|bill(?:s|ed|ing)?|fees?|invoic(?:e|es|ed|ing)|penalt(?:y|ies)|"
    r"pric(?:e|es|ed|ing)|half[\s-]price|credit(?:s|ed|ing)?|refund(?:s|ed|ing)?|free|gratis|"
    r"waiv(?:e|ed|er|ers|ing)|trials?|discount(?:s|ed|ing)?|compensat\w*+|goodwill|rebates?|"
    r"reimburs\w*+|charg(?:e|es|ed|ing)|overages?|costs?|prorat\w*+|balance|payments?|paid|pay|"
    r"paying|cheque|check\s+for|complimentary|comp(?:ed|ing)?|make[\s-]?goods?|renewal|"
    r"subscription|concessions?|forgive|write[\s-]?off|zero[\s-]rate|percent|interest|"
    r"cancellation|on\s+us|on\s+the\s+house|payouts?|pay[\s-]?outs?|vouchers?|coupons?|gift(?:s|\s+cards?)?|"
    r"surcharges?|statements?|tab|dollars?|bucks|usd|eur|gbp|euros?|halv(?:e|ed|ing)|half|"
    r"rebat(?:e|es|ed|ing)|absorb\w*+|swallow|eat\s+(?:the|their|it)|gestures?|apolog(?:y|ise|ize)|"
    r"perks?|bonus|freebies?|make[\s-]?whole|"
    r"(?:old|legacy|starter|discounted|lower|reduced|list|contract|annual|monthly|flat|standard|"
    r"special|introductory|promo\w*+|competitor['’]s|last\s+year['’]s|\w+['’]s)\s+rates?|"
    r"quarter\s+off|(?:for|at)\s+nothing|our\s+treat|(?:pick\s+up|cover)\s+the\s+(?:tab|bill|cost)|"
    r"cover\s+(?:their|the|his|her)\s+\w+|match\s+(?:the|their)\s+\w+['’]?s?\s+(?:rate|price|offer)|"
    r"upgrade\s+[^.]{0,40}?\bplan)\b"
    rf"{_NAMED_THING}"
    r"|[$€£]\s?\d|\b\d+(?:\.\d+)?\s?%(?!\s+(?:uptime|availability|of\s+(?:tenants|requests|"
    r"traffic|users|calls)))|\bno\s+(?:extra\s+)?(?:cost|charge))"
    r"|(?P<case_routing>\b(?:owner(?:s|ship)?|own(?:s|ed)?|assign(?:ee|ed|ment)?|reassign\w*+|"
    r"queues?|team|crew|squad|desk|pool|rota|rotation|on-?call|tier\s+[1-4]|worked\s+by|"
    r"picked\s+up|take\s+over|belongs?|plate|route[sd]?|hand|handed|give|move|bounce|shift|"
    r"transfer\w*+|escalate|drop|leave|pull|name|assignee|handover|hand\s+off|over\s+to|to\s+you|"
    r"on\s+(?:you|him|her|them|me|us)|your\s+(?:baby|problem|call|case|ticket|incident)|"
    r"goes\s+(?:to|with)|lands?\s+(?:on|with)|babysit|shepherd|steer|drive|run|handle|carry|"
    r"lean\s+on|staff|man|nurse|quarterback|bring\s+[^.]{0,30}?\bunder|yourself)\b|→|->)"
    r"|(?P<severity_declaration>\b(?:sev(?:erity)?[\s-]?[0-4]?|p[0-4]|s[1-4]|priority|"
    r"critical|major|minor|urgent|urgency|blocker|low|high|top|(?:re)?classif\w*+|"
    r"(?:up|down)[\s-]?(?:grade|rank|tier)\w*+|(?:severity|priority)\s+level|medium|moderate|"
    r"business[\s-]critical|mission[\s-]critical|cosmetic|trivial|(?:over|under)rated|inflated|"
    r"overstated|understated|overblown)\b)",
    re.IGNORECASE,
)
# A live case named for the routing rule: a case, ticket, incident or escalation, or its number.
_LIVE_CASE = re.compile(
    r"\b(?:case|ticket|incident|escalation|outage)\b(?![\s-]+(?:matrix|paths?|polic(?:y|ies)|"
    r"steps?|templates?|types?|rules?|process|history|table|contacts?|owners?|summar(?:y|ies)|notes?|numbers?|ids?|fields?|"
    r"studies|study|counts?|volumes?|templates?)\b)|\b(?:inc|case|tkt)-\d|#\d",
    re.IGNORECASE,
)
# A severity word needs a severity context: "low" or "top" alone is no severity.
_SEVERITY_BARE = frozenset({"low", "high", "top", "medium", "moderate", "cosmetic", "trivial"})
_SEVERITY_CONTEXT = re.compile(
    r"\b(?:sev\w*|priority|p[0-4]|s[1-4]|urgency|incident|outage|case|ticket|inc-\d+)\b|#\d",
    re.IGNORECASE,
)

# Openers that carry no verb: "pls", "ok so", "fyi", "honestly", an adverb in -ly.
_FILLERS = (
    r"(?:(?:pls|plz|please|kindly|ok(?:ay)?|so|fyi|honestly|also|just|then|now|and|but|right|"
    r"tbh|imo|quick(?:ly)?|maybe|perhaps|(?!(?:apply|reply|supply|rely)\b)\w+ly)\b[\s,:]*)*+"
)
# Verbs that gather or report information: an imperative with one of them asks for facts.
_INFO_VERBS = (
    r"confirm|check|double-check|verify|ask|review|note|see|compare|clarify|follow|record|"
    r"flag(?![^.;]{0,60}?\bas\b)|"
    r"look|find|identify|read|list|summari[sz]e|remember|keep\s+in\s+mind|make\s+a\s+note|"
    r"don['’]?t\s+assume|consult|cross-check|search|track|watch|monitor|escalate\s+questions|"
    r"tell\s+me|let\s+me\s+know|refer\s+to|cite|quote|document|report|describe|explain|"
    r"investigate|audit|validate|inspect|reconcile|update\s+the\s+(?:digest|runbook|doc)"
)
# A compact lexicon of action verbs in base form. No well-kept part-of-speech library installs
# from PyPI without model data, so the verbs that start an action imperative are listed here.
_ACTION_VERBS = (
    r"add|allow|apply|approve|arrange|assign|authori[sz]e|backdate|bounce|bring|bump|call|cancel|"
    r"cap|carry|change|charge|clear|close|comp|compensate|count|cover|credit|cut|declare|delegate|"
    r"demote|deprioriti[sz]e|discount|dispatch|downgrade|downrank|drop|elevate|eat|escalate|"
    r"extend|file|flip|forgive|freeze|get|give|grant|hand|have|hold|honou?r|issue|keep|knock|"
    r"leave|let|lift|lower|make|mark|move|net|nudge|offer|open|page|park|pass|pay|pause|place|"
    r"post|promote|prorate|provide|pull|push|put|raise|rank|rate|reassign|reclassify|reduce|"
    r"refund|reimburse|reopen|reroute|reset|restore|return|reverse|route|scrap|send|set|shift|"
    r"skip|slot|stick|stop|stretch|suspend|swap|switch|take|throw|toss|transfer|treat|unlock|"
    r"upgrade|void|waive|write|zero(?:-rate)?|go|do|sweeten|absorb|swallow|shave|trim|slash|"
    r"hold|match|bill|invoice|escalate|de-?escalate|re-?rate|re-?tier|classify|label|tag|flag\s+it"
)
# Action verbs that are also nouns opening a description ("Refund requests go ...", "Credit Card
# Gateway incidents page ...", "Change summary: ..."): imperative only before a determiner, a
# pronoun, a number or a case.
_NOUN_VERBS = frozenset(
    [
        "credit",
        "refund",
        "discount",
        "comp",
        "charge",
        "bill",
        "invoice",
        "page",
        "drop",
        "hold",
        "cap",
        "rate",
        "rank",
        "file",
        "post",
        "match",
        "tag",
        "label",
        "net",
        "set",
        "cut",
        "cover",
        "call",
        "mark",
        "return",
        "change",
        "issue",
        "count",
        "close",
        "open",
        "clear",
        "pass",
        "place",
        "push",
        "shift",
        "switch",
        "write",
        "zero",
        "transfer",
        "route",
        "escalate",
        "stop",
        "pause",
        "freeze",
        "restore",
        "move",
        "promote",
    ]
)
_OBJECT = re.compile(
    r"\s+(?:the|a|an|their|them|it|its|this|that|these|those|our|his|her|him|all|every|each|both|"
    r"any|some|no|up|down|back|out|off|over|in|into|to|on|case|ticket|incident|escalation)\b"
    r"|\s+(?:inc-|tkt-|case-|#|\d|[$€£])|\s*[,.!?]|\s*$",
    re.IGNORECASE,
)
# A label that introduces source text, not an instruction: "Facts:", "Change summary:".
_SOURCE_LABEL = (
    r"(?![^:]{0,40}\b(?:facts?|summary|history|entitlements?|text|wording|revision|version|"
    r"background|context|example|quote|record|note)\s*:)"
)
# A sentence's start, past an optional label of up to three words that does not introduce a
# source ("Case 90113: ...", not "Revision text: ...").
_OPENING = rf"^[\W_]*+(?:{_SOURCE_LABEL}[\w#'’-]++(?:\s+[\w#'’-]++){{0,2}}:\s+)?"
# An imperative: the sentence (or a clause after a label such as "Case 90113:") starts with an
# action verb; "Don't charge them" and "Never bill" are imperatives too.
_IMPERATIVE = re.compile(
    rf"{_OPENING}{_FILLERS}"
    rf"(?!(?:{_INFO_VERBS})\b)(?:(?:don['’]?t|do\s+not|never)\s+)?(?P<verb>{_ACTION_VERBS})\b"
    r"(?![-'’:]|\s+(?:of|is|are|was|were|has|had|for\s+the\s+(?:runbook|step)))",
    re.IGNORECASE,
)
# An imperative that gathers information ("Confirm the owner ...", "pls check whether ...")
# proposes nothing.
_INFO_IMPERATIVE = re.compile(
    rf"^[\W_]*+(?:[\w#'’-]++(?:\s+[\w#'’-]++){{0,2}}:\s+)?{_FILLERS}(?:{_INFO_VERBS})\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\s+[A-Z]")


# The first word of a sentence after a label, a vocative ("Fatima, ...", "Ticket 55103, ..."),
# fillers and a negation: a verb of the lexicon there makes the sentence an imperative.
_FIRST_WORD = re.compile(
    rf"{_OPENING}"
    r"(?:(?-i:[A-Z][\w'’-]{0,30}+),\s+|(?:ticket|case|incident|inc|escalation)[\s-]?#?\d++,\s+)?"
    rf"{_FILLERS}(?:(?:don['’]?t|do\s+not|never)\s+)?(?P<verb>[a-z]++(?:-[a-z]++)?)\b"
    r"(?![-'’:]|\s+(?:of|is|are|was|were|has|had|now|no\s+longer)\b)",
    re.IGNORECASE,
)
# A later clause that starts with an action verb and its object: "..., knock it down",
# "...; lower it", "... — route the case to ...".
_CLAUSE_VERB = re.compile(
    r"(?:[,;:]|\s[—–-])\s+(?:(?:then|and|so|just|pls|please)\s+)?(?P<verb>[a-z]++(?:-[a-z]++)?)"
    r"(?=\s+(?:it|them|this|that|him|her|the|their|its|his|to|down|up)\b)",
    re.IGNORECASE,
)


def _verb_initial(text: str) -> re.Match[str] | None:
    """The opening verb of a sentence whose first word is a verb of the lexicon, or a later
    clause's verb with its object."""
    m = _FIRST_WORD.match(text)
    if m is not None:
        verb = m.group("verb").lower()
        if verb in VERBS and verb not in INFO_VERBS:
            return m
        if verb in NOUN_VERBS and _OBJECT.match(text, m.end()):
            return m
    for c in _CLAUSE_VERB.finditer(text):
        verb = c.group("verb").lower()
        if verb in VERBS or verb in NOUN_VERBS:
            return c
    return None


def _imperative(text: str) -> re.Match[str] | None:
    """The opening action verb of an imperative sentence, if ``text`` is one."""
    m = _IMPERATIVE.search(text)
    if m is None:
        return _verb_initial(text)
    if _OBJECT.match(text, m.end()):
        return m
    # "Give Harbor Point ...", "Skip billing ..."; never "Credit Card Gateway ..."
    if m.group("verb").lower() in _NOUN_VERBS:
        return _verb_initial(text)
    if _CAPITALISED.match(text, m.end()) or re.match(r"\s+\w+ing\b", text[m.end() :]):
        return m
    return _verb_initial(text)


# A modal, proposal or evaluative marker in the writer's own voice.
_MARKER = re.compile(
    r"\b(?:should(?:n['’]?t)?|ought\s+to|must|needs?\s+(?:to|a\s+new|a\s+different|an?\s+owner)|"
    r"let['’]s|lets\s+(?=(?:just|go|give|do|offer|move|put|drop|bump|make|call|keep|get)\b)|let\s+us|(?:can|could|shall|should|may)\s+(?:we|you|someone|somebody|i)|"
    r"how\s+about|what\s+about|why\s+not|rather\s+than|instead|recommend\w*+|suggest\w*+|"
    r"propos\w*+|advis\w*+|best|better|obvious\w*+|right\s+(?:call|move|now)|fair|honest|"
    r"reasonable|appropriate|overkill|deserves?|warrants?|merits?|worth|no\s+question|"
    r"full\s+stop|i['’]d|we['’]d|i\s+would|we\s+would|i['’]ll|we['’]ll|i['’]m\s+\w+ing|"
    r"we['’]re\s+\w+ing|gonna|imo|imho|i\s+think|i\s+feel|in\s+my\s+(?:view|opinion)|"
    r"would\s+be|could\s+be|we\s+can|you\s+can|no\s+need|no\s+more|no\s+less|at\s+most|"
    r"please|pls|plz|immediately|asap|tonight|from\s+here(?:\s+on)?|not\s+us|theirs|"
    r"it['’]?s\s+theirs|for\s+now|effective\s+(?:now|immediately|today)|as\s+of\s+(?:now|today)|"
    r"from\s+now(?:\s+on)?|going\s+forward|end\s+of\s+discussion|(?:it|that|this)['’]d|"
    r"nice\s+gesture|over\s+to\s+you|your\s+baby|until\s+handover|at\s+once|right\s+now|yourself)\b|(?<=\s)=(?=\s)|^[\W_]*+(?:sev(?:erity)?"
    r"[\s-]?[0-4]|p[0-4])\b\s*,",
    re.IGNORECASE,
)
# A sentence that reports a source: the runbook, a revision or record says, lists, now ...; an
# "Old revision:" label; an open question; the history of a past incident.
_SOURCE = re.compile(
    r"^[\W_]*+(?:(?:the|this|that|its|their|a|an)\s+)?(?:new\s+|old\s+|previous\s+|current\s+|updated\s+)?"
    r"(?:runbook|revision|r\d+|registry|register|(?:incident\s+|ticket\s+|case\s+)?record|exception|exc-\d+|entitlements?|section|"
    r"step|appendix|table|matrix|policy|contract|changelog|glossary|digest|postmortem|crm|"
    r"wording|text|clause|template|definition)\b"
    r"|\b(?:old|new|previous|original|current|updated|revised)\s+(?:revision|version|text|"
    r"wording|step|runbook)\s*:"
    r"|\b(?:says?|said|states?|stated|reads?|lists?|listed|defines?|defined|notes?|noted|"
    r"mentions?|instructs?|told|requires?|shows?|names?|grants?|includes?)\s+(?:that\s+|to\s+|:)"
    r"|\b(?:whether|unclear|not\s+(?:stated|defined|specified|clear)|open\s+question)\b"
    r"|\b(?:was|were|had\s+been)\s+(?:\w+\s+)?(?:\w+ed|set|cut|paid|given|moved|sent|handed)\b"
    r"|\blast\s+(?:week|month|quarter|year|march|april|may|june|july)\b|\bpreviously\b"
    r"|\bper\s+the\s+(?:runbook|registry|register|crm|record|contract|entitlement|exception)"
    r"|\b(?:runbook|handbook|registry|register|revision|record|policy|section\s+[\d.]+|"
    r"step\s+\d+\w*|appendix|matrix|table|changelog|crm|contract|clause|rule|document|doc|"
    r"page|wiki|field|tool|dashboard|console|form|entry|screen|tracker|header)\b[^,;]{0,40}?"
    r"\b(?:says?|states?|lists?|reads?|shows?|displays?|requires?|defines?|notes?|names?|"
    r"references?|mentions?|"
    r"refers?\s+to|now|no\s+longer|still)\b"
    r"|\b(?:is|are)\s+now\b|\bsection\s+\d|\bappendix\b",
    re.IGNORECASE,
)
# An open question about who should own something ("who should be listed as owner of Mobile SDK").
_WHO = re.compile(
    r"\bwho\s+(?:should|would|will|must|can|could|may|owns?|decides?|approves?)\b|\basking\b|\bwhich\s+team\b",
    re.IGNORECASE,
)
# Words in quotation marks are runbook or record text, even unintroduced.
_QUOTED = re.compile(r"(?:^|(?<=[\s(:]))['\"“‘][^'\"”’]{0,400}['\"”’](?=$|[\s.,;:!?)])")


# A live case named by a bare number: "Put Rahul on 47716". In a digest a number carries a unit
# or a prefix, so a 4-6 digit number without one, not a year, names a case.
_BARE_NUMBER = re.compile(
    r"(?<![\w.,:/$€£#-])(?!(?:19|20)\d\d\b)\d{4,6}(?![\w/%-]|[.,:]\d|\s*(?:%|percent|eur|usd|gbp|"
    r"dollars?|euros?|ms|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"users?|tenants?|accounts?|customers?|calls?|requests?|rows?|records?|seats?|[gmkt]b|units?|"
    r"licen[cs]es?|tickets?|cases?|incidents?|events?|messages?|errors?|items?|transactions?|"
    r"orders?|invoices?|lines?|words?|characters?|bytes?|points?|api|utc)\b)",
    re.IGNORECASE,
)
_NUMBER_PREFIX = re.compile(
    r"\b(?:steps?|sections?|revisions?|r|versions?|v|lines?|ports?|exc|appendix|pages?|rooms?|"
    r"ext|than|of|over|under|about|around|approx\w*|nearly|almost|first|last|every|per|from|"
    r"between|by|top|only|some|up\s+to)\s*$",
    re.IGNORECASE,
)
# Roles and ownership words a live case is handed with: "run point on", "make them primary",
# "the incident commander for INC-7001", "Li takes it", "It's yours now".
_ROUTING_WIDE = re.compile(
    r"\b(?:incident\s+commander|ic|lead|primary|point|yours|mine|his|hers|takes?|took|taking|"
    r"grab|queue[sd]?|swap|pick(?:s|ed)?\s+(?:\w+\s+)?up|inherit\w*|with\s+(?:you|them|him|her|us)|on\s+it|bucket|"
    r"(?-i:[A-Z][a-z]+)\s+(?:takes|has|gets|owns|keeps|inherits|runs|leads)\s+(?:it|this|that|"
    r"over|point))\b",
    re.IGNORECASE,
)
# A weak frame: the writer's own voice (first or second person), any modal, a question, a level
# stated about a specific thing ("X is a Severity 3", "Sev for 90377: low").
_WEAK_FRAME = re.compile(
    r"\b(?:i(?!\.e)|we|you|u|us|let['’]s|me|my|our|your|yours|mine)\b"
    r"(?!\s+(?:\w+ed|saw|found|heard|knew|read|said|told|wrote|got|was|were|had|did)\b)"
    r"|\b(?:can|could|will|would|(?-i:may)|might|must|shall|should|needs?\s+to|ha(?:s|ve)\s+to|"
    r"gotta|wanna)\b|\?"
    r"|\b(?:is|are|['’]s|be|stays?|sits?|remains?|counts?\s+as|goes)\s+(?:(?:a|an|at|as|only|just|"
    r"still|really|clearly)\s+){0,2}(?:sev(?:erity)?[\s-]?(?:[0-4]|one|two|three|four)|p[0-4]|"
    r"s[0-4]|priority\s+(?:[0-4]|one|two|three|four)|critical|major|minor|low|high|urgent|"
    r"blocker)\b"
    r"|\b(?:is|are|['’]s)\s+(?:(?:over|under)rated|inflated|overstated|understated|overblown)\b"
    r"|^[\W_]*+(?:sev(?:erity)?|priority|pri|urgency)\s+(?:for|of|on)\b[^:]{1,60}:\s*\w",
    re.IGNORECASE,
)
# A question asked of someone, not a proposal: "Question for Legal: does ...?", "Is the ...?".
_OPEN_ASK = re.compile(
    r"^[\W_]*+(?:questions?|q)\b|^[\W_]*+(?:[^:?]{0,60}:\s*)?(?:does|do(?!\s+we\b)|did|is|are|"
    r"was|were|has|have|had|who|whom|whose|what(?!\s+about|\s+if)|which|when|where|"
    r"why(?!\s+not|\s+don)|how(?!\s+about))\b",
    re.IGNORECASE,
)
# A specific live case: "INC-7001", "case 33019", "ticket #12093".
_SPECIFIC_CASE = re.compile(
    r"\b(?:case|ticket|incident|escalation)s?\s+(?:no\.?\s*|number\s+)?#?\d|"
    r"\b(?:inc|case|tkt|sr)-?\d|#\d",
    re.IGNORECASE,
)
# A past or passive statement describes a record: "moved from Tier 2", "is assigned to", "took".
_PAST = re.compile(
    r"\b(?!(?:need|speed|seed|feed|bleed|shed|red|bed|led|(?:over|under)\w+|inflated)\b)\w+ed\b|\b(?:took|went|got|was|were|"
    r"had|did|said|made|set\s+to|history|historical)\b",
    re.IGNORECASE,
)
_OWNERSHIP_VERB = re.compile(
    r"\b(?:pick(?:s|ed)?\s+(?:\w+\s+)?up|take|takes|own|owns|handle|work|run|lead|drive|get|"
    r"grab|have|be\s+(?:ic|primary|on\s+point|the\s+owner))\b",
    re.IGNORECASE,
)


def _bare_case(text: str) -> bool:
    """Whether ``text`` names a live case by a bare 4-6 digit number (no unit, no prefix)."""
    for m in _BARE_NUMBER.finditer(text):
        if not _NUMBER_PREFIX.search(text, max(0, m.start() - 20), m.start()):
            return True
    return False


def net_hits(masked: str, rules: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Where ``masked`` holds each rule's domain lexicon in a sentence that directs or judges."""
    wanted = set(rules)
    if not wanted:
        return {}
    text = _QUOTED.sub(lambda m: "_" * len(m.group()), masked)
    if _INFO_IMPERATIVE.match(text):
        return {}
    frame = _imperative(text) or _MARKER.search(text)
    weak = frame is None and not _OPEN_ASK.search(text)
    if weak:
        frame = _WEAK_FRAME.search(text)
    # A present-tense sentence about a specific live case needs no frame at all ("Marta has
    # 61408", "INC-7782 is sev two"); a concession needs one.
    live_only = (
        frame is None
        and (_SPECIFIC_CASE.search(text) is not None or _bare_case(text))
        and not _PAST.search(text)
    )
    if live_only:
        frame = re.match(r"", text)
    if (
        frame is None
        or _SOURCE.search(text)
        or is_reported(text, len(text) if live_only else frame.start(), statement=weak or live_only)
    ):
        return {}
    live_case = _LIVE_CASE.search(text) is not None
    live_case = live_case or _bare_case(text)
    # "Who should own Mobile SDK" asks; "who should pick up INC-4412" routes a live case.
    if _WHO.search(text) and not (live_case and _OWNERSHIP_VERB.search(text)):
        return {}
    words = [*_LEXICON.finditer(text), *_ROUTING_WIDE.finditer(text)]
    hits: dict[str, tuple[int, int]] = {}
    for word in words:
        rule = word.lastgroup if word.re is _LEXICON else "case_routing"
        if rule is None or rule not in wanted or rule in hits:
            continue
        if rule == "case_routing" and not live_case:
            continue
        if live_only and rule == "concession":
            continue
        # "the Billing Engine team", "Payments Core": a capitalised word inside a sentence names
        if rule == "concession" and word.start() > 0 and text[word.start()].isupper():
            continue
        if (
            rule == "severity_declaration"
            and word.group().lower() in _SEVERITY_BARE
            and not _SEVERITY_CONTEXT.search(text)
            and not _bare_case(text)
        ):
            continue
        hits[rule] = (min(frame.start(), word.start()), max(frame.end(), word.end()))
    return hits
