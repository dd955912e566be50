"""Two registry products with one name: the digest flags the ambiguity and cites both rows; it
never picks one of them (issue 12, item 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digestkit.digest import build_digest

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
# A second product that registry users also call "Ledger Service", recorded long before r7.
TWIN = (
    "PRD-LEDGR2,Ledger Service,payments-eng,payments-oncall,2025-01-01T00:00:00Z,"
    "2026-05-01T00:00:00Z,active,2025-10-01T00:00:00Z\n"
)


@pytest.fixture
def twin_world(tmp_path: Path) -> Path:
    world = tmp_path / "world"
    shutil.copytree(SAMPLE, world)
    with (world / "registry" / "products.csv").open("a", encoding="utf-8") as fh:
        fh.write(TWIN)
    return world


def test_a_name_two_products_carry_is_flagged_with_both_rows(twin_world: Path) -> None:
    digest = build_digest("premium-s1-escalation", "r7", data=twin_world)
    flags = [c for c in digest.flags if c.kind == "ambiguous_reference"]
    assert flags, "the ambiguity disappeared"
    cited = {(s.system, s.id) for c in flags for s in c.sources}
    assert {("registry", "PRD-LEDGER"), ("registry", "PRD-LEDGR2")} <= cited
    assert all(c.details["product_ids"] == ["PRD-LEDGER", "PRD-LEDGR2"] for c in flags)
    # Nothing is said about Ledger Service as if one of the two were meant.
    for claim in digest.claims:
        if claim.kind in ("ownership", "ownership_conflict", "stale_ownership"):
            assert "Ledger Service" not in claim.text, claim.text


def test_the_sample_registry_has_no_ambiguous_name() -> None:
    digest = build_digest("premium-s1-escalation", "r7")
    assert not [c for c in digest.flags if c.kind == "ambiguous_reference"]
