"""Tests of the semantic diff: every change kind, formatting-only pairs, tables, facts, outputs."""

from __future__ import annotations

import json
from collections import Counter
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
    assert strict.stats["fuzzy_matches"] == 0
    # Still the same step: the only leftover of its kind between the same neighbours.
    assert [c.kind for c in strict.changes] == ["modified"]
    assert strict.stats["in_place_matches"] == 1
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
        (2, 2),
    )
    assert d.stats["front_matter_changed"] == ["revision"]


def test_json_contract_shape():
    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    new = new.replace("## Notes\n", "## Notes\nNew note.\n\n")
    data = diff_texts(BASE, new).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["schema_version"] == 2
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
    from digestkit import align as diff_module

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


# ----------------------------------------------------------------------------- issue classes
# Each class of misleading output has a hand-written input here; the real documents are in
# tests/test_realworld.py.


def test_a_title_added_above_everything_moves_nothing():
    old = "## Paging\n\n- Page ops.\n- Wait.\n\n## Bridge\n\n- Open the bridge.\n"
    d = diff_texts(old, "# Runbook\n\n" + old)
    assert kinds(d) == [("added", "heading")]


def test_a_deleted_section_heading_moves_nothing():
    old = "# T\n\n## Paging\n\n- Page ops.\n\n## Bridge\n\n- Open the bridge.\n- Call.\n"
    new = "# T\n\n## Paging\n\n- Page ops.\n- Open the bridge.\n- Call.\n"
    assert kinds(diff_texts(old, new)) == [("removed", "heading")]


def test_an_item_added_above_a_list_that_nests_it_moves_nothing():
    old = "- [Paging](#paging)\n- [Bridge](#bridge)\n"
    new = "- [Steps](#steps)\n  - [Paging](#paging)\n  - [Bridge](#bridge)\n"
    d = diff_texts(old, new)
    assert kinds(d) == [("added", "list_item")]
    assert [n for f in d.formatting for n in f.notes] == ["whitespace or line wrapping"] * 2


ALERTS = """\
# Alerts

## Disk full
- Severity: warning
- Page storage-oncall.

## Queue backlog
- Severity: warning
- Page queue-oncall.
"""


def test_repeated_lines_pair_in_their_own_section_first():
    new = ALERTS.replace(
        "- Severity: warning\n- Page storage", "- Severity: critical\n- Page storage"
    )
    new += "\n## Cert expiry\n- Severity: warning\n- Page security-oncall.\n"
    d = diff_texts(ALERTS, new)
    assert (
        kinds(d) == [("modified", "list_item"), ("added", "heading")] + [("added", "list_item")] * 2
    )
    assert d.changes[0].redline == "Severity: [-warning-] {+critical+}"
    assert d.changes[0].section == ("Alerts", "Disk full")


def _templated(moves: bool) -> str:
    template = ["Confirm the customer's tier in the CRM.", "Post an update in the channel."]
    sections = []
    for s in range(10):
        steps = [template[k % 2] if k % 3 == 0 else f"Check item {s}-{k}." for k in range(50)]
        sections.append(steps)
    if moves:
        sections[0].insert(40, sections[0].pop(5))  # within a section
        sections[7].insert(10, sections[2].pop(4))  # across sections
        sections[9].insert(0, sections[4].pop(7))
        sections[3][6] = "Confirm the account's tier in the CRM."  # an edited template step
        del sections[5][12]  # a removed template step
        sections[6].insert(20, template[1])  # an added template step
    return "\n".join(
        f"## Phase {s}\n\n" + "\n".join(f"{k}. {step}" for k, step in enumerate(steps, 1)) + "\n"
        for s, steps in enumerate(sections)
    )


def test_templated_steps_report_only_the_true_moves():
    d = diff_texts(_templated(False), _templated(True))
    moved = [c.new.text.split(". ", 1)[1] for c in d.changes if c.kind == "moved"]
    assert sorted(moved) == ["Check item 0-5.", "Check item 2-4.", "Check item 4-7."]
    assert [c.redline for c in d.changes if c.kind == "modified"] == [
        "Confirm the [-customer's-] {+account's+} tier in the CRM."
    ]
    assert Counter(c.kind for c in d.changes)["added"] == 1
    assert Counter(c.kind for c in d.changes)["removed"] == 1


CODE_STEP = """\
1. List the pods:

   ```bash
   kubectl get pods -n ops
   ```
2. Open the bridge.
"""


def test_code_in_a_step_is_a_unit_nested_under_it():
    rb = parse_runbook(CODE_STEP)
    assert [(u.kind, u.depth, u.lines) for u in rb.units] == [
        ("list_item", 0, (1, 1)),
        ("code", 1, (3, 5)),
        ("list_item", 0, (6, 6)),
    ]
    item, code = rb.units[:2]
    assert item.norm == "List the pods:" and "kubectl" not in item.text
    assert code.locator == item.locator + ".code1"
    assert (code.norm, code.info) == ("kubectl get pods -n ops", "bash")


def test_code_is_compared_line_by_line():
    new = CODE_STEP.replace("kubectl get pods -n ops", "kubectl get pods \\\n     -n ops")
    (c,) = diff_texts(CODE_STEP, new).changes
    assert (c.kind, c.unit) == ("modified", "code")
    assert c.redline == "[-kubectl get pods -n ops-]\n{+kubectl get pods \\+}\n{+  -n ops+}"
    # Only a line break changed: still shown.
    (c,) = diff_texts("```\nrun a b\n```\n", "```\nrun a\nb\n```\n").changes
    assert c.redline == "[-run a b-]\n{+run a+}\n{+b+}"


def test_code_redlines_in_reports_keep_their_lines():
    d = diff_texts("```\nrun a b\nkeep\n```\n", "```\nrun a\nb <x>\nkeep\n```\n")
    assert to_markdown(d).split("\n")[5:12] == [
        "  ```diff",
        "  - run a b",
        "  + run a",
        "  + b <x>",
        "    keep",
        "  ```",
        "",
    ]
    assert (
        "<pre><del>run a b</del>\n<ins>run a</ins>\n<ins>b &lt;x&gt;</ins>\nkeep</pre>"
        in to_html(d)
    )


def test_indenting_code_under_a_step_is_formatting():
    old = "1. List the pods:\n\n```bash\nkubectl get pods\n```\n"
    new = "1. List the pods:\n\n   ```bash\n   kubectl get pods\n   ```\n"
    d = diff_texts(old, new)
    assert d.changes == ()
    assert [f.notes for f in d.formatting] == [("code nested under a step",)]


def test_sub_step_merged_into_its_step_is_one_edit():
    old = "1. Page the on-call.\n   1. Wait for the acknowledgement.\n2. Open the bridge.\n"
    new = "1. Page the on-call and wait for the acknowledgement.\n2. Open the bridge.\n"
    (c,) = diff_texts(old, new).changes
    assert (c.kind, c.old.lines, c.new.lines) == ("modified", (1, 2), (1, 1))
    assert c.redline == "Page the [-on-call. Wait-] {+on-call and wait+} for the acknowledgement."
    # ... and split back out of it.
    (c,) = diff_texts(new, old).changes
    assert (c.kind, c.old.lines, c.new.lines) == ("modified", (1, 1), (1, 2))


def test_a_todo_that_stays_is_not_removed_and_added():
    old = "- Secondary pager for Payments API: TODO.\n"
    new = "- Secondary pager for Payments API and Data Export: TODO.\n"
    (c,) = diff_texts(old, new, products=["Payments API", "Data Export"]).changes
    assert [f.statement for f in c.facts] == ["product Data Export newly referenced"]


def test_link_definitions_are_one_unit_each_compared_by_label():
    old = "# A\n\nSee [docs][d] and [run][R].\n\n## B\n\nText.\n\n[d]: https://a/docs\n[r]: https://a/run\n"
    rb = parse_runbook(old)
    refs = [u for u in rb.units if u.kind == "reference"]
    assert [(u.key, u.lines) for u in refs] == [("D", (9, 9)), ("R", (10, 10))]
    new = old.replace(
        "[d]: https://a/docs\n[r]: https://a/run", "[r]: https://b/run\n[d]: https://a/docs"
    )
    # Reordered definitions did not move; the paragraph's link target changed with the label's.
    usage, c = diff_texts(old, new).changes
    assert (usage.kind, usage.unit) == ("modified", "paragraph")
    assert (c.kind, c.unit, c.locator) == ("modified", "reference", "a/b:ref[r]")
    assert c.redline == "[r]: [-https://a/run-] {+https://b/run+}"


def test_front_matter_change_spans_the_entry_only():
    old = "---\nrevision: r1\nchange_reason: |\n  First.\n\n  Second.\n---\n# T\n"
    new = old.replace("Second.", "Third.")
    (c,) = diff_texts(old, new).changes
    assert (c.unit, c.old.lines) == ("front_matter", (3, 6))
    assert c.new.text == "change_reason: |\n  First.\n\n  Third."


def test_table_columns_are_read_by_header_meaning():
    text = (
        "| Alert | Response Team Role | Owning team |\n|---|---|---|\n"
        "| Disk | Storage lead | storage-eng |\n"
    )
    (row,) = [u for u in parse_runbook(text).units if u.key == "Disk"]
    assert [(f.kind, f.value, f.role) for f in row.facts] == [("team", "storage-eng", "owner")]


TABLES = """\
# T

## Primary paths
| Product | Primary on-call | Escalate after |
|---|---|---|
| Search | search-oncall | 30 min |
| Ledger | ledger-oncall | 30 min |

## Fallback paths
| Product | Primary on-call | Escalate after |
|---|---|---|
| Billing | billing-oncall | 60 min |
"""


def test_a_row_moved_to_a_table_with_the_same_columns_is_moved():
    new = TABLES.replace("| Ledger | ledger-oncall | 30 min |\n", "")
    new += "| Ledger | ledger-oncall | 45 min |\n"
    (c,) = diff_texts(TABLES, new).changes
    assert (c.kind, c.section, c.old_section) == (
        "moved",
        ("T", "Fallback paths"),
        ("T", "Primary paths"),
    )
    assert [f.statement for f in c.facts] == ["escalate after for Ledger: 30 min → 45 min"]
    # A table with other columns holds other rows: removed there, added here.
    other = new.replace(
        "## Fallback paths\n| Product | Primary on-call |",
        "## Fallback paths\n| Service | Primary on-call |",
    )
    assert sorted(k for k, _ in kinds(diff_texts(TABLES, other))) == [
        "added",
        "modified",
        "removed",
    ]


def test_a_paragraph_rewritten_in_place_is_modified():
    old = "# T\n\nThe commander runs the call and keeps the notes.\n\n## Next\n"
    new = "# T\n\nThe commander delegates the notes to a scribe and decides.\n\n## Next\n"
    (c,) = diff_texts(old, new).changes
    assert c.kind == "modified" and c.redline


def test_a_deleted_sentence_shows_in_the_paragraph_redline():
    old = "Page ops. Wait ten minutes for the acknowledgement. Then call the duty manager.\n"
    new = "Page ops. Then call the duty manager on the bridge.\n"
    (c,) = diff_texts(old, new).changes
    assert (
        c.segments
        == (
            ("=", "Page ops."),
            ("-", "Wait ten minutes for the acknowledgement."),
            ("=", "Then call the duty manager"),
            ("+", "on the bridge."),
        )
        or ("-", "Wait ten minutes for the acknowledgement.") in c.segments
    )


def test_a_paragraph_turned_into_a_list_is_one_edit():
    old = "# T\n\nPage ops. Open the bridge. Call the incident lead.\n"
    new = "# T\n\n- Page ops.\n- Open the bridge.\n- Call the incident lead.\n"
    (c,) = diff_texts(old, new).changes
    assert (c.kind, c.unit, c.old.lines, c.new.lines) == ("modified", "list_item", (3, 3), (3, 5))


@pytest.mark.parametrize(
    "old,new,note",
    [
        ("```bash\nls\n```\n", "```sh\nls\n```\n", "fence language bash → sh"),
        ("# T\n\n## Steps\n\n- a\n", "# T\n\n### Steps\n\n- a\n", "heading level 2 → 3"),
        ("Don't page ops.\n", "Don’t page ops.\n", "quotes straight → curly"),
        ("1. a step\n2. b step\n", "1. a step\n1. b step\n", "lazy numbering 2. → 1."),
    ],
    ids=["fence-language", "heading-level", "quotes", "lazy-numbering"],
)
def test_formatting_classes_are_named(old, new, note):
    d = diff_texts(old, new)
    assert d.changes == ()
    assert [n for f in d.formatting for n in f.notes] == [note]
    assert d.to_dict()["formatting_only"][0]["what"] == [note]


def test_no_facts_from_code_or_sample_output():
    old = "1. Check the pod:\n\n   ```\n   NAME    READY   AGE\n   api-1   1/1     4h\n   ```\n"
    new = old.replace("4h", "5h")
    assert [f for u in parse_runbook(old).units for f in u.facts] == []
    (c,) = diff_texts(old, new).changes
    assert (c.unit, c.facts) == ("code", ())


def test_json_doc_example_has_the_fields_the_diff_emits():
    doc = (Path(__file__).parents[1] / "docs" / "diff-json.md").read_text(encoding="utf-8")
    example = json.loads(doc.split("```json\n", 1)[1].split("\n```", 1)[0])
    new = BASE.replace("Page the primary on-call", "Page the secondary on-call")
    data = diff_texts(BASE, new.replace("1. Confirm", "1.  Confirm")).to_dict()
    assert example["schema_version"] == data["schema_version"]
    assert set(example["stats"]) == set(data["stats"])
    assert set(example["changes"][0]) == set(data["changes"][0])
    assert set(example["formatting_only"][0]) == set(data["formatting_only"][0])
    for note in ("heading level", "fence language", "code nested under a step", "quotes straight"):
        assert f"`{note}" in doc


def test_importing_the_diff_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys, digestkit.diff; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
