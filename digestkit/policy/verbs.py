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
    absorb accept accommodate add adjust allocate allow apply approve arrange assign authorise
    authorize babysit backdate become begin bounce bring bump calculate cancel carry chase
    choose comp compensate de-escalate decide declare deescalate delegate demote deprioritise
    deprioritize dial dispatch down-tier downrank downtier eat elevate eliminate erase escalate
    excuse extend forgive forward funnel get give go grab grant halve have hike hoist honor
    honour hurry keep knock lean leave let lift lob lower make move nudge offer offload own pass
    pay phase pick promise prorate provide pull punt push put quarterback raise re-rate re-tier
    reallocate reassign reclassify redirect reduce rehome reimburse relay relieve remove reopen
    reprioritise reprioritize rerate reroute resend retier retire revoke rope scrap send settle
    shave shepherd shift shrink shunt skip slash slide spare steer stick stretch strike swallow
    sweeten tack take tell throw toss treat trim undo unlock void waive wipe
    """
)
NOUN_VERBS = _words(
    """
    bill call cap change charge clear close count cover credit cut discount downgrade drive drop
    dump file freeze gift handle help hold invoice kill label lead loop man mark match net open
    page park pause pin ping place post rank rate rebate refund restore return route run set
    ship slip slot staff stop swap switch tag tier transfer upgrade work write zero
    """
)
INFO_VERBS = _words(
    """
    ask audit check cite clarify compare confirm consult describe document double-check explain
    find follow identify inspect investigate list look monitor note quote read reconcile record
    refer remember report review search see summarise summarize track validate verify watch
    """
)
