"""The sensitive-data screen: find customer-sensitive data in text, typed or copied from a runbook.

Clarifications, review notes, a runbook's own text and everything else that goes into the
workspace, its HTML and the audit record may carry no customer-sensitive field.
:func:`find_sensitive` reports what a text contains by kind and record id only (never the value),
so the finding itself can go into an error message or a log; :func:`find_hits` also says where,
so :mod:`digestkit.minimize` can replace each value by a pseudonymous id or a placeholder.

Text is folded first (:mod:`digestkit.normalize`: NFKC, format characters dropped, look-alike
letters of other scripts and accents folded, any case), so spelling does not sidestep the screen.
What counts, with the CRM and register of ``src``:

- any e-mail address and any phone number (a leading ``+`` or the 3-3-4 pattern), and a CRM
  contact's phone number however it is spaced, with or without its country code;
- a CRM account name with or without its legal form, or the first two words of a longer one
  ("Montague Bicycle" of "Montague Bicycle Works Pte. Ltd.", as in an e-mail domain);
- a CRM contact's name "First Last" or "Last, First", and the partial forms "F. Last" and
  "First L." (an initial and the other name);
- one word alone — a surname, or a one-word account name — when it is at least
  :data:`MIN_SINGLE_WORD` letters long, is not an ordinary English word (Zipf frequency below
  :data:`ORDINARY_WORD_ZIPF` per ``wordfreq``: "Gallagher" counts, "Page" or "Smith" alone does
  not) and is no word of a registry product or team name;
- a contract clause of the CRM's entitlements or a summary of the exception register, in full.

Not refused: a first name alone and bare initials ("FG"): both match far too much ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from wordfreq import zipf_frequency

from digestkit import sources
from digestkit.normalize import Folded, fold

__all__ = [
    "MIN_SINGLE_WORD",
    "ORDINARY_WORD_ZIPF",
    "Hit",
    "HitKind",
    "find_hits",
    "find_sensitive",
    "find_sensitive_in_digest",
]

MIN_SINGLE_WORD = 4
ORDINARY_WORD_ZIPF = 4.0

HitKind = Literal["e-mail", "phone", "account", "contact", "clause", "summary"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "+61 434 74397", "(415) 555-0199", "415.555.0199": a leading "+" or the 3-3-4 pattern, so ISO
# dates, line ranges and ids are not phone numbers.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{6,}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\w)")
_TOKEN = re.compile(r"[a-z0-9]+")
# Legal forms dropped from account names, so "Montague Bicycle Works" matches
# "Montague Bicycle Works Pte. Ltd.".
_LEGAL_FORMS = frozenset(("pte", "ltd", "limited", "inc", "incorporated", "llc", "llp", "gmbh",
    "bv", "b", "v", "nv", "sa", "s", "a", "ag", "plc", "co", "corp", "corporation", "company",
    "kk", "k", "oy", "ab", "as", "srl", "spa", "pty", "sarl", "kg", "ug", "se"))  # fmt: skip
_MIN_PHONE_DIGITS = 7
_MIN_PHRASE_WORDS = 5  # a clause or summary shorter than this is not matched as a whole
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")

NameKey = tuple[str, ...]
# What identifies the content screened against: the files' stat, else the CRM's URL.
Stamp = tuple[object, ...]


@dataclass(frozen=True)
class Hit:
    """One sensitive value in a text: its span in the original text, what it is, and what a
    digest shows instead (a pseudonymous id or a neutral placeholder)."""

    start: int
    end: int
    kind: HitKind
    what: str  # by kind and id, never the value: "the name of CRM account ACC-0000120"
    replacement: str


@dataclass(frozen=True)
class _Entry:
    kind: HitKind
    what: str
    replacement: str


@dataclass(frozen=True)
class _Index:
    phrases: dict[NameKey, _Entry]
    lengths: dict[str, tuple[int, ...]]  # first word -> key lengths starting with it, longest first
    phones: dict[str, _Entry]


def _key(text: str) -> NameKey:
    return tuple(_TOKEN.findall(fold(text).text))


def _account_keys(name: str) -> set[NameKey]:
    """The name's words, the same without a trailing legal form, and the first two words of a
    longer name (as in an e-mail domain)."""
    key = _key(name)
    stem = key
    while len(stem) > 1 and stem[-1] in _LEGAL_FORMS:
        stem = stem[:-1]
    return {k for k in (key, stem, stem[:2] if len(stem) >= 3 else ()) if k}


def _contact_keys(name: str) -> set[NameKey]:
    """The name as written, "Last First" ("Last, First"), "F Last", "First L", the surname."""
    key = _key(name)
    if len(key) < 2:
        return {key} if key else set()
    first, last = key[0], key[-1]
    return {key, (last, *key[:-1]), (first, last), (first[0], last), (first, last[0]), (last,)}


@lru_cache(maxsize=4096)
def _ordinary(word: str) -> bool:
    return zipf_frequency(word, "en") >= ORDINARY_WORD_ZIPF


def content_stamp(src: sources.DataSources) -> Stamp:
    """What identifies the screened sources' content cheaply: their files' stat, else the URL."""
    files = [src.exceptions, *sorted(src.registry.glob("*.csv"))]
    crm = sources.crm_file(src)
    if crm is not None and crm.is_file():
        return sources.file_key([crm, *files])
    return (src.crm_url, *sources.file_key(files))


def _registry_words(src: sources.DataSources) -> set[str]:
    products = sources.load_products(src, history=True)
    teams = sources.load_teams(src, history=True)
    names = [*products["product_name"], *teams["display_name"], *teams["team"]]
    return {w for name in set(names) for w in _key(str(name))}


@lru_cache(maxsize=4)
def _sensitive_index(src: sources.DataSources, stamp: Stamp) -> _Index:
    """Every sensitive name, clause, summary and phone of the sources, keyed by folded words.

    ``stamp`` is only part of the cache key: changed files get a new index.
    """
    phrases: dict[NameKey, _Entry] = {}
    phones: dict[str, _Entry] = {}
    common = _registry_words(src)

    def add(key: NameKey, entry: _Entry) -> None:
        if len(key) == 1:
            word = key[0]
            if len(word) < MIN_SINGLE_WORD or word in common or _ordinary(word):
                return
        phrases.setdefault(key, entry)

    accounts = sources.load_accounts(
        src, columns=["account_id", "account_name"], include_sensitive=True
    )
    for account_id, name in zip(accounts["account_id"], accounts["account_name"], strict=True):
        what = f"the name of CRM account {account_id}"
        for key in _account_keys(str(name)):
            add(key, _Entry("account", what, str(account_id)))
    contacts = sources.load_contacts(
        src, columns=["contact_id", "contact_name", "phone"], include_sensitive=True
    )
    surnames: dict[str, set[str]] = {}
    for contact_id, name, phone in zip(
        contacts["contact_id"], contacts["contact_name"], contacts["phone"], strict=True
    ):
        what = f"the name of CRM contact {contact_id}"
        for key in _contact_keys(str(name)):
            if len(key) == 1:
                surnames.setdefault(key[0], set()).add(str(contact_id))
            else:
                add(key, _Entry("contact", what, str(contact_id)))
        digits = re.sub(r"\D", "", str(phone or ""))
        # The number as dialled inside its country too: without the 1-3 digit country code.
        for cut in range(4):
            if len(digits) - cut >= _MIN_PHONE_DIGITS:
                for local in (digits[cut:], "0" + digits[cut:]):  # with a trunk prefix too
                    phones.setdefault(
                        local,
                        _Entry("phone", f"the phone number of CRM contact {contact_id}", "[phone]"),
                    )
    for surname, ids in sorted(surnames.items()):
        # A surname shared by several contacts names none of them: a placeholder, no id.
        only = next(iter(ids)) if len(ids) == 1 else None
        entry = (
            _Entry("contact", f"the surname of CRM contact {only}", only)
            if only
            else _Entry("contact", "the surname of a CRM contact", "[contact]")
        )
        add((surname,), entry)
    clauses = sources.load_entitlements(
        src, columns=["entitlement_id", "contract_clause"], include_sensitive=True
    ).dropna(subset=["contract_clause"])
    for entitlement_id, clause in zip(
        clauses["entitlement_id"], clauses["contract_clause"], strict=True
    ):
        key = _key(str(clause))
        if len(key) >= _MIN_PHRASE_WORDS:
            what = f"a contract clause of CRM entitlement {entitlement_id}"
            phrases.setdefault(key, _Entry("clause", what, "[contract clause]"))
    register = sources.load_exceptions(src, history=True, include_sensitive=True)
    for exception_id, summary in zip(register["exception_id"], register["summary"], strict=True):
        key = _key(str(summary))
        if len(key) >= _MIN_PHRASE_WORDS:
            what = f"the summary of exception {exception_id}"
            phrases.setdefault(key, _Entry("summary", what, "[exception summary]"))
    by_first: dict[str, set[int]] = {}
    for key in phrases:
        by_first.setdefault(key[0], set()).add(len(key))
    lengths = {w: tuple(sorted(n, reverse=True)) for w, n in by_first.items()}
    return _Index(phrases, lengths, phones)


def _index(src: str | Path | sources.DataSources) -> _Index:
    data = sources.open_sources(src)
    return _sensitive_index(data, content_stamp(data))


def _pattern_hits(folded: Folded) -> list[Hit]:
    hits = []
    for m in _EMAIL.finditer(folded.text):
        hits.append(Hit(*folded.span(*m.span()), "e-mail", "an e-mail address", "[e-mail]"))
    for m in _PHONE.finditer(folded.text):
        hits.append(Hit(*folded.span(*m.span()), "phone", "a phone number", "[phone]"))
    return hits


def _phrase_hits(folded: Folded, index: _Index) -> list[Hit]:
    tokens = list(_TOKEN.finditer(folded.text))
    words = [t.group(0) for t in tokens]
    hits = []
    i = 0
    while i < len(words):
        for n in index.lengths.get(words[i], ()):
            entry = index.phrases.get(tuple(words[i : i + n])) if i + n <= len(words) else None
            if entry is not None:
                start, end = tokens[i].start(), tokens[i + n - 1].end()
                hits.append(
                    Hit(*folded.span(start, end), entry.kind, entry.what, entry.replacement)
                )
                i += n
                break
        else:
            i += 1
    return hits


def _phone_hits(folded: Folded, index: _Index) -> list[Hit]:
    hits = []
    for m in _DIGIT_RUN.finditer(folded.text):
        digits = re.sub(r"\D", "", m.group(0))
        entry = index.phones.get(digits) if len(digits) >= _MIN_PHONE_DIGITS else None
        if entry is not None:
            hits.append(Hit(*folded.span(*m.span()), entry.kind, entry.what, entry.replacement))
    return hits


def find_hits(text: str, src: str | Path | sources.DataSources | None = None) -> list[Hit]:
    """Every sensitive value in ``text`` with its span, in the order the screen looks for them:
    e-mail addresses, phone-number patterns, then (with ``src``) CRM and register names, clauses
    and summaries in text order, then CRM phone numbers. Spans may overlap."""
    folded = fold(text)
    hits = _pattern_hits(folded)
    if src is not None:
        index = _index(src)
        hits += _phrase_hits(folded, index)
        hits += _phone_hits(folded, index)
    return hits


def find_sensitive(text: str, src: str | Path | sources.DataSources | None = None) -> list[str]:
    """What customer-sensitive data ``text`` contains, described by kind and id only.

    Any e-mail address or phone number counts; with ``src`` (a data location or
    :class:`~digestkit.sources.DataSources`) so do the CRM's names, clauses and phone numbers and
    the register's summaries, as the module docstring lists. The result never repeats the value,
    so it can go into an error message or a log.
    """
    return _unique(h.what for h in find_hits(text, src))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def find_sensitive_in_digest(
    digest: Mapping[str, Any], src: str | Path | sources.DataSources | None = None
) -> list[str]:
    """What customer-sensitive data a digest (the dict of ``docs/digest-json.md``) still carries,
    as "<where>: <what>" by claim id or header field, never the value. Its audit block (hashes,
    parameters) is not text a person reads and is left out."""
    found = []
    for where, text in _digest_texts(digest):
        found += [f"{where}: {what}" for what in find_sensitive(text, src)]
    return _unique(found)


def _digest_texts(digest: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in (digest.get("header") or {}).items():
        yield from _strings(f"header.{key}", value)
    for part in ("changed_steps", "carried_forward", "open_questions", "flags"):
        for claim in digest.get(part) or []:
            where = f"claim {claim.get('id')}"
            yield from _strings(where, {k: v for k, v in claim.items() if k != "id"})
    yield from _strings("sources", digest.get("sources") or [])


def _strings(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(where, item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(where, item)
