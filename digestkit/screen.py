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
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

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
    "prefetch",
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
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
# Legal forms dropped from account names, so "Montague Bicycle Works" matches
# "Montague Bicycle Works Pte. Ltd.".
_LEGAL_FORMS = frozenset(("pte", "ltd", "limited", "inc", "incorporated", "llc", "llp", "gmbh",
    "bv", "b", "v", "nv", "sa", "s", "a", "ag", "plc", "co", "corp", "corporation", "company",
    "kk", "k", "oy", "ab", "as", "srl", "spa", "pty", "sarl", "kg", "ug", "se"))  # fmt: skip
_MIN_PHONE_DIGITS = 7
_MIN_PHRASE_WORDS = 5  # a clause or summary shorter than this is not matched as a whole
_MAX_GIVEN_WORDS = 3  # "Mary Ann Jo Smith" at most
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")
_NON_DIGIT = re.compile(r"\D")

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


def _key(text: str) -> NameKey:
    folded = text.lower() if text.isascii() else fold(text).text
    return tuple(map(sys.intern, _TOKEN.findall(folded)))


def _first_word(text: str) -> str:
    """The first word of ``_key(text)``, without folding or splitting all of an ASCII text."""
    if not text.isascii():
        key = _key(text)
        return key[0] if key else ""
    found = _ASCII_WORD.search(text)
    return found.group(0).lower() if found else ""


def _stem(key: NameKey) -> NameKey:
    """The name without a trailing legal form ("Pte. Ltd.", "B.V.", "GmbH")."""
    stem = key
    while len(stem) > 1 and stem[-1] in _LEGAL_FORMS:
        stem = stem[:-1]
    return stem


@lru_cache(maxsize=4096)
def _ordinary(word: str) -> bool:
    # Imported here: wordfreq loads its language tables at import (~0.1-0.2 s), and most digests
    # never ask, since only a word that alone names a CRM record is judged.
    from wordfreq import zipf_frequency

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
    return _NON_DIGIT.sub("", text)


@dataclass(frozen=True)
class _Text:
    """A text folded and split into words, with the keys the sources are asked about."""

    folded: Folded
    words: list[str]  # the tokens' words and a sentinel "": every match may look one ahead
    givens: frozenset[str]  # words before an initial ("Given L.")
    tails: frozenset[str]  # the last seven digits of every digit run long enough for a phone

    @cached_property
    def tokens(self) -> list[re.Match[str]]:
        """The words' positions; only a text that may hold a name needs them (most do not)."""
        return list(_TOKEN.finditer(self.folded.text))


@lru_cache(maxsize=16)
def _read(text: str) -> _Text:
    # Cached: a text is read once to ask the sources (prefetch) and once to match.
    folded = fold(text)
    words = [*_TOKEN.findall(folded.text), ""]
    givens = frozenset(words[i] for i in range(len(words) - 1) if len(words[i + 1]) == 1)
    tails = set()
    for m in _DIGIT_RUN.finditer(folded.text):
        local = _digits(m.group(0)).lstrip("0")
        if len(local) >= _MIN_PHONE_DIGITS:
            tails.add(local[-_MIN_PHONE_DIGITS:])
    return _Text(folded, words, givens, frozenset(tails))


def _may_name(name: str, surnames: set[str], givens: set[str]) -> bool:
    """Whether a contact's name may have its surname in ``surnames`` or its first given name in
    ``givens``, judged without building its key when it is plain ASCII words (most names)."""
    if not name.isascii():
        return True
    words = name.lower().split()
    if not all(map(str.isalnum, words)):  # punctuation: only _key says what its words are
        return True
    return len(words) >= 2 and (words[-1] in surnames or words[0] in givens)


class _Lookup:
    """The sources' sensitive values for the words looked up so far, complete for each such word.

    The CRM is asked only about words a screened text contains
    (:func:`digestkit.sources.find_name_candidates`), once per word, so screening costs in
    proportion to the text rather than to the CRM; whether a word is refused alone (wordfreq) is
    judged only for words that name a record.
    """

    def __init__(self, src: sources.DataSources) -> None:
        self.src = src
        self.lock = threading.Lock()
        self.words: set[str] = set()  # looked up as a first word (names, clauses) and a surname
        self.givens: set[str] = set()  # looked up as a contact's first given name
        self.tails: set[str] = set()  # looked up as a phone number's last seven digits
        self.accounts: dict[tuple[str, str], list[_Account]] = {}  # first two words -> accounts
        self.one_word: dict[str, str] = {}  # a one-word stem -> its first account's id
        self.contacts: dict[str, list[_Contact]] = {}  # surname -> contacts
        self.by_given: dict[str, list[tuple[str, str]]] = {}  # given name -> (surname, id)
        self.phrases: dict[str, dict[int, dict[str, _Entry]]] = {}  # first word -> length -> ...
        self.phones: dict[str, list[tuple[str, str]]] = {}  # last 7 digits -> (digits, id)
        self._summaries: dict[str, list[tuple[str, str]]] | None = None
        self._common: set[str] | None = None
        # Texts already asked about, by hash(): asking again is skipped, not needed (screening a
        # text asks about its words anyway), so a collision costs nothing but a later query.
        self.asked: set[int] = set()

    def ask_about(self, texts: Iterable[str]) -> None:
        """Ask the sources at once about every word of the texts not asked about yet."""
        new = [text for text in dict.fromkeys(texts) if hash(text) not in self.asked]
        read = [_read(text) for text in new]
        self.ensure(
            (w for t in read for w in t.words),
            (g for t in read for g in t.givens),
            (d for t in read for d in t.tails),
        )
        self.asked.update(map(hash, new))

    def ensure(self, words: Iterable[str], givens: Iterable[str], tails: Iterable[str]) -> None:
        """Ask the sources about whichever of these keys were not asked about yet."""
        with self.lock:
            new_words = set(words) - self.words - {""}
            new_givens = set(givens) - self.givens
            new_tails = set(tails) - self.tails
            if not (new_words or new_givens or new_tails):
                return
            found = sources.find_name_candidates(
                self.src,
                first_words=new_words,
                last_words=new_words,
                given_words=new_givens,
                phone_tails=new_tails,
            )
            # Candidates are a superset: each is kept only under the keys asked about now, so
            # every key's records arrive together, in id order.
            for account_id, name in found.accounts:
                key = _key(str(name)) if name is not None else ()
                if key and key[0] in new_words:
                    self._add_account(key, str(account_id))
            for entitlement_id, clause in found.clauses:
                what = f"a contract clause of CRM entitlement {entitlement_id}"
                self._add_phrase(
                    str(clause), new_words, _Entry("clause", what, "[contract clause]")
                )
            for word in new_words:
                for exception_id, summary in self._register().get(word, ()):
                    what = f"the summary of exception {exception_id}"
                    self._add_phrase(
                        summary, new_words, _Entry("summary", what, "[exception summary]")
                    )
            for contact_id, contact_name, phone in found.contacts:
                self._add_contact(
                    str(contact_id), contact_name, phone, new_words, new_givens, new_tails
                )
            self.words |= new_words
            self.givens |= new_givens
            self.tails |= new_tails

    def _add_account(self, key: NameKey, account_id: str) -> None:
        stem = _stem(key)
        if len(key) >= 2:
            self.accounts.setdefault((key[0], key[1]), []).append((stem, key, account_id))
        if len(stem) == 1:
            self.one_word.setdefault(stem[0], account_id)

    def _add_phrase(self, text: str, words: set[str], entry: _Entry) -> None:
        key = _key(text)
        if len(key) >= _MIN_PHRASE_WORDS and key[0] in words:
            by_length = self.phrases.setdefault(key[0], {}).setdefault(len(key), {})
            by_length.setdefault(" ".join(key), entry)

    def _add_contact(
        self,
        contact_id: str,
        name: str | None,
        phone: str | None,
        words: set[str],
        givens: set[str],
        tails: set[str],
    ) -> None:
        key = _key(name) if name is not None and _may_name(name, words, givens) else ()
        if len(key) >= 2:
            if key[-1] in words:
                self.contacts.setdefault(key[-1], []).append((key[:-1], contact_id))
            if key[0] in givens:
                self.by_given.setdefault(key[0], []).append((key[-1], contact_id))
        digits = _digits(str(phone or "")) if tails else ""
        if len(digits) >= _MIN_PHONE_DIGITS and digits[-_MIN_PHONE_DIGITS:] in tails:
            self.phones.setdefault(digits[-_MIN_PHONE_DIGITS:], []).append((digits, contact_id))

    def _register(self) -> dict[str, list[tuple[str, str]]]:
        """The register's summaries by first word (read once: the context has loaded the file)."""
        if self._summaries is None:
            register = sources.load_exceptions(self.src, history=True, include_sensitive=True)
            summaries: dict[str, list[tuple[str, str]]] = {}
            for exception_id, summary in zip(
                register["exception_id"].tolist(), register["summary"].tolist(), strict=True
            ):
                text = str(summary)
                summaries.setdefault(_first_word(text), []).append((str(exception_id), text))
            self._summaries = summaries
        return self._summaries

    def first_of(self, people: list[tuple[str, str]]) -> str:
        """Of contacts (surname, id) in id order, the one a "Given L." names: the first of the
        surname first seen in the CRM (by contact id), as a scan of every contact would meet it."""
        surnames = list(dict.fromkeys(surname for surname, _ in people))
        if len(surnames) > 1:
            self.ensure(surnames, (), ())
            surnames.sort(key=lambda surname: self.contacts[surname][0][1])
        return next(contact_id for surname, contact_id in people if surname == surnames[0])

    def single(self, word: str) -> _Entry | None:
        """What ``word`` alone names: a one-word account name or a surname, unless it is short,
        an ordinary English word or a word of a registry product or team name."""
        if len(word) < MIN_SINGLE_WORD:
            return None
        account_id = self.one_word.get(word)
        people = self.contacts.get(word)
        if account_id is None and not people:
            return None
        if self._common is None:
            self._common = _registry_words(self.src)
        if word in self._common or _ordinary(word):
            return None
        if account_id is not None:
            return _Entry("account", f"the name of CRM account {account_id}", account_id)
        # A surname shared by several contacts names none of them: a placeholder, no id.
        ids = {contact_id for _, contact_id in people or ()}
        if len(ids) == 1:
            (only,) = ids
            return _Entry("contact", f"the surname of CRM contact {only}", only)
        return _Entry("contact", "the surname of a CRM contact", "[contact]")


@lru_cache(maxsize=4)
def _sources_lookup(src: sources.DataSources, stamp: Stamp) -> _Lookup:
    """One lookup per sources; ``stamp`` is only part of the cache key: changed files start anew."""
    return _Lookup(src)


def _sources_of(src: str | Path | sources.DataSources) -> _Lookup:
    data = sources.open_sources(src)
    return _sources_lookup(data, content_stamp(data))


def prefetch(texts: Iterable[str], src: str | Path | sources.DataSources) -> None:
    """Ask the sources at once about every word of ``texts``, so screening each of them
    afterwards (:func:`find_hits`) asks nothing more: one CRM query instead of one per text."""
    _sources_of(src).ask_about(texts)


def _pattern_hits(folded: Folded) -> list[Hit]:
    hits = []
    for m in _EMAIL.finditer(folded.text):
        hits.append(Hit(*folded.span(*m.span()), "e-mail", "an e-mail address", "[e-mail]"))
    for m in _PHONE.finditer(folded.text):
        hits.append(Hit(*folded.span(*m.span()), "phone", "a phone number", "[phone]"))
    return hits


def _account_at(words: list[str], i: int, found: _Lookup) -> tuple[int, _Entry] | None:
    """The longest account name starting at word ``i``: all its words, its stem, or the first
    two words of a longer stem."""
    best: tuple[int, _Entry] | None = None
    for stem, full, account_id in found.accounts.get((words[i], words[i + 1]), []):
        for n, needs in (
            (len(full), full),
            (len(stem), stem),
            (2, stem[:2] if len(stem) >= 3 else ()),
        ):
            # One word alone counts only under the rule for single words (``_Lookup.single``).
            if n >= 2 and tuple(words[i : i + n]) == needs and (best is None or n > best[0]):
                entry = _Entry("account", f"the name of CRM account {account_id}", account_id)
                best = (n, entry)
    return best


def _contact(contact_id: str) -> _Entry:
    return _Entry("contact", f"the name of CRM contact {contact_id}", contact_id)


def _contact_at(words: list[str], i: int, found: _Lookup) -> tuple[int, _Entry] | None:
    """The longest contact name starting at word ``i``: "Given Last", "Last Given" (as in
    "Last, Given"), "G. Last" or "Given L."."""
    best: tuple[int, _Entry] | None = None

    def keep(n: int, contact_id: str) -> None:
        nonlocal best
        if best is None or n > best[0]:
            best = (n, _contact(contact_id))

    word, after = words[i], words[i + 1]
    for j in range(i + 1, min(i + _MAX_GIVEN_WORDS + 1, len(words))):
        for names, contact_id in found.contacts.get(words[j], []):
            if names == tuple(words[i:j]):
                keep(j - i + 1, contact_id)
    if len(after) == 1:  # "Given L."
        people = [
            (s, contact_id) for s, contact_id in found.by_given.get(word, []) if s[0] == after
        ]
        if people:
            keep(2, found.first_of(people))
    for names, contact_id in found.contacts.get(word, []):  # "Last Given", "Last, Given"
        if names and tuple(words[i + 1 : i + 1 + len(names)]) == names:
            keep(1 + len(names), contact_id)
    if len(word) == 1:  # "G. Last"
        for names, contact_id in found.contacts.get(after, []):
            if names and names[0][0] == word:
                keep(2, contact_id)
    return best


def _phrase_at(words: list[str], i: int, found: _Lookup) -> tuple[int, _Entry] | None:
    for n, entries in sorted(found.phrases.get(words[i], {}).items(), reverse=True):
        entry = entries.get(" ".join(words[i : i + n])) if i + n <= len(words) else None
        if entry is not None:
            return n, entry
    return None


def _phrase_hits(text: _Text, found: _Lookup) -> list[Hit]:
    words = text.words
    hits = []
    reach = 0  # a match ends before here: the next one starts at it or later
    for i in _starts(words, found):
        if i < reach:
            continue
        matches = [
            m
            for m in (
                _phrase_at(words, i, found),
                _account_at(words, i, found),
                _contact_at(words, i, found),
            )
            if m is not None
        ]
        single = found.single(words[i])
        if single is not None:
            matches.append((1, single))
        if not matches:
            continue
        n, entry = max(matches, key=lambda m: m[0])
        tokens = text.tokens
        span = text.folded.span(tokens[i].start(), tokens[i + n - 1].end())
        hits.append(Hit(*span, entry.kind, entry.what, entry.replacement))
        reach = i + n
    return hits


def _starts(words: list[str], found: _Lookup) -> list[int]:
    """The word positions where a record's name, clause or summary may start, in order: a first
    word of one, or up to :data:`_MAX_GIVEN_WORDS` words before a surname. Most words are none."""
    first = (
        found.phrases.keys()
        | {pair[0] for pair in found.accounts}
        | found.one_word.keys()
        | found.by_given.keys()
    )
    starts = {i for i, word in enumerate(words[:-1]) if word in first}
    for i, word in enumerate(words[:-1]):
        if word in found.contacts:
            starts.update(range(max(0, i - _MAX_GIVEN_WORDS), i + 1))
    return sorted(starts)


def _phone_hits(folded: Folded, found: _Lookup) -> list[Hit]:
    hits = []
    for m in _DIGIT_RUN.finditer(folded.text):
        typed = _digits(m.group(0))
        # As dialled inside the country too (without the 1-3 digit country code, with a trunk
        # "0"), or from abroad with "00" for "+".
        local = typed.lstrip("0")
        if len(local) < _MIN_PHONE_DIGITS:
            continue
        for digits, contact_id in found.phones.get(local[-_MIN_PHONE_DIGITS:], []):
            if digits == typed or (digits.endswith(local) and len(digits) - len(local) <= 3):
                what = f"the phone number of CRM contact {contact_id}"
                hits.append(Hit(*folded.span(*m.span()), "phone", what, "[phone]"))
                break
    return hits


def find_hits(text: str, src: str | Path | sources.DataSources | None = None) -> list[Hit]:
    """Every sensitive value in ``text`` with its span, in the order the screen looks for them:
    e-mail addresses, phone-number patterns, then (with ``src``) CRM and register names, clauses
    and summaries in text order, then CRM phone numbers. Spans may overlap."""
    read = _read(text)
    hits = _pattern_hits(read.folded)
    if src is not None:
        found = _sources_of(src)
        found.ask_about([text])
        hits += _phrase_hits(read, found)
        hits += _phone_hits(read.folded, found)
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
    texts = list(_digest_texts(digest))
    if src is not None:
        prefetch([text for _, text in texts], src)
    found = []
    for where, text in texts:
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
