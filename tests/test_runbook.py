"""Tests of the runbook model: units, line ranges, locators, facts, odd Markdown, errors."""

from __future__ import annotations

import pytest

from digestkit.exceptions import MarkdownError
from digestkit.runbook import Fact, extract_facts, parse_runbook, read_runbook

RUNBOOK = """\
---
runbook_id: premium-s1-escalation
revision: r2
---
# Premium Support Severity-1 Escalation Runbook

## Scope and entitlement assumptions
- All Premium Plus accounts receive an initial update within 15 minutes.

## Paging paths
| Product | Primary on-call | Secondary | Escalate after |
|---|---|---|---|
| Payments API | payments-oncall | platform-oncall | 30 min |
| Data Export | export-oncall | TBD | 1h |

## Escalation steps
1. Confirm the account's tier and products in scope in the CRM.
   1. Check the entitlement record is approved.
2. Page the primary on-call for the affected product.
   Escalate after 30 min without an acknowledgement.

## Incident-communication checkpoints
- T+15: initial customer update from the incident lead.
- Send updates every 60 min.

## Approved product-specific exceptions
- EXC-1042 — Payments API: handling carve-out, see the exception register.

## Open questions
- Secondary pager for Data Export: TBD, pending product-owner confirmation.
"""


@pytest.fixture(scope="module")
def rb():
    return parse_runbook(RUNBOOK, path="r2.md")


def by_locator(rb, suffix):
    (unit,) = [u for u in rb.units if u.locator.endswith(suffix)]
    return unit


def test_front_matter_is_parsed_and_line_numbers_count_it(rb):
    assert rb.front_matter == {"runbook_id": "premium-s1-escalation", "revision": "r2"}
    assert rb.line_count == 30
    title = rb.units[[u.kind for u in rb.units].index("heading")]
    assert title.lines == (5, 5)
    assert title.section == ("Premium Support Severity-1 Escalation Runbook",)


def test_front_matter_entries_are_units(rb):
    fm = [u for u in rb.units if u.kind == "front_matter"]
    # The '---' fences are no entry's lines.
    assert [(u.key, u.lines) for u in fm] == [("runbook_id", (2, 2)), ("revision", (3, 3))]


def test_front_matter_block_value_keeps_its_blank_line():
    text = "---\nrevision: r3\nchange_reason: |\n  First paragraph.\n\n  Second one.\n\n---\n# T\n"
    rb = parse_runbook(text)
    reason = next(u for u in rb.units if u.key == "change_reason")
    assert reason.lines == (3, 6)
    assert reason.text == "change_reason: |\n  First paragraph.\n\n  Second one."
    assert rb.front_matter["change_reason"] == "First paragraph.\n\nSecond one.\n"


def test_sections_have_heading_paths_and_extents(rb):
    steps = next(s for s in rb.sections if s.title == "Escalation steps")
    assert steps.path == ("Premium Support Severity-1 Escalation Runbook", "Escalation steps")
    assert steps.level == 2
    assert steps.lines == (16, 20)
    assert rb.section_titles()[:3] == [
        "Premium Support Severity-1 Escalation Runbook",
        "Scope and entitlement assumptions",
        "Paging paths",
    ]


def test_list_items_nesting_numbers_and_own_text(rb):
    items = [u for u in rb.units_in("Escalation steps") if u.kind == "list_item"]
    assert [(u.number, u.depth, u.lines) for u in items] == [
        (1, 0, (17, 17)),
        (1, 1, (18, 18)),
        (2, 0, (19, 20)),
    ]
    # The parent's own text excludes its nested sub-list.
    assert "entitlement record" not in items[0].text
    assert items[0].norm == "Confirm the account's tier and products in scope in the CRM."
    assert items[2].norm.endswith("Escalate after 30 min without an acknowledgement.")
    assert items[1].locator.endswith("escalation-steps:list1.1.1")
    assert items[2].locator.endswith("escalation-steps:list1.2")


def test_table_rows_are_records_keyed_by_header(rb):
    rows = rb.table_rows("Paging paths")
    assert [r.key for r in rows] == ["Payments API", "Data Export"]
    assert rows[0].cells == {
        "Product": "Payments API",
        "Primary on-call": "payments-oncall",
        "Secondary": "platform-oncall",
        "Escalate after": "30 min",
    }
    assert rows[0].lines == (13, 13)
    assert rows[0].locator.endswith("paging-paths:table1.row[Payments API]")
    header = by_locator(rb, "table1.header")
    assert header.key is None and header.lines == (11, 12)


def test_table_facts_take_their_role_from_the_header(rb):
    facts = set(rb.table_rows("Paging paths")[0].facts)
    assert Fact("pager", "payments-oncall", 13, "Payments API", "primary") in facts
    assert Fact("pager", "platform-oncall", 13, "Payments API", "secondary") in facts
    assert Fact("duration", "30", 13, "Payments API", "escalate_after") in facts
    assert Fact("product", "Payments API", 13) in facts
    export = set(rb.table_rows("Paging paths")[1].facts)
    assert Fact("duration", "60", 14, "Data Export", "escalate_after") in export
    assert Fact("open_question", "TBD", 14, "Data Export", "secondary") in export


def test_prose_facts_with_lines(rb):
    kinds = {(f.kind, f.value, f.line, f.role) for f in rb.facts()}
    assert ("tier", "Premium Plus", 8, None) in kinds
    assert ("checkpoint", "15", 8, "within") in kinds
    assert ("checkpoint", "15", 23, "t_plus") in kinds
    assert ("checkpoint", "60", 24, "every") in kinds
    assert ("duration", "30", 20, "escalate_after") in kinds
    exc = [f for f in rb.facts("exception")]
    assert exc == [Fact("exception", "EXC-1042", 27, "Payments API")]
    open_q = {f.value for f in rb.facts("open_question") if f.line == 30}
    assert open_q == {"TBD", "pending product-owner confirmation"}
    # "Premium Support" is the service name, and a heading called "Open questions" is no marker.
    assert not [f for f in rb.facts("tier") if f.line == 5]
    assert not [f for f in rb.facts("open_question") if f.line == 29]


def test_extract_facts_with_registries():
    text = "Hand over to Payments Engineering via payments-primary.\nIdentity owners: TODO"
    facts = extract_facts(
        text,
        10,
        products=["Identity", "Search"],
        teams=["Payments Engineering"],
        pagers=["ident-rota"],
    )
    assert [(f.kind, f.value, f.line) for f in facts] == [
        ("team", "Payments Engineering", 10),
        ("pager", "payments-primary", 10),
        ("product", "Identity", 11),
        ("open_question", "TODO", 11),
    ]
    # Exact-ish matching: a product name inside another word is not a product.
    assert not extract_facts("Research the issue.", 1, products=["Search"])


def test_setext_headings_html_blocks_and_deep_lists():
    text = (
        "Title\n=====\n\n<div>\n<b>raw</b>\n</div>\n\nSub\n---\n\n- a\n  - b\n    - c\n      - d\n"
    )
    rb = parse_runbook(text)
    assert [(u.kind, u.lines) for u in rb.units] == [
        ("heading", (1, 2)),
        ("html", (4, 6)),
        ("heading", (8, 9)),
        ("list_item", (11, 11)),
        ("list_item", (12, 12)),
        ("list_item", (13, 13)),
        ("list_item", (14, 14)),
    ]
    assert [u.depth for u in rb.units if u.kind == "list_item"] == [0, 1, 2, 3]
    assert rb.units[-1].section == ("Title", "Sub")
    assert rb.units[-1].norm == "d"


def test_table_without_leading_pipes():
    rb = parse_runbook("Product | Owner\n--- | ---\nSearch | search-eng\n")
    (row,) = [u for u in rb.units if u.key is not None]
    assert row.cells == {"Product": "Search", "Owner": "search-eng"}
    assert Fact("team", "search-eng", 3, "Search", "owner") in row.facts


def test_crlf_bom_and_no_front_matter_or_headings():
    text = "\ufeffFirst paragraph\r\nwraps here.\r\n\r\n1. step\r\n"
    rb = parse_runbook(text.encode("utf-8"))
    assert rb.front_matter == {}
    assert rb.sections == ()
    assert [(u.kind, u.section, u.lines, u.norm) for u in rb.units] == [
        ("paragraph", (), (1, 2), "First paragraph wraps here."),
        ("list_item", (), (4, 4), "step"),
    ]
    assert "\r" not in rb.units[0].text


def test_code_blockquote_rule_and_reference_units():
    text = "# T\n\n```yaml\nkey: 1\n```\n\n> quoted *text*\n> more\n\n***\n\n[ref]: https://example.com\n"
    rb = parse_runbook(text)
    assert [(u.kind, u.lines) for u in rb.units] == [
        ("heading", (1, 1)),
        ("code", (3, 5)),
        ("blockquote", (7, 8)),
        ("rule", (10, 10)),
        ("reference", (12, 12)),
    ]
    assert rb.units[2].norm == "quoted text more"


def test_normalization_drops_formatting_but_keeps_links():
    a = parse_runbook("- Page *the* **primary**\n  on-call. See [docs](https://a)\n").units[0]
    b = parse_runbook("* Page the primary on-call.   See [docs](https://a)\n").units[0]
    c = parse_runbook("* Page the primary on-call. See [docs](https://b)\n").units[0]
    assert a.norm == b.norm
    assert b.norm != c.norm


def test_empty_file_is_an_empty_runbook():
    rb = parse_runbook("")
    assert rb.units == () and rb.line_count == 0


def test_non_utf8_bytes_are_rejected_with_line(tmp_path):
    path = tmp_path / "r3.md"
    path.write_bytes(b"# Title\n\ncaf\xe9 au lait\n")
    with pytest.raises(MarkdownError, match=r"r3\.md: line 3: .*not valid UTF-8"):
        read_runbook(path)


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(MarkdownError, match=r"image\.md: .*binary"):
        read_runbook(path)


def test_json_is_not_markdown(tmp_path):
    path = tmp_path / "r1.md"
    path.write_text('{"runbook": "premium-s1-escalation", "steps": []}\n')
    with pytest.raises(MarkdownError, match=r"r1\.md: the file is a JSON document"):
        read_runbook(path)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "accounts.csv",
            "account_id,tier\nA-1,Premium\n",
            r"accounts\.csv: a \.csv file",
        ),
        ("registry.yaml", "products: []\n", r"registry\.yaml: a \.yaml file is a YAML"),
        ("digest.html", "# looks like markdown\n", r"digest\.html: a \.html file is an HTML"),
        ("r2.md", "<!DOCTYPE html>\n<html><body>x</body></html>\n", r"r2\.md: .*HTML or XML"),
        ("r3.md", '<?xml version="1.0"?>\n<runbook/>\n', r"r3\.md: .*HTML or XML"),
    ],
)
def test_data_files_are_not_markdown(tmp_path, filename, content, message):
    path = tmp_path / filename
    path.write_text(content)
    with pytest.raises(MarkdownError, match=message):
        read_runbook(path)


def test_html_blocks_inside_markdown_still_parse():
    rb = parse_runbook("<div>note</div>\n\n# Steps\n1. Page ops-oncall.\n")
    assert [u.kind for u in rb.units] == ["html", "heading", "list_item"]


def test_broken_front_matter_names_file_and_line():
    with pytest.raises(MarkdownError, match=r"^r4\.md: line 3: front matter: invalid YAML"):
        parse_runbook("---\nrunbook_id: x\nrevision: [r4\n---\n# T\n", path="r4.md")
    with pytest.raises(MarkdownError, match=r"^r5\.md: line 1: front matter: .* never closed"):
        parse_runbook("---\nrunbook_id: x\n# T\n", path="r5.md")
    with pytest.raises(MarkdownError, match=r"^r6\.md: line 2: .*must be a YAML mapping"):
        parse_runbook("---\n- a\n---\n# T\n", path="r6.md")
    with pytest.raises(MarkdownError, match=r"^r7\.md: line 3: .*aliases"):
        parse_runbook("---\na: &x 1\nb: *x\n---\n# T\n", path="r7.md")


def test_missing_file_is_a_markdown_error(tmp_path):
    with pytest.raises(MarkdownError, match="cannot read"):
        read_runbook(tmp_path / "nope.md")


def test_inline_markup_is_parsed_only_where_present_and_resolves_references():
    text = (
        "- See [the docs][ref] and `code` &amp; \\*stars\\*.\n"
        "- Plain text\n  wrapped   here.\n"
        "\n[ref]: https://example.com/docs\n"
    )
    linked, plain = [u for u in parse_runbook(text).units if u.kind == "list_item"]
    assert linked.norm == "See the docs <https://example.com/docs> and code & *stars*."
    assert plain.norm == "Plain text wrapped here."


def test_fact_prefilters_keep_case_insensitive_and_spaced_forms():
    facts = extract_facts(
        "WITHIN 15 MINUTES, at T + 5 and every 2 h. Open Question: owner PENDING final "
        "CONFIRMATION; EXC-7 for Premium Plus via ops-secondary.",
        1,
    )
    assert {(f.kind, f.value, f.role) for f in facts} == {
        ("checkpoint", "15", "within"),
        ("checkpoint", "5", "t_plus"),
        ("checkpoint", "120", "every"),
        ("open_question", "Open Question", None),
        ("open_question", "PENDING final CONFIRMATION", None),
        ("exception", "EXC-7", None),
        ("tier", "Premium Plus", None),
        ("pager", "ops-secondary", None),
    }
    assert extract_facts("Step 12 of 40: call the bridge.", 1) == []


def test_units_built_by_the_parser_equal_units_built_by_the_dataclass():
    # The builder fills Unit's slots without its frozen __init__ (speed): each value must land
    # in its own field, as Unit(...) puts it, and no field may be left unset.
    from dataclasses import astuple, fields

    from digestkit.runbook import Unit, _new_unit

    values = [f"value of {f.name}" for f in fields(Unit)]  # distinct, so a swap shows
    fast, slow = _new_unit(*values), Unit(*values)  # type: ignore[arg-type]
    assert astuple(fast) == astuple(slow) == tuple(values)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    for unit in parse_runbook(RUNBOOK, products=["Payments API", "Data Export"]).units:
        assert unit == Unit(*(getattr(unit, f.name) for f in fields(Unit)))
