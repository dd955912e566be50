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
import sys
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

# Starts only where a run of address characters starts, and never gives a character back: one
# pass over the text, however long a run without "@" is (issue 12).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+")
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
_MAX_GIVEN_WORDS = 3  # "Mary Ann Jo Smith" at most
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


# Kept per account and contact, so small: words as interned strings, shared between records.
_Account = tuple[NameKey, NameKey, str]  # (stem words, all words, account id)
_Contact = tuple[NameKey, str]  # (given-name words, contact id)


@dataclass(frozen=True)
class _Index:
    """The sources' sensitive values, bucketed so a text is matched by looking up its own words.

    A million accounts cost one pass to build it; matching a text costs lookups per word.
    """

    accounts: dict[tuple[str, str], list[_Account]]  # first two words of the stem -> accounts
    contacts: dict[str, list[_Contact]]  # surname -> contacts
    given: frozenset[str]  # every contact's first given name
    by_initial: dict[str, list[str]]  # letter -> surnames starting with it
    singles: dict[str, _Entry]  # one word refused alone: a rare surname, a one-word account
    phrases: dict[str, dict[int, dict[str, _Entry]]]  # first word -> length -> words -> entry
    phones: dict[str, list[tuple[str, str]]]  # last 7 digits -> (all digits, contact id)


def _key(text: str) -> NameKey:
    folded = text.lower() if text.isascii() else fold(text).text
    return tuple(map(sys.intern, _TOKEN.findall(folded)))


def _stem(key: NameKey) -> NameKey:
    """The name without a trailing legal form ("Pte. Ltd.", "B.V.", "GmbH")."""
    stem = key
    while len(stem) > 1 and stem[-1] in _LEGAL_FORMS:
        stem = stem[:-1]
    return stem


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


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@lru_cache(maxsize=4)
def _sensitive_index(src: sources.DataSources, stamp: Stamp) -> _Index:
    """Every sensitive name, clause, summary and phone of the sources (see :class:`_Index`).

    ``stamp`` is only part of the cache key: changed files get a new index.
    """
    common = _registry_words(src)

    def refusable_alone(word: str) -> bool:
        return len(word) >= MIN_SINGLE_WORD and word not in common and not _ordinary(word)

    accounts: dict[tuple[str, str], list[_Account]] = {}
    singles: dict[str, _Entry] = {}
    frame = sources.load_accounts(
        src, columns=["account_id", "account_name"], include_sensitive=True
    )
    for account_id, name in zip(
        frame["account_id"].tolist(), frame["account_name"].tolist(), strict=True
    ):
        words = _key(str(name))
        stem = _stem(words)
        if len(words) >= 2:
            accounts.setdefault((words[0], words[1]), []).append((stem, words, str(account_id)))
        if len(stem) == 1 and refusable_alone(stem[0]):
            singles.setdefault(
                stem[0], _Entry("account", f"the name of CRM account {account_id}", str(account_id))
            )
    contacts: dict[str, list[_Contact]] = {}
    phones: dict[str, list[tuple[str, str]]] = {}
    frame = sources.load_contacts(
        src, columns=["contact_id", "contact_name", "phone"], include_sensitive=True
    )
    for contact_id, name, phone in zip(
        frame["contact_id"].tolist(),
        frame["contact_name"].tolist(),
        frame["phone"].tolist(),
        strict=True,
    ):
        words = _key(str(name))
        if len(words) >= 2:
            contacts.setdefault(words[-1], []).append((words[:-1], str(contact_id)))
        digits = _digits(str(phone or ""))
        if len(digits) >= _MIN_PHONE_DIGITS:
            phones.setdefault(digits[-_MIN_PHONE_DIGITS:], []).append((digits, str(contact_id)))
    by_initial: dict[str, list[str]] = {}
    for surname, people in contacts.items():
        by_initial.setdefault(surname[0], []).append(surname)
        if refusable_alone(surname):
            # A surname shared by several contacts names none of them: a placeholder, no id.
            ids = {contact_id for _, contact_id in people}
            only = next(iter(ids)) if len(ids) == 1 else None
            singles.setdefault(
                surname,
                _Entry("contact", f"the surname of CRM contact {only}", only)
                if only
                else _Entry("contact", "the surname of a CRM contact", "[contact]"),
            )
    given = frozenset(g[0] for people in contacts.values() for g, _ in people if g)
    phrases: dict[str, dict[int, dict[str, _Entry]]] = {}

    def add_phrase(text: object, entry: _Entry) -> None:
        words = _key(str(text))
        if len(words) >= _MIN_PHRASE_WORDS:
            by_length = phrases.setdefault(words[0], {}).setdefault(len(words), {})
            by_length.setdefault(" ".join(words), entry)

    frame = sources.load_entitlements(
        src, columns=["entitlement_id", "contract_clause"], include_sensitive=True
    ).dropna(subset=["contract_clause"])
    for entitlement_id, clause in zip(
        frame["entitlement_id"].tolist(), frame["contract_clause"].tolist(), strict=True
    ):
        what = f"a contract clause of CRM entitlement {entitlement_id}"
        add_phrase(clause, _Entry("clause", what, "[contract clause]"))
    register = sources.load_exceptions(src, history=True, include_sensitive=True)
    for exception_id, summary in zip(register["exception_id"], register["summary"], strict=True):
        what = f"the summary of exception {exception_id}"
        add_phrase(summary, _Entry("summary", what, "[exception summary]"))
    return _Index(accounts, contacts, given, by_initial, singles, phrases, phones)


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


def _account_at(words: list[str], i: int, index: _Index) -> tuple[int, _Entry] | None:
    """The longest account name starting at word ``i``: all its words, its stem, or the first
    two words of a longer stem."""
    best: tuple[int, _Entry] | None = None
    for stem, full, account_id in index.accounts.get((words[i], words[i + 1]), []):
        for n, needs in (
            (len(full), full),
            (len(stem), stem),
            (2, stem[:2] if len(stem) >= 3 else ()),
        ):
            # One word alone counts only under the rule for single words (``singles``).
            if n >= 2 and tuple(words[i : i + n]) == needs and (best is None or n > best[0]):
                entry = _Entry("account", f"the name of CRM account {account_id}", account_id)
                best = (n, entry)
    return best


def _contact(contact_id: str) -> _Entry:
    return _Entry("contact", f"the name of CRM contact {contact_id}", contact_id)


def _contact_at(words: list[str], i: int, index: _Index) -> tuple[int, _Entry] | None:
    """The longest contact name starting at word ``i``: "Given Last", "Last Given" (as in
    "Last, Given"), "G. Last" or "Given L."."""
    best: tuple[int, _Entry] | None = None

    def keep(n: int, contact_id: str) -> None:
        nonlocal best
        if best is None or n > best[0]:
            best = (n, _contact(contact_id))

    word, after = words[i], words[i + 1]
    if word in index.given:
        for j in range(i + 1, min(i + _MAX_GIVEN_WORDS + 1, len(words))):
            for names, contact_id in index.contacts.get(words[j], []):
                if names == tuple(words[i:j]):
                    keep(j - i + 1, contact_id)
        if len(after) == 1:  # "Given L."
            for surname in index.by_initial.get(after, []):
                for names, contact_id in index.contacts[surname]:
                    if names and names[0] == word:
                        keep(2, contact_id)
    people = index.contacts.get(word, [])
    for names, contact_id in people:  # "Last Given", "Last, Given"
        if names and tuple(words[i + 1 : i + 1 + len(names)]) == names:
            keep(1 + len(names), contact_id)
    if len(word) == 1:  # "G. Last"
        for names, contact_id in index.contacts.get(after, []):
            if names and names[0][0] == word:
                keep(2, contact_id)
    return best


def _phrase_at(words: list[str], i: int, index: _Index) -> tuple[int, _Entry] | None:
    for n, entries in sorted(index.phrases.get(words[i], {}).items(), reverse=True):
        entry = entries.get(" ".join(words[i : i + n])) if i + n <= len(words) else None
        if entry is not None:
            return n, entry
    return None


def _phrase_hits(folded: Folded, index: _Index) -> list[Hit]:
    tokens = list(_TOKEN.finditer(folded.text))
    words = [t.group(0) for t in tokens] + [""]  # a sentinel: every match may look one ahead
    hits = []
    i = 0
    while i < len(tokens):
        found = [
            m
            for m in (
                _phrase_at(words, i, index),
                _account_at(words, i, index),
                _contact_at(words, i, index),
            )
            if m is not None
        ]
        single = index.singles.get(words[i])
        if single is not None:
            found.append((1, single))
        if not found:
            i += 1
            continue
        n, entry = max(found, key=lambda m: m[0])
        span = folded.span(tokens[i].start(), tokens[i + n - 1].end())
        hits.append(Hit(*span, entry.kind, entry.what, entry.replacement))
        i += n
    return hits


def _phone_hits(folded: Folded, index: _Index) -> list[Hit]:
    hits = []
    for m in _DIGIT_RUN.finditer(folded.text):
        typed = _digits(m.group(0))
        # As dialled inside the country too (without the 1-3 digit country code, with a trunk
        # "0"), or from abroad with "00" for "+".
        local = typed.lstrip("0")
        if len(local) < _MIN_PHONE_DIGITS:
            continue
        for digits, contact_id in index.phones.get(local[-_MIN_PHONE_DIGITS:], []):
            if digits == typed or (digits.endswith(local) and len(digits) - len(local) <= 3):
                what = f"the phone number of CRM contact {contact_id}"
                hits.append(Hit(*folded.span(*m.span()), "phone", what, "[phone]"))
                break
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
