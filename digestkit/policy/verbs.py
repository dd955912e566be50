"""Base-form English verbs that open an imperative, for the confirm-level safety net.

No well-kept part-of-speech library installs from PyPI without model data, so the lexicon is a
compact list compiled once by hand from common English verbs. ``VERBS`` are words that are rarely
a noun at the start of a sentence, so a sentence opening with one is an imperative. ``NOUN_VERBS``
are also common nouns ("Refund requests go ...", "Page 3 lists ..."), an imperative only before
an object (a determiner, a pronoun, a number, a case). ``INFO_VERBS`` gather or report information:
an imperative with one of them asks for facts and proposes nothing.
"""

from __future__ import annotations

__all__ = ["INFO_VERBS", "NOUN_VERBS", "VERBS"]


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (the lists read as prose, one a word)."""
    return frozenset(text.split())


VERBS = _words(
    """
    absorb accept add adjust allow allocate apply approve arrange assign authorise authorize
    backdate babysit become begin bounce bring bump calculate cancel carry chase choose comp
    compensate decide declare delegate demote deprioritise deprioritize discount dispatch
    downgrade downrank down-tier downtier drive eat elevate eliminate erase escalate excuse extend
    forgive forward get give go grab grant halve handle have help hold honor honour hurry keep
    kill knock lean leave let lift lower make move nudge offer own pass pay phase pick promise
    prorate provide pull push put raise reassign rebate reclassify reduce refund reimburse relieve
    remove reopen reprioritise reprioritize reroute rerate re-rate retier re-tier return revoke
    run scrap send shepherd shave shift shrink skip slash slide slip spare steer stick stretch
    swallow swap switch take tell throw toss treat trim undo unlock upgrade void waive
    wipe de-escalate deescalate accommodate cut dial dump gift hike loop ping rope strike
    settle sweeten tack quarterback staff shunt punt offload funnel ship lob relay
    redirect reallocate rehome resend retire hoist pin
    """
)
NOUN_VERBS = _words(
    """
    bill call cap change charge clear close count cover credit drop file freeze invoice
    label lead man mark match net open page park place post rank rate restore route set slot
    stop pause tag tier transfer work write zero
    """
)
INFO_VERBS = _words(
    """
    ask audit check cite clarify compare confirm consult describe document double-check explain
    find follow identify inspect investigate list look monitor note quote read reconcile record
    refer remember report review search see summarise summarize track validate verify watch
    """
)
