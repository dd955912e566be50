"""The sensitive-data screen: find customer-sensitive data in text a person typed.

Clarifications, review notes and other typed text go into the workspace, its HTML and the audit
record, where no customer-sensitive field may appear. :func:`find_sensitive` reports what such a
text contains by kind and record id only (never the value), so the finding itself can go into an
error message or a log.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from digestkit import sources

__all__ = ["find_sensitive"]

# Starts only where a run of address characters starts, and never gives a character back: one
# pass over the text, however long a run without "@" is (issue 12).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+")
# "+61 434 74397", "(415) 555-0199", "415.555.0199": a leading "+" or the 3-3-4 pattern, so ISO
# dates, line ranges and ids are not phone numbers.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{6,}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\w)")
_NAME_TOKEN = re.compile(r"[^\W_]+")
# Legal forms dropped from account names, so "Montague Bicycle Works" matches
# "Montague Bicycle Works Pte. Ltd.".
_LEGAL_FORMS = frozenset(("pte", "ltd", "limited", "inc", "incorporated", "llc", "llp", "gmbh",
    "bv", "b", "v", "nv", "sa", "s", "a", "ag", "plc", "co", "corp", "corporation", "company",
    "kk", "oy", "ab", "as", "srl", "spa", "pty", "sarl", "kg", "ug", "se"))  # fmt: skip
_MAX_NAME_WORDS = 8
_MIN_PHONE_DIGITS = 7
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")

NameKey = tuple[str, ...]
# What identifies the CRM's content: its SQLite file's stat (sources.file_key), else its URL.
CrmStamp = tuple[object, ...]


def _name_key(text: str) -> NameKey:
    return tuple(t.lower() for t in _NAME_TOKEN.findall(text))


def _name_keys(name: str, *, prefix: bool = False) -> set[NameKey]:
    """The name's words, the same without a trailing legal form, and with ``prefix`` the first
    two words of a longer name ("Montague Bicycle" of "Montague Bicycle Works Pte. Ltd.", as in
    an e-mail domain); only keys of two words or more."""
    key = _name_key(name)
    stem = key
    while stem and stem[-1] in _LEGAL_FORMS:
        stem = stem[:-1]
    keys = {key, stem, stem[:2] if prefix and len(stem) >= 3 else ()}
    return {k for k in keys if len(k) >= 2}


def _crm_stamp(src: sources.DataSources) -> CrmStamp:
    """What identifies the CRM's current content cheaply: its SQLite file's stat, else its URL."""
    crm = sources.crm_file(src)
    return sources.file_key([crm]) if crm is not None and crm.is_file() else (src.crm_url,)


@lru_cache(maxsize=4)
def _sensitive_index(
    src: sources.DataSources, stamp: CrmStamp
) -> tuple[dict[NameKey, str], dict[str, str]]:
    """(name words -> "the name of CRM account/contact <id>", phone digits -> same for phones).

    ``stamp`` is only part of the cache key: a changed CRM file gets a new index.
    """
    names: dict[NameKey, str] = {}
    phones: dict[str, str] = {}
    accounts = sources.load_accounts(
        src, columns=["account_id", "account_name"], include_sensitive=True
    )
    for account_id, name in zip(accounts["account_id"], accounts["account_name"], strict=True):
        for key in _name_keys(str(name), prefix=True):
            names.setdefault(key, f"the name of CRM account {account_id}")
    contacts = sources.load_contacts(
        src, columns=["contact_id", "contact_name", "phone"], include_sensitive=True
    )
    for contact_id, name, phone in zip(
        contacts["contact_id"], contacts["contact_name"], contacts["phone"], strict=True
    ):
        key = _name_key(str(name))
        if len(key) >= 2:
            names.setdefault(key, f"the name of CRM contact {contact_id}")
            names.setdefault((key[-1], *key[:-1]), f"the name of CRM contact {contact_id}")
        digits = re.sub(r"\D", "", str(phone or ""))
        # The number as dialled inside its country too: without the 1-3 digit country code.
        for cut in range(4):
            if len(digits) - cut >= _MIN_PHONE_DIGITS:
                for local in (digits[cut:], "0" + digits[cut:]):  # with a trunk prefix too
                    phones.setdefault(local, f"the phone number of CRM contact {contact_id}")
    return names, phones


def find_sensitive(text: str, src: str | Path | sources.DataSources | None = None) -> list[str]:
    """What customer-sensitive data typed ``text`` contains, described by kind and id only.

    Any e-mail address or phone number counts; with ``src`` (a data location or
    :class:`~digestkit.sources.DataSources`) so do the CRM's account and contact names (word by
    word, any case, with or without the legal form, "Last, First" too, or the first two words of
    a longer account name) and its contacts' phone numbers however they are spaced. The result
    never repeats the value, so it can go into an error message or a log.
    """
    found = []
    if _EMAIL.search(text):
        found.append("an e-mail address")
    if _PHONE.search(text):
        found.append("a phone number")
    if src is None:
        return found
    data = sources.open_sources(src)
    names, phones = _sensitive_index(data, _crm_stamp(data))
    words = _name_key(text)
    for i in range(len(words)):
        for n in range(2, min(_MAX_NAME_WORDS, len(words) - i) + 1):
            what = names.get(words[i : i + n])
            if what and what not in found:
                found.append(what)
    for run in _DIGIT_RUN.findall(text):
        digits = re.sub(r"\D", "", run)
        what = phones.get(digits) if len(digits) >= _MIN_PHONE_DIGITS else None
        if what and what not in found:
            found.append(what)
    return found
