"""Gathering what a brief needs: earlier digests, registry, register and runbook texts from the
sources, clarifications and state from the workspace; then :func:`~digestkit.brief.build_brief`.

The source loaders (pandas) are imported when called, so importing the brief stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from digestkit import clock
from digestkit.brief.build import build_brief
from digestkit.brief.history import earlier_digests
from digestkit.brief.model import Brief, Context

__all__ = ["load_brief", "load_context"]


def load_context(
    digest: Mapping[str, Any],
    *,
    data: Any = None,
    notes: Sequence[Mapping[str, str]] = (),
    state: str = "draft",
    transition: Mapping[str, str] | None = None,
    pages: str | None = None,
    workspace: str | Path | None = None,
) -> Context:
    """What :func:`build_brief` needs from the sources: earlier digests, registry, register, texts.

    Only non-sensitive columns are read (the loaders leave the sensitive ones out). Earlier
    digests posted in ``workspace`` are read rather than built again when they are the same.
    """
    from digestkit import minimize
    from digestkit import sources as src_mod

    h = digest["header"]
    src = src_mod.open_sources(data)
    history = earlier_digests(h["runbook_id"], h.get("baseline"), data=src, workspace=workspace)
    as_of = h.get("as_of")
    products = src_mod.load_products(src, as_of=as_of)
    teams = src_mod.load_teams(src, as_of=as_of)
    exceptions = src_mod.load_exceptions(src, as_of=as_of)
    revisions = src_mod.load_revisions(src, runbook_id=h["runbook_id"])
    cited = {s["id"] for s in digest.get("sources", []) if s["system"] == "runbook"}
    # Quoted lines pass through the same minimization as the digest: a customer named in the
    # runbook shows as its id or a placeholder here too.
    texts = {
        f"{r.runbook_id}@{r.revision}": minimize.redact_text(str(r.text), src).text
        for r in revisions.itertuples()
        if f"{r.runbook_id}@{r.revision}" in cited
    }
    return Context(
        history=history,
        products={str(r["product_id"]): _strings(r) for r in products.to_dict("records")},
        teams=dict(zip(teams["team"].astype(str), teams["display_name"].astype(str), strict=True)),
        exceptions={str(r["exception_id"]): _strings(r) for r in exceptions.to_dict("records")},
        texts=texts,
        notes=notes,
        state=state,
        transition=transition,
        pages=pages,
    )


def _strings(row: Mapping[Any, Any]) -> dict[str, str]:
    out = {}
    for key, value in row.items():
        if value is None or value != value:  # None, NaN, NaT
            out[str(key)] = ""
        elif hasattr(value, "date") and hasattr(value, "hour"):
            moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
            out[str(key)] = clock.format_utc(moment)
        else:
            out[str(key)] = str(value)
    return out


def load_brief(
    digest: Mapping[str, Any],
    *,
    data: Any = None,
    workspace: str | Path | None = None,
) -> Brief:
    """The brief of ``digest`` with everything the sources and the workspace add to it."""
    from digestkit.workspace import annotations

    notes, state, transition = annotations(workspace, digest["digest_id"])
    # Digest pages live in digests/<id>/; revision pages in revisions/ of the same workspace.
    pages = "../../revisions/" if workspace is not None else None
    ctx = load_context(
        digest,
        data=data,
        notes=[{k: str(v) for k, v in n.items()} for n in notes],
        state=state,
        transition={k: str(v) for k, v in transition.items()} if transition else None,
        pages=pages,
        workspace=workspace,
    )
    return build_brief(digest, ctx)
