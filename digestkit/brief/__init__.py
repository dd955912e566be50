"""The brief a duty manager reads first: a digest ordered by what needs attention, in plain words.

:func:`build_brief` turns a digest (the JSON of ``docs/digest-json.md``) into a :class:`Brief`:

- **attention** — flags and open questions, each one line saying what to confirm and with which
  team, marked *new in rX* / *open since rX* by comparing with the digests of the earlier
  published revisions (the baseline's first), new ones first, then in :data:`URGENCY` order;
- **resolved** — what the baseline's digest flagged and this one no longer does;
- **changes** — the changed steps one line each, linked both ways with the flags they cause;
  removing a placeholder ("None at publication.") is not a change, and a change that adds an open
  question is shown as that question;
- **holds** — what still holds, folded into one line and grouped (ownership, exceptions,
  entitlements);
- **sources** — each ``[S#]`` with the text a reader can check: runbook lines, the registry row's
  fields, the exception's id, status and dates, or a plain description of the CRM count.

:func:`load_brief` gathers the inputs (earlier digests, registry, register, runbook texts,
clarifications) from the sources and the workspace; :func:`build_brief` itself reads nothing.

One concern per module: :mod:`~digestkit.brief.model` (what a brief is made of),
:mod:`~digestkit.brief.wording` (plain sentences, human dates, counted nouns),
:mod:`~digestkit.brief.history` (flags against the digests of earlier revisions),
:mod:`~digestkit.brief.statements` (what each flag, question and change says, and with whom to
confirm it), :mod:`~digestkit.brief.quotes` (quoted sources and revision pages),
:mod:`~digestkit.brief.build` (:func:`build_brief`) and :mod:`~digestkit.brief.load`
(:func:`load_brief`).
"""

from digestkit.brief.build import build_brief, shown_changes
from digestkit.brief.history import earlier_digests, flag_key
from digestkit.brief.load import load_brief, load_context
from digestkit.brief.model import URGENCY, Brief, Cite, Context, Item, QuotedSource, Status
from digestkit.brief.quotes import revision_page
from digestkit.brief.wording import count, human_date, plain

__all__ = [
    "URGENCY",
    "Brief",
    "Cite",
    "Context",
    "Item",
    "QuotedSource",
    "Status",
    "build_brief",
    "count",
    "earlier_digests",
    "flag_key",
    "human_date",
    "load_brief",
    "load_context",
    "plain",
    "revision_page",
    "shown_changes",
]
