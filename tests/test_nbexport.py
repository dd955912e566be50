"""The digest exporter gives the document nbconvert's HTMLExporter gives, without its round trip.

Both exporters run on the same notebook (outputs of every kind the lab template renders as an
output area: text, HTML with images, a PNG; an input cell shown) and the two pages are parsed
and compared as documents, attributes in any order. ``jupyter nbconvert --to digest`` is the
same exporter, found through its entry point.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.exporters.base import get_exporter

from digestkit import render
from digestkit.nbexport import NO_ALT_TEXT, DigestHTMLExporter, make_accessible

# A 1x1 PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Notes <br> & 'quotes'"),
        nbformat.v4.new_code_cell(
            "print('x')",
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text="a < b & 'c'\n"),
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/html": (
                            '<p class="a  b">it&#39;s &#34;quoted&#34;<br>'
                            '<img src="x.png"><img src="y.png" alt="a chart"></p>'
                            '<div class="jp-OutputArea-output-like">not an output area</div>'
                        ),
                        "text/plain": "<HTML>",
                    },
                ),
                nbformat.v4.new_output("display_data", data={"image/png": PNG}),
                nbformat.v4.new_output("execute_result", data={"text/plain": "42"}),
            ],
        ),
    ]
    return nb


def _document(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        tag.attrs = dict(sorted(tag.attrs.items()))
    return str(soup)


@pytest.mark.parametrize("exclude_input", [True, False])
def test_the_page_is_the_document_htmlexporter_gives(exclude_input: bool) -> None:
    options = {
        "template_name": "lab",
        "template_file": str(render.TEMPLATE),
        "exclude_input": exclude_input,
        "exclude_input_prompt": True,
        "exclude_output_prompt": True,
    }
    nb = _notebook()  # once: new cells get random ids
    theirs, _ = HTMLExporter(**options).from_notebook_node(nb)
    ours, _ = DigestHTMLExporter(**options).from_notebook_node(nb)
    assert ours != theirs  # the round trip's normalisation is not made
    assert _document(ours) == _document(theirs)
    # Four outputs and the Markdown cell's input area, and the code cell's input if shown.
    assert ours.count('tabindex="0"') == (5 if exclude_input else 6)
    assert ours.count(f'alt="{NO_ALT_TEXT}"') == 2  # the HTML's image without one, the PNG
    assert 'alt="a chart"' in ours


def test_make_accessible_leaves_what_already_has_it_and_lookalike_classes() -> None:
    page = (
        '<div class="jp-OutputArea-output" tabindex="-1"></div>'
        '<div class="jp-OutputArea-outputs"></div><div data-x="jp-OutputArea-output"></div>'
        '<img\nsrc="a.png"\nalt="">'
    )
    assert make_accessible(page) == page


def test_nbconvert_finds_the_exporter_as_digest(tmp_path: Path) -> None:
    assert get_exporter("digest") is DigestHTMLExporter
    executed = tmp_path / "run.ipynb"
    nbformat.write(_notebook(), executed)
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "digest",
         "--template-file", str(render.TEMPLATE), str(executed)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    page = executed.with_suffix(".html").read_text("utf-8")
    assert f'alt="{NO_ALT_TEXT}"' in page
    assert "it&#39;s" in page  # not re-serialised
