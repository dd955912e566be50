"""Tests of the semantic diff: every change kind, formatting-only pairs, tables, facts, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from digestkit.diff import SCORE_CUTOFF, diff_runbooks, diff_texts, to_html, to_markdown
from digestkit.runbook import parse_runbook

BASE = """\
# Runbook

## Paging paths
| Product | Primary on-call | Secondary | Escalate after |
|---|---|---|---|
| Payments API | payments-oncall | platform-oncall | 30 min |
| Data Export | export-oncall | platform-oncall | 30 min |

## Escalation steps
1. Confirm the account's tier and products in scope in the CRM.
2. Page the primary on-call for the affected product.
3. Open the incident bridge and invite the incident lead.
4. Post the first customer update at T+15.

## Approved exceptions
- EXC-1042 — Payments API: handling carve-out, see the exception register.
- EXC-2001 — Data Export: temporary staffing overlay.

## Notes
Escalate after 30 min without acknowledgement.
"""


def kinds(diff):
    return [(c.kind, c.unit) for c in diff.changes]


def test_identical_revisions_have_no_changes():
    d = diff_texts(BASE, BASE)
    assert d.changes == ()
    assert d.stats["formatting_only"] == 0
    assert d.stats["units_old"] == d.stats["units_new"] == d.stats["exact_matches"]
    assert d.stats["fuzzy_candidates"] == 0


def test_step_inserted_at_top_renumbers_the_rest():
    new = BASE.replace(
        "1. Confirm the account's",
        "1. Acknowledge the page in the incident tool.\n2. Confirm the account's",
    )
    new = (
        new.replace("\n2. Page", "\n3. Page")
        .replace("\n3. Open", "\n4. Open")
        .replace("\n4. Post", "\n5. Post")
    )
    d = diff_texts(BASE, new)
    assert kinds(d) == [("added", "list_item")] + [("renumbered", "list_item")] * 4
    renum = d.changes[1]
    assert renum.old.text.startswith("1. Confirm") and renum.new.text.startswith("2. Confirm")
    assert renum.old.lines == (10, 10) and renum.new.lines == (11, 11)
    assert renum.facts == () and renum.redline == ""


def test_lazy_numbering_is_not_renumbering():
    old = "1. a step\n1. b step\n"
    assert diff_texts(old, "1. new step\n" + old).stats["renumbered"] == 0
    # Rewriting "1. 2." as "1. 1." renders the same numbers: formatting only.
    d = diff_texts("1. a step\n2. b step\n", "1. a step\n1. b step\n")
    assert d.changes == () and d.stats["formatting_only"] == 1


def test_modified_step_has_word_redline():
    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    d = diff_texts(BASE, new)
    (c,) = d.changes
    assert (c.kind, c.unit, c.section) == ("modified", "list_item", ("Runbook", "Escalation steps"))
    assert c.redline == "Page the [-primary-] {+secondary+} on-call for the affected product."
    assert c.old.lines == c.new.lines == (11, 11)


def test_fact_statement_for_prose_duration():
    d = diff_texts(BASE, BASE.replace("Escalate after 30 min", "Escalate after 15 min"))
    (c,) = d.changes
    assert [f.statement for f in c.facts] == ["escalate after: 30 min → 15 min"]
    assert c.facts[0].old == "30" and c.facts[0].new == "15"


def test_checkpoint_change_statement():
    d = diff_texts(BASE, BASE.replace("at T+15.", "at T+10."))
    assert [f.statement for f in d.changes[0].facts] == ["checkpoint: T+15 → T+10"]


def test_table_row_matched_by_key_with_cell_changes():
    new = BASE.replace(
        "| Payments API | payments-oncall | platform-oncall | 30 min |",
        "| Payments API | platform-oncall | payments-secondary | 15 min |",
    )
    d = diff_texts(BASE, new)
    (c,) = d.changes
    assert (c.kind, c.unit) == ("modified", "table_row")
    assert c.locator.endswith("table1.row[Payments API]")
    assert {f.statement for f in c.facts} == {
        "primary on-call for Payments API: payments-oncall → platform-oncall",
        "secondary on-call for Payments API: platform-oncall → payments-secondary",
        "escalate after for Payments API: 30 min → 15 min",
    }
    assert d.stats["key_matches"] == 1


def test_table_row_reordered_is_moved_not_modified():
    rows = BASE.split("\n")
    i = rows.index("| Payments API | payments-oncall | platform-oncall | 30 min |")
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    d = diff_texts(BASE, "\n".join(rows))
    assert kinds(d) == [("moved", "table_row")]


def test_removed_exception_is_no_longer_referenced():
    new = BASE.replace(
        "- EXC-1042 — Payments API: handling carve-out, see the exception register.\n", ""
    )
    d = diff_texts(BASE, new)
    (c,) = d.changes
    assert c.kind == "removed" and c.new is None
    assert c.section == ("Runbook", "Approved exceptions")
    assert "exception EXC-1042 for Payments API no longer referenced" in [
        f.statement for f in c.facts
    ]


def test_added_unit():
    new = BASE.replace("## Notes\n", "## Notes\nPage security-oncall for data leaks.\n\n")
    d = diff_texts(BASE, new)
    (c,) = d.changes
    assert (c.kind, c.old, c.new.lines) == ("added", None, (20, 20))
    assert [f.statement for f in c.facts] == ["pager security-oncall newly referenced"]


def test_moved_within_section_and_across_sections():
    new = BASE.replace("3. Open the incident bridge and invite the incident lead.\n", "")
    new = new.replace(
        "2. Page", "3. Open the incident bridge and invite the incident lead.\n2. Page"
    )
    d = diff_texts(BASE, new)
    assert [c.kind for c in d.changes] == ["moved"]

    across = BASE.replace("4. Post the first customer update at T+15.\n", "")
    across = across.replace("## Notes\n", "## Notes\n- Post the first customer update at T+15.\n\n")
    d = diff_texts(BASE, across)
    (moved,) = [c for c in d.changes if c.kind == "moved"]
    assert moved.section == ("Runbook", "Notes")
    assert moved.old.lines == (13, 13) and moved.new.lines == (19, 19)


def test_moved_with_small_edit_across_sections():
    across = BASE.replace("4. Post the first customer update at T+15.\n", "")
    across = across.replace(
        "## Notes\n", "## Notes\n- Post the first customer update at T+15 sharp.\n\n"
    )
    (moved,) = [c for c in diff_texts(BASE, across).changes if c.kind == "moved"]
    assert moved.redline.endswith("[-T+15.-] {+T+15 sharp.+}")


def test_renamed_heading_is_modified_and_its_content_stays():
    d = diff_texts(BASE, BASE.replace("## Escalation steps", "## Escalation procedure"))
    (c,) = d.changes
    assert (c.kind, c.unit, c.section) == (
        "modified",
        "heading",
        ("Runbook", "Escalation procedure"),
    )
    assert c.old.text == "## Escalation steps"


def test_heading_rename_beyond_cutoff_is_anchored_by_its_content():
    d = diff_texts(BASE, BASE.replace("## Approved exceptions", "## Carve-outs"))
    assert kinds(d) == [("modified", "heading")]
    assert d.stats["anchor_matches"] == 1


@pytest.mark.parametrize(
    "old,new",
    [
        ("Page  the   primary on-call.\n", "Page the primary on-call.\n"),  # whitespace
        ("Page the *primary* on-call.\n", "Page the **primary** on-call.\n"),  # emphasis
        ("- Page the primary on-call.\n", "* Page the primary on-call.\n"),  # list-marker style
        ("1. Page the primary.\n", "1) Page the primary.\n"),  # ordered marker style
        (
            "| A | B |\n|---|---|\n| x | y |\n",
            "| A | B |\n|:--|--:|\n| x | y |\n",
        ),  # table alignment
        ("| A | B |\n|---|---|\n| x | y |\n", "A | B\n--- | ---\nx   | y\n"),  # table pipes/padding
        (
            "Page the primary on-call and wait for the acknowledgement.\n",
            "Page the primary on-call\nand wait for the\nacknowledgement.\n",
        ),  # line wrapping
    ],
    ids=["whitespace", "emphasis", "bullet", "ordered-marker", "alignment", "pipes", "wrapping"],
)
def test_formatting_only_is_counted_not_reported(old, new):
    d = diff_texts(old, new)
    assert d.changes == ()
    assert d.stats["formatting_only"] >= 1
    assert all(f.kind == "formatting" for f in d.formatting)


def test_formatting_mixed_with_content_is_modified():
    d = diff_texts("Page the *primary* on-call.\n", "Page the **secondary** on-call.\n")
    assert kinds(d) == [("modified", "paragraph")]


def test_fuzzy_matching_never_uses_a_unit_twice():
    old = "- Page the payments on-call now.\n- Page the payments on-call soon.\n"
    new = "- Page the payments on-call today.\n"
    d = diff_texts(old, new)
    assert sorted(c.kind for c in d.changes) == ["modified", "removed"]
    assert d.stats["fuzzy_matches"] == 1


def test_score_cutoff_is_honoured():
    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    old_rb, new_rb = parse_runbook(BASE), parse_runbook(new)
    assert [c.kind for c in diff_runbooks(old_rb, new_rb).changes] == ["modified"]
    strict = diff_runbooks(old_rb, new_rb, score_cutoff=99.0)
    assert sorted(c.kind for c in strict.changes) == ["added", "removed"]
    assert 0 < SCORE_CUTOFF < 100


def test_front_matter_changes_are_units():
    old = "---\nrevision: r1\nowner: ops\n---\n# T\n"
    new = "---\nrevision: r2\nowner: ops\n---\n# T\n"
    d = diff_texts(old, new)
    (c,) = d.changes
    assert (c.kind, c.unit, c.locator, c.old.lines) == (
        "modified",
        "front_matter",
        "front-matter:revision",
        (1, 2),
    )
    assert d.stats["front_matter_changed"] == ["revision"]


def test_json_contract_shape():
    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    new = new.replace("## Notes\n", "## Notes\nNew note.\n\n")
    data = diff_texts(BASE, new).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["schema_version"] == 1
    assert set(data) == {"schema_version", "changes", "formatting_only", "stats"}
    for change in data["changes"]:
        assert set(change) == {
            "kind",
            "section",
            "old_section",
            "old",
            "new",
            "facts",
            "redline",
            "unit",
            "locator",
        }
        assert change["kind"] in {"added", "removed", "modified", "moved", "renumbered"}
        assert (change["old_section"] == []) == (change["old"] is None)
        for side in ("old", "new"):
            if change[side] is not None:
                first, last = change[side]["lines"]
                assert 1 <= first <= last
    added = next(c for c in data["changes"] if c["kind"] == "added")
    assert added["old"] is None and added["new"] == {"text": "New note.", "lines": [20, 20]}
    for key in (
        "added",
        "removed",
        "modified",
        "moved",
        "renumbered",
        "formatting_only",
        "units_old",
        "units_new",
        "fuzzy_candidates",
    ):
        assert key in data["stats"]


def test_markdown_and_html_outputs_escape_runbook_text():
    old = "- Page the on-call engineer for <b>ops</b> & wait ten minutes.\n"
    new = "- Page the on-call engineer for <script>ops</script> & wait ten minutes.\n"
    d = diff_texts(old, new)
    page = to_html(d)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<del>" in page and "<ins>" in page
    md = to_markdown(d)
    assert md.startswith("# Runbook changes") and "**modified**" in md


def test_markdown_report_quotes_runbook_text_literally():
    from markdown_it import MarkdownIt

    old = "# Steps\n\nIntro.\n"
    new = "# Steps\n\nIntro.\n\n## Added\n\n- one ~~two~~ <script>x</script> [l](u)\n"
    page = MarkdownIt("commonmark").render(to_markdown(diff_texts(old, new)))
    assert "<script>" not in page and "<del>" not in page and "<h2>" not in page
    assert "## Added" in page and "- one ~~two~~ &lt;script&gt;x&lt;/script&gt; [l](u)" in page


def test_odd_markdown_pair_diffs_cleanly():
    old = (
        "\ufeffTitle\r\n=====\r\n\r\n<div>x</div>\r\n\r\n"
        "- a\r\n  - b\r\n    - c\r\n      - page the duty manager\r\n"
    )
    new = "Title\n=====\n\n<div>x</div>\n\n- a\n  - b\n    - c\n      - page the duty managers\n"
    d = diff_texts(old.encode(), new.encode())
    (c,) = d.changes
    assert (c.kind, c.new.lines, c.new.text.strip()) == (
        "modified",
        (9, 9),
        "- page the duty managers",
    )


def test_diff_files_reads_both_revisions(tmp_path):
    from digestkit.diff import diff_files
    from digestkit.exceptions import MarkdownError

    (tmp_path / "r1.md").write_text(BASE)
    (tmp_path / "r2.md").write_text(BASE.replace("30 min without", "15 min without"))
    d = diff_files(tmp_path / "r1.md", tmp_path / "r2.md")
    assert [f.statement for c in d.changes for f in c.facts] == ["escalate after: 30 min → 15 min"]
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe# T")
    with pytest.raises(MarkdownError, match=r"bad\.md"):
        diff_files(tmp_path / "r1.md", tmp_path / "bad.md")


def test_reports_name_what_was_compared(tmp_path):
    from digestkit.diff import diff_files

    (tmp_path / "r1.md").write_text("---\nrunbook_id: rb\nrevision: r1\n---\n" + BASE)
    (tmp_path / "r2.md").write_text(BASE.replace("30 min without", "15 min without"))
    d = diff_files(tmp_path / "r1.md", tmp_path / "r2.md")
    compared = f"rb@r1 ({tmp_path / 'r1.md'}) → {tmp_path / 'r2.md'}"
    assert to_markdown(d).splitlines()[2] == compared
    assert f"<title>Runbook changes {compared}</title>" in to_html(d)
    assert to_markdown(diff_texts(BASE, BASE)).splitlines()[2].startswith("0 added")


def test_reports_list_revision_metadata_field_by_field_apart_from_content():
    old = "---\nrevision: r1\nchange_reason: >\n  First\n  version.\n---\n" + BASE
    new = "---\nrevision: r2\nchange_reason: Second.\napproved_by: u-a\n---\n" + BASE.replace(
        "30 min without", "15 min without"
    )
    d = diff_texts(old, new)
    md = to_markdown(d)
    assert "1 modified" in md and "3 revision metadata field(s) changed" in md
    meta = md.split("## Revision metadata\n\n")[1].split("\n\n")[0].splitlines()
    assert meta == [
        "- revision: r1 → r2",
        "- change\\_reason: First version. → Second.",
        "- approved\\_by: u-a (added)",
    ]
    assert "## Content changes" in md and md.count("- **modified**") == 1
    page = to_html(d)
    assert "<li>revision: r1 → r2</li>" in page and "<h2>Content changes</h2>" in page
    assert len(d.changes) == 4  # the JSON contract still lists every change


def test_cli_output_cut_short_by_a_pipe_is_not_an_error():
    import os
    import subprocess
    import sys

    sample = "digestkit/data/sample/runbooks/premium-s1-escalation"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as after `| head -1`
    try:
        cli = subprocess.run(
            [sys.executable, "-m", "digestkit", "diff", f"{sample}/r1.md", f"{sample}/r9.md"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[1],
        )
    finally:
        os.close(write_end)
    assert (cli.returncode, cli.stderr) == (141, "")


def test_changes_are_complete_frozen_dataclasses():
    from dataclasses import FrozenInstanceError, fields

    from digestkit.diff import Change, Span

    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    new = new.replace("4. Post the first customer update at T+15.\n", "")
    for c in diff_texts(BASE, new).changes:
        assert c == Change(**{f.name: getattr(c, f.name) for f in fields(Change)})
        for side in (c.old, c.new):
            assert side is None or side == Span(side.text, side.lines)
        with pytest.raises(FrozenInstanceError):
            c.kind = "added"


def test_consecutive_removals_sit_after_the_preceding_unit():
    new = BASE.replace(
        "2. Page the primary on-call for the affected product.\n"
        "3. Open the incident bridge and invite the incident lead.\n",
        "",
    ).replace("4. Post", "2. Post")
    d = diff_texts(BASE, new)
    assert [(c.kind, c.old.lines) for c in d.changes] == [
        ("removed", (11, 11)),
        ("removed", (12, 12)),
        ("renumbered", (13, 13)),
    ]


def test_small_and_large_fuzzy_groups_score_alike(monkeypatch):
    from digestkit import diff as diff_module

    olds = ["Page the payments on-call now.", "Open the bridge.", "Call the duty manager."]
    news = ["Page the payments on-call today.", "Open the incident bridge.", "Notify security."]
    small = diff_module._scores(olds, news, SCORE_CUTOFF)
    monkeypatch.setattr(diff_module, "_LOOP_PAIRS", 0)
    assert diff_module._scores(olds, news, SCORE_CUTOFF) == small
    assert [(r, c) for _, r, c in small] == [(0, 0), (1, 1)]


def test_to_frame_has_one_row_per_change():
    d = diff_texts("1. Page ops.\n2. Call.\n", "1. Triage.\n2. Page ops.\n3. Call.\n")
    frame = d.to_frame()
    assert list(frame["kind"]) == ["added", "renumbered", "renumbered"]
    assert frame.loc[0, "new lines"] == (1, 1) and pd.isna(frame.loc[0, "old text"])


def test_a_bad_argument_is_one_line_naming_the_command(capsys):
    from digestkit.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["diff", "a.md", "b.md", "--format", "pdf"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("digestkit diff: error: argument --format: invalid choice: 'pdf'")
    assert err.count("\n") == 1


def test_to_frame_leaves_revision_metadata_out_unless_asked():
    old = "---\nrevision: r1\n---\n" + BASE
    new = "---\nrevision: r2\n---\n" + BASE.replace("30 min without", "15 min without")
    d = diff_texts(old, new)
    content = list(d.to_frame()["unit"])
    assert content and "front_matter" not in content
    assert list(d.to_frame(metadata=True)["unit"]) == ["front_matter", *content]
