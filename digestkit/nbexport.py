"""nbconvert's HTML exporter without its BeautifulSoup round trip: the exporter of digest pages.

nbconvert's ``HTMLExporter`` renders its template, then parses the whole page with BeautifulSoup
to make output areas focusable (``tabindex="0"``) and give images without one an ``alt`` text,
and serialises the parsed page again. On a digest page (over half a megabyte) that round trip
costs five times the rendering itself. :class:`DigestHTMLExporter` renders the same template and
makes the same two additions on the rendered text; the page differs from ``HTMLExporter``'s
only in what the round trip normalised (e.g. ``&#39;`` kept as written, ``<br>`` not
rewritten as ``<br/>``), never in what a browser shows.

Schedulers get the same page with ``jupyter nbconvert --to digest`` (the ``nbconvert.exporters``
entry point ``digest``, see pyproject.toml and docs/pipeline.md).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

__all__ = ["NO_ALT_TEXT", "DigestHTMLExporter", "make_accessible", "page_exporter"]

#: The ``alt`` text nbconvert gives an image that has none.
NO_ALT_TEXT = "No description has been provided for this image"

# The elements HTMLExporter's post-pass selects (``div.jp-Cell-inputWrapper``,
# ``div.jp-OutputArea-output``, ``img:not([alt])``), by their start tags. Text and attribute
# values in a rendered page never hold a raw "<" or ">", so a start tag ends at the first ">".
_FOCUSABLE = re.compile(
    r"<div(?=\s)(?=[^>]*\sclass=\"[^\"]*(?<![\w-])(?:jp-Cell-inputWrapper|jp-OutputArea-output)"
    r"(?![\w-]))(?![^>]*\stabindex=)"
)
_NO_ALT = re.compile(r"<img(?=\s)(?![^>]*\salt=)")

log = logging.getLogger("digestkit.nbexport")


def make_accessible(html: str) -> str:
    """Add what HTMLExporter's post-pass adds: ``tabindex="0"`` on input and output areas and
    an ``alt`` text on images without one."""
    html = _FOCUSABLE.sub('<div tabindex="0"', html)
    html, missing_alt = _NO_ALT.subn(f'<img alt="{NO_ALT_TEXT}"', html)
    if missing_alt:  # as HTMLExporter warns
        log.warning("Alternative text is missing on %s image(s).", missing_alt)
    return html


class DigestHTMLExporter(HTMLExporter):
    """``HTMLExporter`` whose accessibility additions are made on the rendered page's text."""

    export_from_notebook = "Digest HTML"

    def from_notebook_node(  # type: ignore[override]  # as HTMLExporter's: a page, not a node
        self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """Render ``nb`` with the template, then :func:`make_accessible`."""
        # HTMLExporter.from_notebook_node up to its BeautifulSoup pass: the filters it registers
        # for the notebook's language and widgets.
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code",
            Highlight2HTML(pygments_lexer=lexer, parent=self),  # type: ignore[no-untyped-call]
        )
        resources = self._init_resources(resources)  # type: ignore[no-untyped-call]
        filter_data_type = WidgetsDataTypeFilter(  # type: ignore[no-untyped-call]
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)  # type: ignore[no-untyped-call]
        self.register_filter("filter_data_type", filter_data_type)  # type: ignore[no-untyped-call]
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return make_accessible(html), resources


@cache
def page_exporter(template_file: str, *, markdown: bool) -> DigestHTMLExporter:
    """The exporter of :func:`digestkit.render.notebook_to_html`, one per process and template:
    it compiles its templates on first use, which cost as much as a whole export."""
    return DigestHTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file=template_file,
        exclude_input=True,
        exclude_markdown=not markdown,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
