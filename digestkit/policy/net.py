"""The confirm-level safety net: a rule's broad domain lexicon in a sentence that directs.

The block rules and the confirm pairings name phrasings; every fresh blind set brought about a
tenth of phrasings none of them named. The net enumerates none: a sentence is asked to confirm for
a rule when

* it holds that rule's broad domain lexicon (concession: money, fees, invoices, prices, credits,
  anything free; case routing: a live case named together with an owner, queue, team or person
  word; severity: a severity or priority level or its vocabulary), and
* it directs or judges in the writer's own voice: it is an imperative (its first verb, after
  fillers such as "pls" or "honestly", is not an information verb such as confirm, check or
  ask), or it carries a modal, proposal or evaluative marker (should, let's, can we, recommend,
  best, obvious, "=", "no more", ...), and
* it does not report a source: not a sentence about what the runbook, a revision, the registry or
  a record says or lists, not an "Old revision:" label or a quotation, not an open question and
  not the history of a past incident.

The net only ever asks to confirm; it never blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digestkit.policy.reported import is_reported

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
    rf"cancellation|on\s+us|on\s+the\s+house)\b{_NAMED_THING}"
    r"|[$€£]\s?\d|\b\d+(?:\.\d+)?\s?%(?!\s+(?:uptime|availability|of\s+(?:tenants|requests|"
    r"traffic|users|calls)))|\bno\s+(?:extra\s+)?(?:cost|charge))"
    r"|(?P<case_routing>\b(?:owner(?:s|ship)?|own(?:s|ed)?|assign(?:ee|ed|ment)?|reassign\w*+|"
    r"queues?|team|crew|squad|desk|pool|rota|rotation|on-?call|tier\s+[1-4]|worked\s+by|"
    r"picked\s+up|take\s+over|belongs?|plate|route[sd]?|hand|handed|give|move|bounce|shift|"
    r"transfer\w*+|escalate|drop|leave|pull|name)\b|→|->)"
    r"|(?P<severity_declaration>\b(?:sev(?:erity)?[\s-]?[0-4]?|p[0-4]|s[1-4]|priority|"
    r"critical|major|minor|urgent|urgency|blocker|low|high|top|(?:re)?classif\w*+|"
    r"(?:up|down)(?:grade|rank)\w*+|(?:severity|priority)\s+level)\b)",
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
_SEVERITY_BARE = frozenset({"low", "high", "top"})
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
    r"confirm|check|double-check|verify|ask|review|note|see|compare|clarify|follow|flag|record|"
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
# An imperative: the sentence (or a clause after a label such as "Case 90113:") starts with an
# action verb; "Don't charge them" and "Never bill" are imperatives too.
_IMPERATIVE = re.compile(
    rf"^[\W_]*+(?:{_SOURCE_LABEL}[\w#'’-]++(?:\s+[\w#'’-]++){{0,2}}:\s+)?{_FILLERS}"
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


def _imperative(text: str) -> re.Match[str] | None:
    """The opening action verb of an imperative sentence, if ``text`` is one."""
    m = _IMPERATIVE.search(text)
    if m is None:
        return None
    if _OBJECT.match(text, m.end()):
        return m
    # "Give Harbor Point ...", "Skip billing ..."; never "Credit Card Gateway ..."
    if m.group("verb").lower() in _NOUN_VERBS:
        return None
    return (
        m
        if _CAPITALISED.match(text, m.end()) or re.match(r"\s+\w+ing\b", text[m.end() :])
        else None
    )


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
    r"it['’]?s\s+theirs|for\s+now)\b|(?<=\s)=(?=\s)|^[\W_]*+(?:sev(?:erity)?"
    r"[\s-]?[0-4]|p[0-4])\b\s*,",
    re.IGNORECASE,
)
# A sentence that reports a source: the runbook, a revision or record says, lists, now ...; an
# "Old revision:" label; an open question; the history of a past incident.
_SOURCE = re.compile(
    r"^[\W_]*+(?:(?:the|this|that|its|their)\s+)?(?:new\s+|old\s+|previous\s+|current\s+|updated\s+)?"
    r"(?:runbook|revision|r\d+|registry|register|record|exception|exc-\d+|entitlements?|section|"
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
    r"step\s+\d+\w*|appendix|matrix|table|changelog|crm|contract|clause|rule)\b[^,;]{0,40}?"
    r"\b(?:says?|states?|lists?|reads?|requires?|defines?|notes?|names?|references?|mentions?|"
    r"now|no\s+longer|still)\b"
    r"|\b(?:is|are)\s+now\b|\bsection\s+\d|\bappendix\b"
    r"|\bwho\s+(?:should|would|will|must|owns?|decides?)\b|\basking\b|\bwhich\s+team\b",
    re.IGNORECASE,
)
# Words in quotation marks are runbook or record text, even unintroduced.
_QUOTED = re.compile(r"(?:^|(?<=[\s(:]))['\"“‘][^'\"”’]{0,400}['\"”’](?=$|[\s.,;:!?)])")


def net_hits(masked: str, rules: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Where ``masked`` holds each rule's domain lexicon in a sentence that directs or judges."""
    wanted = set(rules)
    if not wanted:
        return {}
    text = _QUOTED.sub(lambda m: "_" * len(m.group()), masked)
    if _INFO_IMPERATIVE.match(text):
        return {}
    frame = _imperative(text) or _MARKER.search(text)
    if frame is None or _SOURCE.search(text) or is_reported(text, frame.start()):
        return {}
    live_case = _LIVE_CASE.search(text) is not None
    hits: dict[str, tuple[int, int]] = {}
    for word in _LEXICON.finditer(text):
        rule = word.lastgroup
        if rule is None or rule not in wanted or rule in hits:
            continue
        if rule == "case_routing" and not live_case:
            continue
        # "the Billing Engine team", "Payments Core": a capitalised word inside a sentence names
        if rule == "concession" and word.start() > 0 and text[word.start()].isupper():
            continue
        if (
            rule == "severity_declaration"
            and word.group().lower() in _SEVERITY_BARE
            and not _SEVERITY_CONTEXT.search(text)
        ):
            continue
        hits[rule] = (min(frame.start(), word.start()), max(frame.end(), word.end()))
    return hits
