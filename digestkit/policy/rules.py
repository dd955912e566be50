"""The block-level scope rules: ``CONCESSION``, ``CASE_ROUTING`` and ``SEVERITY_DECLARATION``.

What each rule forbids, why, and what passes by design is documented in :mod:`digestkit.policy`;
each pattern below follows an example of what it catches. ``RULES`` maps rule names to rules, in
the order violations are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digestkit.policy.vocabulary import (
    CASE_ID,
    CASE_OBJ,
    CASE_REF,
    CONCESSION_NOUN,
    GERUND_CUE,
    GIVE_VERBS,
    LEAD,
    MODAL,
    PAY_VERBS,
    ROUTE_VERBS,
    SEV,
    START,
    compile_patterns,
    gerunds,
    window,
)

__all__ = ["CASE_ROUTING", "CONCESSION", "RULES", "SEVERITY_DECLARATION", "Rule"]


@dataclass(frozen=True)
class Rule:
    """A scope rule: what it forbids and the patterns that detect it."""

    name: str
    forbids: str
    patterns: tuple[re.Pattern[str], ...]


# --- concession --------------------------------------------------------------------------------

# A concession word naming a thing, not an action: "Credit Card Gateway", "Refund requests",
# "Comp time".
_THING = (
    r"(?:cards?|notes?|memos?|limits?|checks?|scores?|risk|terms|lines?|unions?|requests?|"
    r"polic(?:y|ies)|rules?|approvals?|process|workflows?|teams?|apis?|services?|forms?|amounts?|"
    r"ledger|caps?|tiers?|rates?|calculations?|handling|issuance|decisions?|eligibility|sections?|"
    r"clauses?|language|wording|fields?|rows?|columns?|entries|tables?|data|history|reports?|"
    r"totals?|owners?|queues?|time|desk|portal|paths?|steps?|engine|ops|operations|status(?:es)?|"
    r"windows?|deadlines?|tickets?|ids?|references?|numbers?|controls?)"
)

CONCESSION = Rule(
    name="concession",
    forbids="recommending or promising a credit, refund, discount, waiver or other concession",
    patterns=compile_patterns(
        # "Offer them a 10% service credit", "we should issue a refund"
        rf"{LEAD}(?P<hit>\b(?:{GIVE_VERBS}|throw\s+in|toss\s+in)\b\s+{window(6)}{CONCESSION_NOUN})",
        # "Extend their trial of the Sentinel tier by 60 days"
        rf"(?:{LEAD}|{GERUND_CUE})(?P<hit>\b(?:extend|lengthen|prolong)(?:ing)?\s+{window(3)}"
        r"(?:trials?|evaluations?|"
        r"pilots?|grace\s+periods?)\b)",
        # "Extend Tidepool's subscription by two months" (a term given, not a window of time)
        rf"(?:{LEAD}|{GERUND_CUE})(?P<hit>\b(?:extend|lengthen|prolong)(?:ing)?\s+{window(3)}"
        r"(?:subscriptions?|"
        r"licen[cs]es?(?:\s+terms?)?|(?:contract\s+|renewal\s+|subscription\s+)?terms?|contracts?|"
        r"plans?|entitlements?|seats?|renewal\s+dates?)\s+(?:by|for|through|until|till|into|out|"
        r"another|an?\s+(?:extra|additional|further)|\d|one|two|three|four|six|twelve|a\s+(?:few|"
        r"couple|month|quarter|year|week))\b)",
        # "Push their renewal date out a quarter", "defer their invoice by a month"
        rf"{LEAD}(?P<hit>\b(?:push|move|slide|defer|delay|postpone)\s+{window(3)}(?:renewal(?:\s+date)?|"
        r"invoices?|billing(?:\s+date)?|payment\s+(?:due\s+)?dates?)s?\s+(?:out|back|by)\b)",
        # "consider offering a goodwill credit"
        rf"{GERUND_CUE}(?P<hit>(?:{gerunds(GIVE_VERBS)})\s+{window(6)}{CONCESSION_NOUN})",
        # "Credit the account", "refund them", "compensate the customer"
        rf"{LEAD}(?P<hit>\b(?:{PAY_VERBS})\s+(?:them|him|her|it|the|their|this|that|those|these|"
        r"each|every|all|both|back|\$|\d))",
        # "Compensate Harbor & Finch with two free months", "reimburse Ostrander Labs" (never
        # "compensate for the clock skew")
        rf"{LEAD}(?P<hit>\b(?:compensate|reimburse|recompense|indemnify)\s+(?!for\b)[\w'’&-]++)",
        # "Refund Bellweather for the rush fee", "credit Selwyn with $500" (not "Refund requests
        # for ...", "Credit Card Gateway ...": a concession word naming a thing)
        rf"{LEAD}(?P<hit>\b(?:credit|refund|comp)\s+(?!{_THING}\b){window(3)}(?:for\s+(?:the|their|"
        rf"its|this|that|all|any|every|last|\d)\s+{window(3)}(?:outages?|downtime|incidents?|trouble|"
        r"inconvenience|charges?|fees?|invoices?|bills?|months?|days?|hours?|weeks?|delays?|"
        r"disruption|breach|overages?|subscription|seats?|licen[cs]es?|setup|migration|period|"
        r"quarter|sla|usage)|with\s+(?:a|an|the|\$|\d)|\$|\d)\b)",
        # "Refund Juniper the setup fee", "comp Halberd two months of support"
        rf"{LEAD}(?P<hit>\b(?:credit|refund|comp)\s+(?!{_THING}\b){window(3)}(?:the|their|its|a|an|"
        rf"one|two|three|six|twelve|\d+)\s+{window(3)}(?:months?|weeks?|days?|quarters?|fees?|"
        r"charges?|invoices?|bills?|costs?|overages?|subscription|seats?|licen[cs]es?|difference|"
        r"amount|balance|usage)\b)",
        # "Make Tallgrass Energy whole with a service credit"
        rf"{LEAD}(?P<hit>\bmake\s+{window(4)}whole\b)",
        # "A goodwill discount should be applied to their renewal"
        rf"(?P<hit>{CONCESSION_NOUN}\s+(?:[\w%'’-]++\s+){{0,4}}?{MODAL}\s+(?:also\s+|now\s+)?be\s+"
        r"(?:applied|given|offered|granted|issued|extended|processed|approved|added|posted|"
        r"honou?red|arranged)\b)",
        # "Extend their contract by a quarter at no extra charge", "upgrade them free of charge"
        # "bump their tier to Premium Plus as an apology", "send them a gift card for the trouble"
        rf"{LEAD}(?P<hit>\b(?:{GIVE_VERBS}|upgrade|extend|add|throw\s+in|include|bump|move|"
        r"switch|let|keep|hold|freeze|lock|push|defer|delay|do|run|deliver|enable|activate|unlock|"
        r"provision|set\s+up|turn\s+on|migrate|host|perform|cover)\b[^.;!?]{0,60}?"
        r"\b(?:(?:at\s+)?no\s+(?:extra\s+|additional\s+)?(?:charge|cost)|free\s+of\s+charge|for\s+free|"
        # "... keep the extra seats free.", "... free until the fix ships"
        r"free(?=\s*(?:$|[.,;!?)—–]|until\b|through\b|till\b|for\s+(?:a|an|the|one|two|three|six|"
        r"twelve|\d)\b))|for\s+nothing|"
        r"on\s+the\s+house|on\s+us|gratis|at\s+our\s+(?:own\s+)?(?:expense|cost)|"
        r"on\s+our\s+(?:own\s+)?dime|without\s+(?:paying|charge|charging|billing|cost))\b)",
        # ... or with a purpose that makes it one, unless what is given is a message ("send the
        # customer an update as an apology" is communication)
        rf"{LEAD}(?P<hit>\b(?:{GIVE_VERBS}|upgrade|extend|add|throw\s+in|include|bump|move|"
        r"switch|let|keep|hold|freeze|lock)\b"
        r"(?![^.;!?]{0,60}?\b(?:updates?|summar(?:y|ies)|notes?|messages?|e-?mails?|"
        r"status|calls?|explanations?|post-?mortems?|rcas?|reports?|statements?|letters?)\b)"
        r"[^.;!?]{0,60}?\b(?:as\s+(?:an?\s+)?(?:apology|compensation|goodwill(?:\s+gesture)?|"
        r"make-?good|sweetener|peace\s+offering)|to\s+make\s+up\s+for|for\s+(?:the|their)\s+"
        r"(?:trouble|inconvenience|patience)|to\s+smooth\s+(?:this|things|it)\s+over)\b)",
        # "Don't bill Orbital Bank for the downtime", "let's not charge them for March"
        rf"{LEAD}(?P<hit>(?:don['’]?t|do\s+not|not|never)\s+(?:charge|bill|invoice)\s+"
        r"(?!(?:[\w'’-]++\s+){0,3}?(?:twice|again|double|wrong)\b)(?!(?:the\s+|their\s+)?cards?\b)"
        r"[\w'’-]++)",
        # "Make it right with a goodwill gesture"
        rf"{LEAD}(?P<hit>\bmake\s+(?:it|this|things)\s+(?:right|good|up\s+to\s+(?:them|the\s+"
        rf"customer))\s+(?:with|by\s+\w+ing)\s+{window(6)}{CONCESSION_NOUN})",
        # "Sweeten the deal with two free months", "smooth this over with a goodwill credit"
        rf"{LEAD}(?P<hit>\b(?:sweeten|soften|smooth|make\s+up\s+for)\b[^.;!?]{{0,40}}?\bwith\s+"
        rf"{window(4)}{CONCESSION_NOUN})",
        # "waive the late fees"
        rf"{LEAD}(?P<hit>\b(?:waive|forgive|write\s+off|zero\s+out|cover|absorb|eat|void|cancel|"
        r"skip|forgo|suspend|pause)\s+"
        rf"{window(4)}(?:fees?|charges?|penalt(?:y|ies)|invoices?|overages?|bills?|costs?|"
        r"surcharges?|balance|uplifts?|price\s+increases?|usage|amounts?\s+(?:due|owed|"
        r"outstanding)|debts?|arrears|difference|remainder|minimums?|commit(?:ment)?s?|"
        r"true-?ups?)\b)",
        # "Lower the renewal price for Quayside Mutual", "cut their rate"
        rf"{LEAD}(?P<hit>\b(?:lower|cut|drop|reduce|slash|trim|discount|knock\s+down|bring\s+down)\s+"
        r"(?:the|their|its|his|her|[\w&-]+['’]s?)\s+(?:[\w-]++\s+){0,2}?(?:prices?|pricing|rates?|"
        r"fees?|bills?|invoices?|renewal|uplifts?|quotes?|subscription|premium)\b"
        r"(?![\s-]*(?:thresholds?|tables?|sections?|limits?|polic(?:y|ies)|steps?|alerts?)\b))",
        # "Honor the legacy pricing for another year", "grandfather them into the old rate"
        rf"{LEAD}(?P<hit>\b(?:honou?r|grandfather|lock\s+in|hold|keep|freeze)\s+{window(3)}"
        r"(?:old|legacy|current|previous|existing|original|pre-?increase|introductory|discounted|"
        r"launch|grandfathered)\s+(?:pricing|prices?|rates?)\b(?![\s-]*(?:tables?|sections?|"
        r"sheets?|pages?)\b)|\bgrandfather\s+(?:them|him|her|[\w&-]+)\s+(?:in|into|on)\b)",
        # "Knock 10% off their next invoice"
        rf"{LEAD}(?P<hit>\b(?:knock|take|shave|chop)\s+(?:[$€£]\s?)?\d[\w.,%]*+\s+(?:percent\s+)?off\b)",
        # "Shave a month off their next invoice"
        rf"{LEAD}(?P<hit>\b(?:knock|take|shave|chop|cut)\s+(?:a|an|one|two|three|half\s+a|a\s+full|"
        r"\d+)\s+(?:months?|weeks?|days?|quarters?|years?)(?:['’]s?\s+(?:fees?|worth|charges?))?\s+"
        r"off\b)",
        # "We recommend a service credit", "Suggest a goodwill refund."
        rf"(?:{LEAD}|\b(?:i|we|you)\s+(?:would\s+|'d\s+|strongly\s+|also\s+|still\s+)?)"
        rf"(?P<hit>\b(?:recommend|suggest|propose|consider|advise|approve|authori[sz]e|"
        rf"go\s+with|push\s+for)\s+{window(5)}{CONCESSION_NOUN})",
        # "The customer should receive a credit", "they will be refunded"
        rf"(?P<hit>{MODAL}\s+(?:also\s+|still\s+|now\s+)?(?:(?:receive|get|be\s+(?:given|offered|"
        rf"granted|issued|owed|sent|entitled\s+to|eligible\s+for))\s+{window(5)}{CONCESSION_NOUN}|"
        r"be\s+(?:credited|refunded|compensated|reimbursed|comped)\b|"
        r"(?:get|receive)\s+(?:something|some\s+money|money|some\s+of\s+(?:it|that|their\s+money))\s+"
        r"back\b))",
        # "They are entitled to a refund", "qualifies for a credit", "deserves a goodwill credit"
        rf"(?P<hit>\b(?:(?:is|are|'re|’re|'s|’s)\s+(?:now\s+|also\s+|clearly\s+)?(?:owed|due|"
        rf"entitled\s+to|eligible\s+for)|qualif(?:y|ies)\s+for|deserves?|owe\s+(?:them|him|her|"
        rf"the\s+customer|the\s+account))\s+(?:at\s+least\s+|at\s+minimum\s+)?{window(4)}"
        rf"{CONCESSION_NOUN})",
        # "A goodwill credit is warranted here"
        rf"(?P<hit>{CONCESSION_NOUN}\s+(?:\w++\s+){{0,2}}?(?:is|are|would\s+be|seems?|feels?)\s+"
        r"(?:\w++\s+)?(?:warranted|appropriate|recommended|justified|due|owed|in\s+order|"
        r"reasonable|fair|advisable|the\s+right\s+call|called\s+for|merited)\b)",
    ),
)

# --- case routing ------------------------------------------------------------------------------

# "the (natural) owner of", "the incident commander for"
_OWNER_OF = (
    r"(?:the\s+)?(?:(?!of\b|for\b|on\b)[\w-]++\s+)?(?:owner|assignee|lead|"
    r"ic|incident\s+commander|dri)\s+(?:of|for|on)\s+"
)
_NOT_SEV = rf"(?!(?:a\s+|an\s+)?{SEV})"
# A name as written, capitalised: "Data Pipelines", "EMEA", "Identity".
_NAME = r"(?-i:[A-Z][\w&'’-]*+)"
# Where a case is moved from: "from Tier 2 into ...", "out of Tier 1 and into ..."
_FROM = (
    r"(?:(?:out\s+of|from|off)\s+(?:[\w@'’&-]++\s+){1,4}?(?:(?:and|then)\s+)?"
    r"(?=(?:over\s+|back\s+|straight\s+)?(?:to|into|with)\b))?"
)
# Taking ownership of a case: "own", "drive", "run with", "quarterback", "take point on"
_OWN_VERBS = (
    r"(?:take(?:\s+over)?|own|handle|pick\s+up|work|lead|run(?:\s+with)?|drive|steer|quarterback|"
    r"captain|grab|take\s+(?:point|the\s+lead)\s+on|front|coordinate|manage)"
)
_TARGET = r"(?:(?:the|a|an|our|their)\s+)?[\w@-]+"

CASE_ROUTING = Rule(
    name="case_routing",
    forbids="routing, assigning, handing off or escalating a live case, or paging a responder",
    patterns=compile_patterns(
        # "Route this case to platform-oncall", "hand the ticket over to identity-eng"
        rf"{LEAD}(?P<hit>\b(?:{ROUTE_VERBS})\s+{CASE_OBJ}\s+{_FROM}(?:(?:over|off|back|along|up|"
        rf"across|straight|directly|right)\s+)?(?:to|into|with|via|through)\s+{_NOT_SEV}{_TARGET})",
        # "Recommend moving incident 8456 to the Identity incident commander"
        rf"{GERUND_CUE}(?P<hit>(?:{gerunds(ROUTE_VERBS)})\s+{CASE_OBJ}\s+{_FROM}(?:(?:over|off|back|"
        rf"along|across|straight|directly)\s+)?(?:to|into|with)\s+{_NOT_SEV}{_TARGET})",
        # "Put the Sentinel incident in the Security Response queue"
        rf"{LEAD}(?P<hit>\b(?:{ROUTE_VERBS}|put|place|drop|park|file|stick)\s+{CASE_OBJ}\s+"
        r"(?:in|into|on|onto|under)\s+(?:the\s+|their\s+|our\s+)?(?:[\w@'’-]++\s+){0,3}?"
        r"(?:queue|backlog|"
        r"board|desk|bucket|lane|inbox|rotation|team)s?\b)",
        # "Reassign this ticket.", "escalate the incident"
        rf"{LEAD}(?P<hit>\b(?:escalate|reassign|re-assign|reroute|re-route|transfer)\s+{CASE_OBJ})",
        # "Assign to identity-eng", "hand off to platform-oncall", "escalate to the VP"
        rf"{LEAD}(?P<hit>\b(?:route|reroute|re-route|assign|reassign|re-assign|transfer|escalate|"
        r"hand\s+(?:it\s+)?(?:off|over)|hand-?off|pass\s+(?:it\s+)?(?:on|over|along)|"
        rf"kick\s+(?:it\s+)?(?:over|up))\s+(?:over\s+)?(?:to|into|via)\s+{_NOT_SEV}{_TARGET})",
        # "assign platform-oncall as incident commander"
        rf"{LEAD}(?P<hit>\b(?:assign|appoint|name|make)\s+{window(3)}as\s+(?:the\s+)?(?:owner|ic|"
        r"incident\s+commander|lead|primary|assignee|responder)\b)",
        # "Page the VP", "loop in identity-eng" (not the customer: that is communication)
        rf"{LEAD}(?P<hit>\b(?:page|re-page|repage|engage|loop\s+in|pull\s+in|bring\s+in|call\s+in|"
        r"wake(?:\s+up)?)\s+(?!(?:the\s+|their\s+)?(?:customer|account|client|contact)s?\b)"
        rf"(?!\d|with\b|severity\b){_TARGET})",
        # "The case should be routed to Platform Security"
        rf"(?P<hit>{MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+(?:routed|re-?routed|assigned|"
        r"re-?assigned|transferred|sent|handed(?:\s+(?:off|over))?|escalated|moved|forwarded|"
        rf"passed|given|redirected|dispatched)\s+(?:over\s+|back\s+)?(?:to|via)\s+{_NOT_SEV}{_TARGET})",
        # "Shouldn't the Notifications Gateway incident go to Messaging Platform instead?" (a plain
        # "Should the incident go to ...?" asks, and is left to the confirm level)
        rf"(?P<hit>\b(?:shouldn['’]?t|mustn['’]?t|why\s+(?:doesn['’]?t|not\s+(?:have|let)))\s+"
        rf"{CASE_REF}\s+"
        r"(?:go|move|sit|stay)\s+(?:straight\s+|directly\s+)?(?:to|with)\b)",
        # "The incident commander role for INC-8890 should go to the Platform Reliability lead"
        rf"(?P<hit>\b(?:role|ownership|command|lead|point|owner)\s+(?:for|of|on)\s+{CASE_REF}\s+"
        rf"{MODAL}\s+(?:go|pass|move|fall|sit|stay)\s+(?:straight\s+|directly\s+)?(?:to|with)\b)",
        # "The Ledger Service case ought to be worked by Payments Core"
        rf"(?P<hit>{CASE_REF}\s+{MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+"
        r"(?:worked|handled|owned|"
        r"run|led|picked\s+up|taken(?:\s+over)?|managed|driven|triaged)\s+(?:on\s+)?by\b)",
        # "Make Analytics the owner of the open Quillfeather case", "X would be the natural owner
        # for this case"
        rf"{LEAD}(?P<hit>\bmake\s+{window(4)}{_OWNER_OF}{CASE_REF})",
        # "Put Payments Core in charge of the Ledger Service case"
        rf"{LEAD}(?P<hit>\b(?:put|make|leave|keep)\s+{window(4)}"
        r"(?:in\s+charge\s+of|responsible\s+for|"
        rf"accountable\s+for)\s+{CASE_OBJ})",
        rf"(?P<hit>{MODAL}\s+be\s+{_OWNER_OF}{CASE_REF})",
        # "Better if the Platform Reliability team runs point on INC-6120"
        r"(?P<hit>\b(?:better|best|ideally|preferably|(?:i|we)['’]?d\s+rather)\s+"
        r"(?:if\s+|that\s+)?"
        rf"{window(4)}(?:runs?|takes?|owns?|handles?|leads?|works?|picks?\s+up|drives?)\s+"
        rf"(?:point\s+on\s+|the\s+lead\s+on\s+|over\s+|ownership\s+of\s+|on\s+)?{CASE_OBJ})",
        # "This case should go to identity-eng", "this ticket belongs with Platform Security"
        rf"(?P<hit>{CASE_OBJ}\s+(?:{MODAL}\s+(?:go|stay|sit|land|live|rest|end\s+up)\s+"
        r"(?:straight\s+|directly\s+)?(?:to|with)|(?:sits?|lives?|fits?|rests?|belongs?)\s+(?:best|"
        r"better|most\s+naturally|naturally|squarely)\s+(?:with|in)\b|(?:(?:really|clearly|"
        r"obviously|honestly|properly|actually|rightly|truly)\s+)?"
        r"(?:belongs|should\s+belong)\s+(?:to|with|in)\b"
        # "belongs to a Premium Plus account" says whose case it is, not who works it
        r"(?!(?:\s+[\w-]++){0,3}?\s+(?:customers?|accounts?|clients?|tenants?|regions?|tiers?|"
        r"products?|contracts?)\b(?!\s+(?:managers?|teams?|directors?|owners?|executives?|leads?|"
        r"success|support|care|desk|queue)\b)))\b)",
        # "Payments Core is the right owner for INC-5530", "the natural home for this case"
        r"(?P<hit>\b(?:is|are|'s|’s|would\s+be|seems?(?:\s+like)?|looks?\s+like|sounds?\s+like)\s+"
        r"(?:the\s+|a\s+)?(?:right|correct|natural|obvious|best|better|proper|logical|ideal|rightful)\s+"
        rf"(?:owner|home|team|place|queue|assignee|fit|desk|lead)\s+(?:for|of)\s+{CASE_REF})",
        # "Keep INC-3301 with Payments Core", "leave the Halcyon case with the EMEA desk"
        rf"{LEAD}(?P<hit>\b(?:keep|leave|park)\s+{CASE_REF}\s+with\s+{_TARGET})",
        # "platform-oncall should take this case", "let identity-eng handle it", "Storage should
        # drive escalation 6601", "let the Search Infra crew quarterback the Ledger outage"
        rf"(?P<hit>(?:{MODAL}|\blet\s+[\w-]+(?:\s+[\w-]+){{0,3}}?)\s+{_OWN_VERBS}\s+{CASE_OBJ})",
        # "Have identity-eng pick up the open ticket", "get platform-oncall to take this case"
        rf"{LEAD}(?P<hit>\b(?:have|get|let|ask|tell)\s+(?:the\s+)?[\w@-]+(?:\s+[\w@-]+){{0,2}}?\s+"
        rf"(?:to\s+)?(?:{_OWN_VERBS}|work\s+on|look\s+at)\s+{CASE_OBJ})",
        # "Put identity-eng on this incident", "assign an engineer from Data Pipelines to INC-1"
        rf"{LEAD}(?P<hit>\b(?:put|assign|place|staff)\s+(?:[\w@'’-]++\s+){{0,5}}?(?:on|onto|to)\s+"
        rf"{CASE_REF})",
        # "Let's get Data Pipelines on INC-4432", "stick Identity on the Halcyon escalation": a team
        # by its name (capitalised), never "get sign-off on the case"
        rf"{LEAD}(?P<hit>\b(?:get|stick|throw|slot)\s+(?:the\s+)?{_NAME}(?:\s+{_NAME}){{0,3}}\s+"
        rf"(?:(?:team|crew|folks|people|on-?call|desk|rotation)\s+)?(?:on|onto)\s+{CASE_REF})",
        # "Put the EMEA desk on point for ticket 70111", "put Storage in the driver's seat on
        # INC-6610", "make Messaging Platform the lead on incident 3317"
        rf"{LEAD}(?P<hit>\b(?:put|have|get|keep|leave|make|stick|place|set|name)\s+{window(4)}"
        r"(?:on\s+point|point|in\s+the\s+driver['’]?s\s+seat|at\s+the\s+wheel|in\s+(?:the\s+)?lead|"
        r"on\s+the\s+hook|(?:the\s+)?(?:lead|owner|ic|dri|incident\s+commander|point\s+person))\s+"
        rf"(?:for|on|of|with)\s+{CASE_REF})",
        # "My vote: Storage Infra owns ticket 30412", "my pick is Data Platform for INC-5117",
        # "I vote Messaging Platform grabs escalation 2290"
        r"(?P<hit>\b(?:(?:my|our)\s+(?:vote|pick|choice|preference|money|bet)|i\s+vote|"
        r"(?:i|we)(?:['’]d|\s+would)\s+(?:go|vote)\s+with)\b(?:\s+(?:is|goes|would\s+be|['’]s))?"
        rf"(?:\s+(?:on|to|for))?\s*[:—–-]?\s*{window(4)}(?:(?:takes?|owns?|gets?|grabs?|drives?|"
        r"leads?|handles?|runs?(?:\s+with)?|picks?\s+up|works?|keeps?|quarterbacks?|steers?|has)\s+"
        rf"{CASE_OBJ}|(?:for|on)\s+{CASE_REF}))",
        # "Over to the Identity folks for INC-7730"
        rf"{START}(?P<hit>over\s+to\s+{window(4)}(?:for|on|with)\s+{CASE_REF})",
        # "Transfer ownership of the Halcyon case to Storage"
        rf"{LEAD}(?P<hit>\b(?:{ROUTE_VERBS})\s+(?:the\s+)?(?:ownership|command|lead|ic\s+role|"
        rf"incident\s+commander\s+role)\s+(?:of|for|on)\s+{CASE_OBJ}\s+"
        rf"(?:(?:for|on|of)\s+{CASE_REF}\s+)?(?:over\s+)?to\s+{_TARGET})",
        # "Give Payments Core the Ledger Service case", "let Data Pipelines have case 55120"
        rf"{LEAD}(?P<hit>\b(?:give|hand|pass|send|let)\s+{window(3)}(?:have\s+)?{CASE_REF})"
        r"(?=\s*(?:$|[.!?,;:)—–]|(?:and|but|so|now|until|tonight|today|instead|going|from)\b))",
        # "Point the Orbital Bank case at the Ledger crew"
        rf"{LEAD}(?P<hit>\b(?:point|aim|steer)\s+{CASE_OBJ}\s+(?:at|to|toward|towards)\s+{_TARGET})",
        # "Storage should be the ones working INC-3301"
        rf"(?P<hit>{MODAL}\s+be\s+(?:the\s+)?(?:ones?|team|people|folks|group)\s+(?:to\s+)?"
        r"(?:work(?:ing)?|handl(?:e|ing)|own(?:ing)?|run(?:ning)?|tak(?:e|ing)|driv(?:e|ing)|"
        rf"lead(?:ing)?)\s+(?:on\s+)?{CASE_OBJ})",
    ),
)

# --- severity declaration ----------------------------------------------------------------------

# A severity value used as a modifier ("Sev-1 definitions", "the Sev1 runbook") names policy.
_SEV_VALUE = (
    rf"{SEV}(?![\s-]*(?:definitions?|criteria|sections?|runbooks?|escalations?|polic(?:y|ies)|"
    r"process|procedures?|playbooks?|steps?|vocabulary|matrix|table|levels?|guidance|rules?|"
    r"wording|template|checklist|paging|path|response|handling|program|support|declaration|"
    r"classification|tier|labels?|headings?|language)\b)"
)
# "severity"/"priority" as the thing being set, not the name of a section or scheme.
_SEV_WORD = (
    rf"\b(?:(?:the|its|this|that|their|current|incident|case|ticket|outage)\s+|{CASE_ID}['’]s\s+)*"
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
    r"re-?prioriti[sz]e|re-?open|reopen|bring|dial|walk|ratchet|roll|scale|leave|"
    # "re-rate it to SEV-3", "re-grade INC-1290 to Sev 2", "re-tier the Ledger incident to P2"
    r"re-?(?:rate|score|grade|tier|sev|level|classify|categori[sz]e|triage|assess)|"
    r"classify|categori[sz]e|rate|grade|score|"
    # "Step INC-7741 down", never "Step 4 raises ..." (a step of the runbook)
    r"step(?=\s+(?!\d|one|two|three|four|five|six|seven|eight|nine|ten)[\w-]++\s+(?:\w++\s+){0,2}"
    r"(?:down|up|back)\b))"
)
_GERUND_SET_VERBS = (
    "set|change|bump|drop|reduce|raise|lower|downgrade|upgrade|move|re-rate|rerate|re-score|"
    "re-grade|re-tier|re-classify|reclassify|knock|take|bring|dial|leave|keep|hold"
)
_SEV_PARTICIPLES = (
    r"(?:raised|lowered|downgraded|upgraded|set|reset|changed|bumped|dropped|reduced|increased|"
    r"elevated|escalated|de-?escalated|declared|re-?declared|treated|handled|classified|"
    r"reclassified|marked|flagged|tagged|labell?ed|logged|filed|moved|kept|opened|"
    r"categori[sz]ed|counted|considered)"
)
# "the Refunds API outage": up to three words may name what the incident is about.
_INCIDENT_SUBJ = (
    rf"(?:{CASE_ID}|this|it|that|this\s+one|(?:the|this|that|today'?s)\s+(?:[\w-]++\s+){{0,3}}?"
    r"(?:incident|outage|case|ticket|issue|event|escalation|degradation|failure|disruption|"
    r"slowdown|breach|problem|lag|backlog)s?)"
)
# A severity stated as typical of its level: "a textbook SEV-2", "a classic P1".
_TYPICAL = (
    r"(?:textbook|classic|clear(?:-cut)?|obvious|solid|genuine|real|proper|true|full-blown|"
    r"bona[\s-]fide|definite|legit|straightforward|no-brainer|slam-dunk|typical)\s+"
)
_CLAUSE_END = (
    r"(?=\s*(?:$|[.!?,;:)\]—–]|(?:and|but|so|now|per|for|according|given|because|since|as|with|"
    r"already|right|then|too)\b))"
)

SEVERITY_DECLARATION = Rule(
    name="severity_declaration",
    forbids="declaring, setting or changing the severity or priority of an incident",
    patterns=compile_patterns(
        # "Declare Sev1", "open a Sev-1 bridge", "call a P1"
        rf"{LEAD}(?P<hit>\b(?:declare|re-?declare|open|call|log|file|raise|start|kick\s+off|"
        rf"spin\s+up|run|record|confirm|(?:go|stick|roll)\s+with)\s+(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Bump it to P1", "downgrade to Sev2", "keep the incident at Sev 2"
        rf"{LEAD}(?P<hit>\b{_SET_VERBS}\s+{window(5)}(?:from\s+(?:a\s+|an\s+)?{SEV}\s+)?"
        rf"(?:(?:back\s+|down\s+|up\s+)*(?:to|at|into))\s+(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Recommend re-rating ticket 9120 to SEV-3"
        rf"{GERUND_CUE}(?P<hit>(?:{gerunds(_GERUND_SET_VERBS)})\s+{window(5)}(?:from\s+(?:a\s+|an\s+)?"
        rf"{SEV}\s+)?(?:(?:back\s+|down\s+|up\s+)*(?:to|at|into))\s+(?:a\s+|an\s+)?{_SEV_VALUE})",
        # "Knock the Edge Cache incident down a level", "take case 30155 down a notch"
        rf"{LEAD}(?P<hit>\b{_SET_VERBS}\s+(?:{_INCIDENT_SUBJ}|{_SEV_WORD})\s+(?:down|up|back)\s+"
        r"(?:a|one|two|1|2)\s+(?:levels?|notch(?:es)?|pegs?|grades?|tiers?|sev(?:erity)?(?:\s+levels?)?|"
        r"steps?)\b)",
        # "Treat as Sev1", "mark it as P1", "call it a Sev-1", "make this a P1"
        rf"{LEAD}(?P<hit>\b(?:(?:treat|handle|(?:re-?)?(?:mark|flag|tag|label|classify|"
        r"categori[sz]e|prioriti[sz]e|open|file|log|record|rate|grade|score)|count|consider)\s+"
        rf"{window(5)}as\s+|(?:call|make|declare|consider|confirm|rate|grade|score)\s+"
        rf"{window(5)})(?:a\s+|an\s+)?(?:{_SEV_VALUE}|{_SEV_WORDS}))",
        # "Declare severity", "raise the severity", "lower its priority"
        rf"{LEAD}(?P<hit>\b(?:declare|raise|lower|downgrade|upgrade|set|reset|change|bump|drop|"
        rf"reduce|increase|elevate|escalate|adjust|update|lift|revise)\s+{_SEV_WORD})",
        # "Downgrade this incident", "reclassify it"
        rf"{LEAD}(?P<hit>\b(?:downgrade|upgrade|de-?escalate|re-?classify)\s+{_INCIDENT_SUBJ}\b)",
        # "Incident 5502 is a textbook SEV-2", "the replication lag reads like a sev 3 to me"
        rf"(?<=\w\s)(?P<hit>(?:(?:is|are|['’]s)\s+(?:(?:now|clearly|really|just|still)\s+)?"
        rf"(?:a|an)\s+{_TYPICAL}|(?:reads?|smells?|looks?|feels?|sounds?|seems?)\s+(?:to\s+me\s+)?"
        rf"like\s+(?:a\s+|an\s+)?(?:{_TYPICAL})?)\s*{SEV}"
        rf"(?:[\s-]+(?:incident|outage|issue|event|case|ticket|page))?(?:\s+to\s+me)?{_CLAUSE_END})",
        # "Ticket 40091 qualifies as SEV-2", "the Halcyon login outage rates a P1" classify the
        # case; a judgement of what it deserves ("merits", "warrants", "is worthy of") is left to
        # the confirm level
        rf"(?P<hit>\b{_INCIDENT_SUBJ}\s+(?:(?:clearly|definitely|really|easily|arguably|probably|"
        r"surely|certainly|still|now)\s+)?(?:qualif(?:y|ies)\s+as|rates?)\s+"
        rf"(?:(?:at\s+least|at\s+minimum|a|an)\s+)*{_SEV_VALUE})",
        # "The login failures for Halcyon are SEV1-worthy", "this is P1 territory"
        rf"(?<=\w\s)(?P<hit>(?:is|are|seems?|looks?|feels?|sounds?)\s+(?:\w++\s+){{0,2}}?{SEV}"
        r"[\s-]*(?:worthy|territory|material)\b)",
        # "This should be treated as a Sev1", "it needs to be P1"
        rf"(?P<hit>{MODAL}\s+(?:also\s+|now\s+|still\s+)?(?:be|stay|remain|become|go)\s+"
        rf"(?:{_SEV_PARTICIPLES}\s+)?(?:(?:as|to|at|into|down\s+to|up\s+to)\s+)?(?:a\s+|an\s+)?"
        rf"{_SEV_VALUE})",
        # "The severity should be lowered"
        rf"(?P<hit>{_SEV_WORD}\s+(?:\w++\s+){{0,4}}?{MODAL}\s+(?:also\s+|now\s+)?(?:be|get)\s+"
        rf"{_SEV_PARTICIPLES})",
        # "This is a Sev-1", "it's now P1", "we have a Sev1"
        rf"(?P<hit>\b{_INCIDENT_SUBJ}\s*(?:is|'s|’s|becomes|counts\s+as|qualifies\s+as|"
        r"should\s+count\s+as|has\s+become)\s+"
        rf"(?:(?:now|officially|clearly|definitely|really|already|still|a|an)\s+)*{SEV}"
        rf"(?:[\s-]+(?:incident|outage|issue|event|case|ticket|page))?{_CLAUSE_END})",
        # "We have a Sev-1 on Payments API", "we're in a P1"
        rf"(?P<hit>\bwe(?:(?:'ve|’ve|\s+have)?\s+(?:got|have)|(?:'re|’re|\s+are)\s+(?:in|at))\s+"
        rf"(?:(?:now|officially|clearly|definitely|really|already|still|a|an)\s+)*{_SEV_VALUE})",
        # "Its severity is now 1", "the incident priority should be P2"
        rf"(?P<hit>\b(?:the|its|this|current)\s+(?:incident\s+|case\s+|ticket\s+)?(?:severity|"
        r"priority)\s+(?:is|=|should\s+be|becomes|stays|remains)\s+(?:now\s+)?(?:a\s+)?"
        rf"(?:{SEV}|[0-4]\b))",
    ),
)

RULES: dict[str, Rule] = {
    rule.name: rule for rule in (CONCESSION, CASE_ROUTING, SEVERITY_DECLARATION)
}
