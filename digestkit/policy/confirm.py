"""The confirm level: a rule's vocabulary paired with an evaluative or directive frame.

A sentence no block rule matches is at the ``confirm`` level for a rule when it pairs that rule's
vocabulary with a frame of the writer's own within a dozen words (see :mod:`digestkit.policy`).
Open questions, comments on the digest or runbook text, vocabulary used as a modifier and
reported speech are not pairings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digestkit.policy.reported import is_reported
from digestkit.policy.vocabulary import (
    CASE_ID,
    CASE_REF,
    CONCESSION_NOUN,
    GIVE_VERBS,
    PAY_VERBS,
    ROUTE_VERBS,
    SEV,
    START,
)

__all__ = ["confirm_hits"]

Span = tuple[int, int]

# Vocabulary of each rule, in any grammatical form. Alone it is in scope ("the refund step was
# removed"); paired with an evaluative or directive frame in the writer's own words it asks the
# sharer to confirm ("a refund seems fair", "have the Ledger team pick this up").
_VOCABULARY: dict[str, re.Pattern[str]] = {
    "concession": re.compile(
        rf"{CONCESSION_NOUN}|\b(?:credit(?:ed|ing)|refund(?:ed|ing)|discounted|waive[sd]?|waiving|"
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
        rf"{CASE_REF}\s+(?:go|goes|move|moves)\s+(?:straight\s+|directly\s+)?(?:to|with)|"
        # "Identity gets INC-7731"
        r"(?:gets?|got|takes?|grabs?|owns?|drives?|leads?|runs?(?:\s+with)?|quarterbacks?|steers?|"
        r"has|keeps?)\s+"
        rf"{CASE_ID})\b"
        r"|(?<=\s)(?:->|→)(?=\s)",
        re.IGNORECASE,
    ),
    "severity_declaration": re.compile(
        rf"{SEV}|\b(?:severity|priority|sev)\b(?!-)|\b(?:critical|major\s+incident|"
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
    r"shall|let['’]s|let\s+us|please|pls|plz|recommend\w*|suggest\w*|what\s+if\s+(?:we|you)|"
    r"worthy|deserving|(?:isn['’]?t|is\s+not|not)\s+(?:really|actually|truly)|"
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
    r"(?=\s*(?:[,;.!]|$|for\s+(?:this|now|the\s+(?:incident|outage|case|ticket))\b))"
    # "P2 for INC-2217, not P1."
    rf"|^[\W_]*+{SEV}(?=\s+for\s+(?:this|now|the\s+(?:incident|outage|case|ticket)\b|{CASE_ID}))",
    re.IGNORECASE,
)
# A yes/no question that proposes an action: "Should we credit them?", "Can we do a P2?".
_PROPOSAL_QUESTION = re.compile(
    r"^[\W_]{0,8}(?:should|shall|shouldn['’]?t|can|could|may|must|do\s+we|why\s+not|what\s+if|"
    r"how\s+about|what\s+about|any\s+reason\s+not\s+to)\b[^?]{0,400}\?",
    re.IGNORECASE,
)
# An imperative: a clause that starts with a base-form verb ("Put the escalation with ...").
_IMPERATIVE = re.compile(
    rf"{START}(?:please\s+|pls\s+|just\s+|maybe\s+|perhaps\s+|then\s+|now\s+){{0,3}}"
    # "Make a note that ...", "Keep in mind ...", "Don't assume ..." ask the reader to know
    r"(?!make\s+a\s+note|keep\s+in\s+mind|(?:don['’]?t|do\s+not|never)\s+(?:assume|forget|"
    r"confuse|mix\s+up|rely|read|expect)\b)"
    rf"(?:{GIVE_VERBS}|{PAY_VERBS}|{ROUTE_VERBS}|get|have|put|keep|let|make|throw|bring|ping|"
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
    r"\b(?:(?<!is\s)(?<!one\s)(?<!ones\s)who|whom|whose|which|whether|what(?!\s+about|\s+if)|when|"
    r"where|how(?!\s+about)|"
    r"(?<!best\s)(?<!better\s)(?<!what\s)if|unclear|"
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


def confirm_hits(masked: str, rules: Iterable[str]) -> dict[str, tuple[int, int]]:
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
    frames = [span for span in frames if not is_reported(masked, span[0])]
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
            if hit is not None and not is_reported(masked, word.start()):
                hits[rule] = hit
                break
    return hits


def _pairs(masked: str, word: re.Match[str], frames: list[tuple[int, int]]) -> Iterable[Span]:
    """Spans joining ``word`` to each frame within a dozen words of it (one proposal)."""
    for start, end in frames:
        lo, hi = min(start, word.start()), max(end, word.end())
        if len(_CONFIRM_SPAN.findall(masked, lo, hi)) <= _CONFIRM_WORDS:
            yield lo, hi
