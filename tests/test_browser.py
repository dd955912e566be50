"""Real-browser test: headless Chromium opens a rendered digest and the index from file:// URLs.

Uses Debian's ``chromium`` (``.ci/run`` installs it) through playwright; no browser download.
Pages are checked at a laptop's 1280x800 and a phone's 390x844; screenshots go to pytest's
temporary folder, never into the repository.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from digestkit import events
from digestkit import sources as src_mod
from digestkit import workspace as ws

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "digestkit" / "data" / "sample"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SAMPLE_PLANT = "<script>alert(1)</script>"
OWN_PLANT = '<img src="x" onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ws.Layout, str]:
    """A workspace holding the digest of the published revision with a planted <script>."""
    data = tmp_path_factory.mktemp("world") / "data"
    shutil.copytree(SAMPLE, data)
    revisions = src_mod.load_revisions(data)
    planted = revisions["text"].str.contains(SAMPLE_PLANT, regex=False)
    hit = revisions[(revisions["status"] == "published") & planted]
    assert not hit.empty, "the sample world plants <script>alert(1)</script> in a revision"
    runbook_id, revision = hit.iloc[0]["runbook_id"], hit.iloc[0]["revision"]
    event = next(
        ln.event
        for ln in src_mod.iter_feed(src_mod.open_sources(data))
        if ln.event
        and ln.event["type"] == events.PUBLISHED
        and (ln.event["runbook_id"], ln.event["revision"]) == (runbook_id, revision)
    )
    workspace = tmp_path_factory.mktemp("ws")
    outcome = events.run_event(event["event_id"], data=data, workspace=workspace)
    assert outcome.status == "processed", outcome.reason
    layout = ws.open_workspace(workspace)
    ws.clarify(layout, outcome.digest_id, author="u-reviewer", text=f"Checked {OWN_PLANT} here.")
    ws.clarify(
        layout,
        outcome.digest_id,
        author="u-reviewer",
        text="The paging tool lists this pager under another name.",
        claim="FLG-01",
    )
    return layout, outcome.digest_id


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport)
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    return context, pg


@pytest.fixture(params=[LAPTOP, PHONE], ids=["1280x800", "390x844"])
def page(request, browser):
    context, pg = _page(browser, request.param)
    yield pg
    context.close()


@pytest.fixture
def laptop(browser):
    context, pg = _page(browser, LAPTOP)
    yield pg
    context.close()


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def _in_first_viewport(page, selector: str) -> list[str]:
    """Texts of the elements matching ``selector`` that are not wholly in the first viewport."""
    height = page.viewport_size["height"]
    outside = []
    for element in page.locator(selector).all():
        box = element.bounding_box()
        if box is None or box["y"] < 0 or box["y"] + box["height"] > height:
            outside.append(element.inner_text())
    return outside


def test_first_viewport_holds_every_new_flag(planted, page, tmp_path) -> None:
    layout, digest_id = planted
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    page.screenshot(path=str(tmp_path / "first-screen.png"))
    new = page.locator("#attention li.dk-new-item")
    assert new.count() >= 1
    assert _in_first_viewport(page, "#attention li.dk-new-item") == []
    assert _in_first_viewport(page, "#header h1") == []
    # Every new item says what to confirm, and with whom.
    for item in new.all():
        assert "confirm" in item.locator(".dk-action").inner_text().lower()


def test_first_laptop_screen_is_the_whole_brief(planted, laptop) -> None:
    layout, digest_id = planted
    _open(laptop, layout.digest_dir(digest_id) / "digest.html")
    assert _in_first_viewport(laptop, "#attention li, #changes li, #holds summary") == []
    # What still holds is one line; its list is folded until opened.
    assert not laptop.locator("#carried-forward li").first.is_visible()
    laptop.locator("#holds summary").click()
    assert laptop.locator("#carried-forward li").first.is_visible()


def test_no_page_scrolls_sideways(planted, page) -> None:
    layout, digest_id = planted
    for path in (
        layout.index,
        layout.digest_dir(digest_id) / "digest.html",
        *sorted(layout.revisions.glob("*.html"))[:2],
    ):
        _open(page, path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path.name, overflow)


def test_every_source_link_leads_to_visible_quoted_text(planted, laptop) -> None:
    layout, digest_id = planted
    page = laptop
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    hrefs = page.eval_on_selector_all(".dk-src a", "els => els.map(e => e.getAttribute('href'))")
    refs = page.eval_on_selector_all(".dk-source", "els => els.map(e => e.id)")
    assert hrefs and {h.removeprefix("#") for h in hrefs} == set(refs)
    for href in sorted(set(hrefs)):
        quote = page.locator(f"{href} .dk-quote")
        assert quote.is_visible(), href
        assert quote.inner_text().strip() and "Not at hand" not in quote.inner_text(), href
    link = page.locator("#attention .dk-src a").first
    target = link.get_attribute("href")
    link.click()
    assert page.evaluate("location.hash") == target
    box = page.locator(target).bounding_box()
    assert box is not None and -1 < box["y"] < page.viewport_size["height"]


def test_a_cited_runbook_line_opens_on_the_revision_page(planted, laptop) -> None:
    layout, digest_id = planted
    page = laptop
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    source = page.locator(".dk-source").filter(has=page.locator("a[href*='revisions/']")).first
    quoted = source.locator(".dk-quote").inner_text().splitlines()[0]
    number, text = quoted.split(maxsplit=1)
    href = source.locator("a[href*='revisions/']").get_attribute("href")
    assert href.endswith(f"#L{number}")
    source.locator("a[href*='revisions/']").click()
    page.wait_for_load_state("load")
    line = page.locator(f"#L{number}")
    assert line.is_visible() and line.inner_text().split(maxsplit=1)[1] == text


def test_flags_and_changes_link_both_ways(planted, laptop) -> None:
    layout, digest_id = planted
    page = laptop
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    links = page.eval_on_selector_all(
        "#open .dk-claim .dk-links a",
        "els => els.map(e => [e.closest('.dk-claim').id, e.getAttribute('href')])",
    )
    assert links, "a flag of the planted revision is caused by one of its changes"
    targets = page.eval_on_selector_all(
        ".dk-links a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert [t for t in targets if page.locator(t).count() != 1] == []
    for flag, change in links:
        back = page.locator(f"{change} .dk-links a[href='#{flag}']")
        assert back.count() == 1, (flag, change)


def test_a_clarification_on_a_claim_is_shown_with_it(planted, laptop) -> None:
    layout, digest_id = planted
    _open(laptop, layout.digest_dir(digest_id) / "digest.html")
    assert laptop.locator("#brief-FLG-01 .dk-noted").inner_text() == "1 clarification"
    note = laptop.locator("#claim-FLG-01 .dk-note")
    assert "another name" in note.inner_text() and "u-reviewer" in note.inner_text()
    assert "another name" not in laptop.locator("#clarifications").inner_text()


def test_planted_script_in_the_runbook_is_text_and_never_runs(planted, laptop) -> None:
    layout, digest_id = planted
    _open(laptop, layout.digest_dir(digest_id) / "digest.html")
    assert SAMPLE_PLANT in laptop.inner_text("#changed")
    assert laptop.locator("script").count() == 0
    assert laptop.dialogs == []


def test_planted_markup_in_a_clarification_is_text_and_never_runs(planted, laptop) -> None:
    layout, digest_id = planted
    _open(laptop, layout.digest_dir(digest_id) / "digest.html")
    assert OWN_PLANT in laptop.inner_text("#clarifications")
    assert laptop.locator("#clarifications img").count() == 0
    assert laptop.evaluate("typeof window.__pwned") == "undefined"
    assert laptop.dialogs == []


def test_index_marks_the_current_revision_and_links_to_it(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.index)
    row = page.locator("table.dk-index tbody tr").filter(has_text=digest_id)
    assert row.is_visible()
    assert "current" in row.inner_text() and "draft" in row.inner_text().lower()
    row.locator("a").first.click()
    page.wait_for_load_state("load")
    assert page.title().startswith("Digest — ")
    assert page.locator("#attention").is_visible()


def test_print_shows_what_the_screen_folds(planted, laptop) -> None:
    layout, digest_id = planted
    _open(laptop, layout.digest_dir(digest_id) / "digest.html")
    assert not laptop.locator("#carried-forward li").first.is_visible()
    laptop.emulate_media(media="print")
    assert laptop.locator("#carried-forward li").first.is_visible()
