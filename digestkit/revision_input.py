"""What a runbook revision must be before it is parsed: UTF-8 Markdown text, not data.

A UTF-8 BOM and CRLF/CR line endings are accepted; NUL bytes, other control characters, invalid
UTF-8, JSON, HTML and XML documents, and files named like data (``.csv``, ``.json``, ...) raise
:class:`~digestkit.exceptions.MarkdownError` naming the file (and the line, where there is one).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from digestkit.exceptions import MarkdownError

__all__ = ["NOT_MARKDOWN_SUFFIXES", "decode_revision", "refuse_data_file", "refuse_non_markdown"]

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_revision(text: str | bytes, name: str) -> str:
    """A revision's bytes or text as text with ``\\n`` line endings and no BOM; MarkdownError
    (naming ``name`` and the line) for NUL bytes, invalid UTF-8 or other control characters."""
    if isinstance(text, bytes):
        if b"\x00" in text:
            line = text[: text.index(b"\x00")].count(b"\n") + 1
            raise MarkdownError(
                f"{name}: line {line}: contains NUL bytes, so it is a binary file, not a Markdown "
                "revision; pass the runbook's .md file."
            )
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise MarkdownError(
                f"{name}: line {line}: byte {exc.start} is not valid UTF-8; re-save the revision "
                "as UTF-8 Markdown."
            ) from exc
        text = decoded
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise MarkdownError(
            f"{name}: line {line}: contains control character {bad.group(0)!r}; this looks like a "
            "binary file, not a Markdown revision."
        )
    return text


# Any text parses as Markdown, so a data file passed by mistake would "diff" as one paragraph;
# these suffixes name formats that are never a runbook revision.
NOT_MARKDOWN_SUFFIXES = {
    ".csv": "a comma-separated table",
    ".tsv": "a tab-separated table",
    ".json": "a JSON document",
    ".jsonl": "a JSON Lines file",
    ".ndjson": "a JSON Lines file",
    ".yaml": "a YAML document",
    ".yml": "a YAML document",
    ".xml": "an XML document",
    ".html": "an HTML page",
    ".htm": "an HTML page",
    ".ipynb": "a Jupyter notebook",
    ".sqlite": "a database",
    ".db": "a database",
    ".xlsx": "a spreadsheet",
    ".xls": "a spreadsheet",
    ".docx": "a Word document",
    ".pdf": "a PDF document",
    ".zip": "an archive",
    ".gz": "an archive",
}


def refuse_data_file(path: str | Path) -> None:
    """MarkdownError (naming the file) when ``path`` is named like a data file."""
    suffix = Path(path).suffix.lower()
    if suffix in NOT_MARKDOWN_SUFFIXES:
        raise MarkdownError(
            f"{path}: a {suffix} file is {NOT_MARKDOWN_SUFFIXES[suffix]}, not a Markdown "
            "revision; pass the runbook's .md file."
        )


_DOCUMENT_RE = re.compile(r"\A\s*<(?:!doctype\s+html|html[\s>]|\?xml\s)", re.IGNORECASE)


def refuse_non_markdown(body: str, name: str) -> None:
    """MarkdownError (naming ``name``) when ``body`` is an HTML, XML or JSON document."""
    stripped = body.strip()
    if _DOCUMENT_RE.match(stripped):
        raise MarkdownError(
            f"{name}: the file is an HTML or XML document, not a Markdown revision; "
            "pass the runbook's .md file."
        )
    if stripped[:1] in ("{", "["):
        try:
            json.loads(stripped)
        except ValueError:
            return
        raise MarkdownError(
            f"{name}: the file is a JSON document, not a Markdown revision; "
            "pass the runbook's .md file."
        )
