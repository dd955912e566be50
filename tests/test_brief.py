"""The brief of a digest, on the sample world: what needs attention first, in plain words."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from digestkit import brief, render, sources
from digestkit.digest import build_digest, to_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def r7() -> brief.Brief:
    return brief.load_brief(build_digest("premium-s1-escalation", "r7").to_dict())


def test_new_items_come_first_then_by_urgency(r7) -> None:
    statuses = [i.status for i in r7.attention]
    assert statuses == sorted(statuses, key=lambda s: s != "new")
    for status in ("new", "open"):
        ranks = [brief.URGENCY.index(i.kind) for i in r7.attention if i.status == status]
        assert ranks == sorted(ranks)
    labels = {i.id: i.status_label for i in r7.attention}
    # The carve-out ambiguity was flagged in every digest since the first published revision.
    assert labels["FLG-04"] == "open since r1"
    assert labels["FLG-01"] == "open since r4"
    assert labels["FLG-02"] == "new in r7"
    assert r7.new_count == 4


def test_a_flag_the_baseline_had_is_resolved_by_the_change_that_removed_it(r7) -> None:
    [resolved] = r7.resolved
    assert resolved.kind == "exception_expired" and "EXC-1004" in resolved.headline
    assert resolved.status_label == "resolved in r7" and resolved.links == ("CHG-02",)
    change = next(c for c in r7.changes if c.id == "CHG-02")
    assert change.resolves == (resolved.id,)


def test_flags_and_the_changes_that_raise_them_link_both_ways(r7) -> None:
    items = {i.id: i for i in (*r7.attention, *r7.changes)}
    assert items["FLG-02"].links == ("CHG-01",) and items["CHG-01"].links == ("FLG-02",)
    assert items["FLG-03"].links == ("CHG-03",) and items["CHG-03"].links == ("FLG-03",)
    for item in r7.attention:
        assert all(items[change].kind in ("added", "modified") for change in item.links)


def test_every_item_says_what_to_confirm_and_with_which_team(r7) -> None:
    teams = set(sources.load_teams(None)["display_name"])
    for item in r7.attention:
        assert item.action.startswith(("Confirm", "Ask", "Marked")), item.id
        named = [t for t in teams if t in item.action] or re.findall(r"\(u-[a-z]+\)", item.action)
        assert named, f"{item.id} names no team: {item.action}"
        assert "@" not in item.action  # ids and team names, never a contact
    conflict = next(i for i in r7.attention if i.id == "FLG-02")
    assert "Notifications Engineering (notify-eng)" in conflict.headline


def test_placeholders_are_not_changes_and_questions_are_not_shown_twice(r7) -> None:
    digest = build_digest("premium-s1-escalation", "r7")
    texts = [c.text for c in digest.changed_steps]
    assert any("None at publication." in t for t in texts)  # the digest JSON keeps every change
    shown = " ".join(c.headline + c.text for c in r7.changes)
    assert "None at publication" not in shown and "Open questions" not in shown
    assert len(r7.changes) == 3


def test_an_open_question_is_quoted_whole(r7) -> None:
    question = next(i for i in r7.attention if i.id == "OQ-02")
    assert question.headline == (
        "Whether accounts with a contractual 10-minute initial update need their own checkpoint "
        "is pending product-owner confirmation."
    )


def test_what_still_holds_is_one_line_grouped_below(r7) -> None:
    assert r7.holds_line == (
        "17 assumptions unchanged since r6: 11 product owners, 5 exceptions, 1 entitlement count."
    )
    assert [title for title, _ in r7.holds] == [
        "Unchanged sections",
        "Ownership",
        "Exceptions",
        "Entitlements",
    ]
    assert r7.unchanged_sections.startswith("Unchanged since r6: Scope and entitlement")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "| Notifications Gateway | `notify-oncall` | 30 min |",
            "Notifications Gateway · notify-oncall · 30 min",
        ),
        ("1. Page the **primary** on-call.", "Page the primary on-call."),
        ("- Item with [a link](https://x.test) and _stress_.", "Item with a link and stress."),
        ("## Escalation steps", "Escalation steps"),
        (
            "Published 2026-06-01T09:30:00Z, valid to 2026-12-31.",
            "Published Mon 1 Jun 2026, 09:30 UTC, valid to Thu 31 Dec 2026.",
        ),
    ],
)
def test_plain_wording_has_no_markdown_and_human_times(text: str, expected: str) -> None:
    assert brief.plain(text) == expected


def test_plural_forms() -> None:
    assert [brief.count(n, "change") for n in (0, 1, 2)] == ["0 changes", "1 change", "2 changes"]
    assert brief.count(1, "entitlement count", "entitlement counts") == "1 entitlement count"


def test_every_source_shown_is_cited_and_quoted_without_sensitive_fields(r7) -> None:
    cited = {c.ref for i in r7.items for c in i.cites}
    assert {s.ref for s in r7.sources} == cited
    for source in r7.sources:
        assert source.lines or source.fields or source.description, source.ref
        assert "summary" not in dict(source.fields) and "approver" not in dict(source.fields)
    line_84 = next(s for s in r7.sources if s.ref == "S1")
    assert line_84.lines == (
        (84, "| Notifications Gateway | Messaging Platform | E-mail, SMS and push delivery |"),
    )


def test_markdown_is_in_step_with_the_page() -> None:
    digest = build_digest("premium-s1-escalation", "r9")
    shown = brief.load_brief(digest.to_dict())
    page = "".join(render.brief_parts(shown))
    markdown = to_markdown(digest)
    attention = markdown.split("## Needs attention", 1)[1].split("## What changed", 1)[0]
    assert re.findall(r"^- \*\*(\S+)\*\*", attention, re.M) == re.findall(
        r'<li id="brief-((?:FLG|OQ)-\d+)"', page
    )
    assert re.findall(r"^- \*\*(S\d+)\*\*", markdown, re.M) == re.findall(
        r'class="dk-source" id="src-(S\d+)"', page
    )


def test_html_comes_from_autoescaped_templates_not_f_strings() -> None:
    env = render.environment()
    pages = env.list_templates(filter_func=lambda n: n.endswith(".html.j2"))
    assert {"index.html.j2", "revision.html.j2", "brief/screen.html.j2"} <= set(pages)
    assert all(env.autoescape(name) for name in pages)
    assert not env.autoescape("brief/digest.md.j2")
    assert "&lt;b&gt;" in render.redline("a", "a <b>")
    tag = re.compile(r"<(?:/?[a-z]+[ >]|!DOCTYPE)")
    package = ROOT / "digestkit"
    paths = sorted(package.glob("brief/*.py"))
    assert package / "brief" / "build.py" in paths
    paths += [package / module for module in ("render.py", "workspace.py", "explore.py")]
    for path in paths:
        module = path.relative_to(package)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                assert not tag.search(literal), f"{module}:{node.lineno} builds HTML in an f-string"
