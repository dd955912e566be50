"""Real-browser test: headless Chromium opens a rendered digest and the index from file:// URLs.

Uses Debian's ``chromium`` (``.ci/run`` installs it) through playwright; no browser download.
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
ARTIFACTS = ROOT / "reports" / "artifacts"
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def test_digest_shows_three_parts_and_a_sources_table(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    assert page.title().startswith("Digest — ")
    for part, heading in [
        ("#changed", "What changed"),
        ("#carried-forward", "What still holds"),
        ("#open", "What is open"),
        ("#sources", "Sources"),
    ]:
        section = page.locator(part)
        assert section.is_visible(), part
        assert heading in section.inner_text()
    assert page.locator("#header").is_visible()
    assert "Traceback" not in page.inner_text("body")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)


def test_every_source_link_leads_to_a_visible_sources_row(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    hrefs = page.eval_on_selector_all(".dk-src a", "els => els.map(e => e.getAttribute('href'))")
    claims = page.locator(".dk-claim[id^='claim-']").count()
    assert claims > 0 and len(hrefs) >= claims
    missing = [h for h in set(hrefs) if page.locator(h).count() != 1]
    assert missing == []
    link = page.locator("#changed .dk-src a").first
    target = link.get_attribute("href")
    link.click()
    assert page.evaluate("location.hash") == target
    row = page.locator(target)
    assert row.is_visible() and row.locator("td").first.inner_text() == target.removeprefix("#src-")
    box, height = row.bounding_box(), page.viewport_size["height"]
    assert box is not None and -1 < box["y"] < height  # scrolled into view (sub-pixel)


def test_planted_script_in_the_runbook_is_text_and_never_runs(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    assert SAMPLE_PLANT in page.inner_text("#changed")
    assert page.locator("script").count() == 0
    assert page.dialogs == []


def test_planted_markup_in_a_clarification_is_text_and_never_runs(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.digest_dir(digest_id) / "digest.html")
    assert OWN_PLANT in page.inner_text("#clarifications")
    assert page.locator("#clarifications img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []


def test_index_lists_the_digest_and_links_to_it(planted, page) -> None:
    layout, digest_id = planted
    _open(page, layout.index)
    row = page.locator("#digests tbody tr").filter(has_text=digest_id)
    assert row.is_visible()
    assert "draft" in row.inner_text().lower()
    row.locator("a").first.click()
    page.wait_for_load_state("load")
    assert page.title().startswith("Digest — ")
    assert page.locator("#changed").is_visible()
