"""Regex building blocks shared by the block rules, the confirm level and the guard.

Words and windows of object words, where a clause that directs can begin (an imperative start, a
recommending cue, a conjunction), modals, and the vocabulary the rules are about: concession
nouns, give / pay / route verbs, severity values and references to a live case. Each is a regex
source string; :func:`compile_patterns` compiles a rule's patterns case-insensitively.
"""

from __future__ import annotations

import re

__all__ = [
    "CASE_ID",
    "CASE_OBJ",
    "CASE_REF",
    "CONCESSION_NOUN",
    "CUE",
    "FILLER",
    "GERUND_CUE",
    "GIVE_VERBS",
    "LEAD",
    "MODAL",
    "PAY_VERBS",
    "ROUTE_VERBS",
    "SEV",
    "START",
    "compile_patterns",
    "gerunds",
    "window",
]

# Possessive (``++``): a word is never given back, so a run of 8,000 dashes is read once.
_WORD = r"[\w%$'’/.-]++"
# Words that end a noun phrase: a window of object words never crosses them, so "Issue tracking
# for refunds moved" does not read as "issue ... refunds".
_STOP = (
    r"(?:for|of|in|on|at|with|about|from|by|was|were|is|are|be|been|has|have|had|to|that|which|"
    r"who|whose|and|or|but|if|when|than|per|under|after|before|changed|moved|removed|added|not)"
)


def window(n: int) -> str:
    """Up to ``n`` object words (determiners, names, amounts) inside one clause."""
    return rf"(?:(?!{_STOP}\b){_WORD}\s+){{0,{n}}}?"


def gerunds(verbs: str) -> str:
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


FILLER = (
    r"(?:(?:please|now|then|also|so|just|ok|okay|first|next|finally|immediately|kindly|right|"
    r"quickly|definitely|probably|maybe|perhaps|still|simply|go\s+ahead\s+and|and|but)\b[\s,]{0,4}){0,4}"
)
# Where an imperative clause can begin: the sentence start (after a bullet, a short label such as
# "Action:" or "Premium Plus:", a vocative "Dana," or a leading "Since ...," / "If ...," clause),
# an opening bracket or quote (an unmasked quote is the writer's own words), or a dash.
START = (
    r"(?:^[\W_]*+(?:[a-z'’-]++(?:\s+[a-z'’-]++){0,3}:\s+|[a-z'’-]++,\s+|(?:since|because|as|if|"
    r"once|when|given|after|before|until|while|now\s+that)\b[^,;:]*+,\s+)?"
    r"|(?<=[(\[\"“‘])|(?<=\s')|(?<=\s[—–])\s*|(?<=\s-)\s+|(?<=\s--)\s+)"
)
# Recommending cues: a modal, a request, a proposal or a consequence ("so", "then").
CUE = (
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:ve|s)\s+to|had\s+better|"
    r"go\s+ahead\s+and|make\s+sure\s+(?:to\s+)?|be\s+sure\s+to|remember\s+to|"
    r"don'?t\s+forget\s+to|please|let'?s|let\s+us|(?:can|could|would|will)\s+you|"
    r"(?:i|we|you)(?:\s+(?:would|will|can|could|might)|['’](?:d|ll))|"
    r"(?:can|could|shall|should)\s+we|"
    r"want\s+to|wants\s+to|"
    r"(?:it(?:'s|’s|\s+is)\s+)?(?:best|advisable|wise|better|time)\s+to|then|so|therefore|"
    r"hence|instead|but|recommend|suggest|advise|propose|urge|"
    # "Why not extend their trial ...", "why don't we bump it to P1"
    r"why\s+not|why\s+(?:don['’]?t|not)\s+(?:we|you))\b"
    r"(?:\s+that)?"
    r"(?:\s+(?:you|we|they|someone|somebody|on-?call|the\s+(?:duty\s+manager|dm|team|on-?call|ic|"
    r"incident\s+commander))(?:\s+(?:should|must|needs?\s+to))?)?"
    r"[\s,]+"
)
_CONJ = r"(?P<conj>\b(?:and|or)\s+|,\s+)"
LEAD = rf"(?:{START}{FILLER}|{CUE}{FILLER}|{_CONJ}{FILLER})"
# Cues that take a gerund: "consider issuing", "recommend declaring".
GERUND_CUE = (
    r"\b(?:recommend|suggest|propose|consider|advise|try|start|worth|go\s+ahead\s+with|"
    r"i'?d\s+go\s+with|how\s+about|what\s+about)\s+"
)
MODAL = (
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:ve|s)\s+to|will|would|could|"
    r"deserves?\s+to)\b"
)
_PRONOUN_OBJ = r"(?:it|this|that|them|this\s+one)"


def compile_patterns(*patterns: str) -> tuple[re.Pattern[str], ...]:
    """A rule's patterns, compiled case-insensitively."""
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# A concession noun, unless it modifies another noun ("Refunds API", "credit card", "refund
# workflow"): then it names a product, team or process.
CONCESSION_NOUN = (
    r"\b(?:credits?|refunds?|discounts?|concessions?|waivers?|compensation|goodwill|rebates?|"
    r"reimbursements?|make-?goods?|(?:trial|contract|subscription|term)\s+extensions?|"
    # something given free: "free onboarding", "a complimentary health check", "a month of free
    # support", "the add-on free for a year"
    r"(?<!-)(?:free|complimentary|bonus)\s+(?!of\b|to\b|for\b|text\b|form\b|and\b|or\b)[\w-]++|"
    # "a courtesy credit", not a courtesy call or update (communication)
    r"courtesy\s+(?!calls?\b|updates?\b|notices?\b|e-?mails?\b|messages?\b|notes?\b|"
    r"reminders?\b|check-?ins?\b|visits?\b|heads-?up\b|copy\b|copies\b)[\w-]++|freebies?|"
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
GIVE_VERBS = (
    "offer|grant|issue|give|apply|approve|provide|extend|process|authorize|authorise|arrange|"
    "promise|comp|award|send|add|post|honor|honour|hand"
)
PAY_VERBS = "credit|refund|comp|compensate|reimburse"

# A severity value: Sev1, Sev-1, SEV 1, severity one, P1, priority 2, S1.
SEV = (
    r"\b(?:sev(?:erity)?[\s-]?(?:level[\s-]?)?|pri(?:ority)?[\s-]?(?:level[\s-]?)?|[sp]-?)"
    r"(?:[0-4]|zero|one|two|three|four)\b"
)
_CASE_NOUN = (
    r"(?:cases?|tickets?|incidents?|escalations?|issues?|requests?|outages?|pages?|bridges?|"
    r"customers?|accounts?|calls?)\b"
    # "the escalation matrix", "the incident timeline", "the account managers" name a thing or a
    # person, not a live case
    r"(?![\s-]+(?:matri(?:x|ces)|paths?|steps?|sections?|polic(?:y|ies)|process(?:es)?|"
    r"procedures?|contacts?|tables?|templates?|tiers?|levels?|rules?|criteria|definitions?|"
    r"runbooks?|playbooks?|checklists?|forms?|fields?|workflows?|volumes?|counts?|rates?|"
    r"managers?|owners?|summar(?:y|ies)|timelines?|history|reports?|notes?|logs?|channels?|"
    r"numbers?|ids?|types?|categories|scale|model)\b)"
)
# A live case named by its number: "case 48213", "ticket #77410", "INC-8890".
CASE_ID = (
    r"(?:(?:cases?|tickets?|incidents?|escalations?)\s+(?:no\.?\s*|number\s+)?#?\d[\w-]*+|"
    r"(?:inc|case|tkt|sr)-?\d+)\b"
)
# A case named by a determiner and its noun, or by its number (not a bare pronoun).
CASE_REF = (
    rf"(?:(?:the|this|that|these|those|their|its|our|every|each|all|any)\s+"
    rf"(?:[\w'’-]++\s+){{0,3}}?{_CASE_NOUN}|{CASE_ID})"
)
CASE_OBJ = rf"(?:{_PRONOUN_OBJ}\b|{CASE_REF})"

ROUTE_VERBS = (
    "route|reroute|re-route|assign|reassign|re-assign|transfer|send|move|forward|pass|give|hand|"
    "escalate|push|kick|bounce|dispatch|refer|redirect|shift|take|flip|shunt|punt|offload|"
    "delegate|allocate|relay|funnel|channel|slide|shove|swing|switch|ship|toss|lob"
)
