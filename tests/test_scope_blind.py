"""The scope guard on blind set 6: sentences written by someone who had not seen its rules.

The set was measured once and is kept out of the tuning loop; this test pins the measured
counts (not the targets), so any change to the guard moves them visibly. The issue's targets
are 95% caught at either level, at most 3% of in-scope sentences blocked and at most 10% asked
to confirm; the catch rate is below its target (92.7%), as the README says.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from digestkit.policy import check_sentence

BLIND6 = Path(__file__).parent / "data" / "scope_blind6.yaml"


def test_blind_set_6_rates_are_the_measured_ones() -> None:
    data = yaml.safe_load(BLIND6.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    assert caught == {"concession": 48, "case_routing": 45, "severity_declaration": 46}
    assert (blocked, confirm) == (1, 0)
    # Two of the three targets are met; the catch rate (139/150 = 92.7%) is not.
    assert blocked / len(ins) <= 0.03 and confirm / len(ins) <= 0.10
