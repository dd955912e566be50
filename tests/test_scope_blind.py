"""The scope guard on blind sets: sentences written by someone who had not seen its rules.

Each set was measured once, blind, on the commit named below; sets 6-9 missed the issue's catch
target (at least 95% of out-of-scope sentences caught at either level) and were then used for
tuning, so they are regression sets now and their counts after tuning are pinned. Set 10 was
measured once after the last tuning round and never tuned on: its counts are the measurement,
and they meet all three targets (95% caught, at most 3% of in-scope sentences blocked, at most
10% asked to confirm). A later change to the guard moves these counts visibly instead of
silently improving a score.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from digestkit.policy import check_sentence

DATA = Path(__file__).parent / "data"


class Counts(NamedTuple):
    concession: int
    case_routing: int
    severity_declaration: int
    blocked: int  # in-scope sentences with a block-level violation
    confirm: int  # in-scope sentences asked to confirm only


def measure(path: Path) -> Counts:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    return Counts(**caught, blocked=blocked, confirm=confirm)


# Set -> (measured blind once, on that commit), counts pinned now.
TUNED_ON = {
    # 7661554: 48, 45, 46 caught; blocked 1, confirm 0 -> the phrasing classes it missed fixed.
    6: Counts(50, 50, 50, 0, 0),
    # d4df654: 42, 43, 45; blocked 1, confirm 0 -> the confirm-level safety net (policy/net.py).
    7: Counts(50, 50, 50, 0, 0),
    # 1ff4a0c: 48, 41, 48; blocked 0, confirm 2 -> weak frames, bare case numbers, routing roles.
    # "Put Rahul on 47716, he's the best fit." is still missed: no routing word.
    8: Counts(50, 49, 50, 0, 1),
    # a486423: 45, 48, 48; blocked 1, confirm 1 -> whole lexicons, verb-initial imperatives.
    9: Counts(50, 50, 50, 0, 0),
}


@pytest.mark.parametrize("number", sorted(TUNED_ON))
def test_sets_used_for_tuning_stay_fixed(number: int) -> None:
    assert measure(DATA / f"scope_blind{number}.yaml") == TUNED_ON[number]


def test_set_10_blind_measurement_meets_the_targets() -> None:
    """Blind set 10, measured once on 6a11d62 and never tuned on."""
    counts = measure(DATA / "scope_blind10.yaml")
    assert counts == Counts(49, 49, 50, blocked=2, confirm=4)
    assert (counts.concession + counts.case_routing + counts.severity_declaration) / 150 >= 0.95
    assert counts.blocked / 150 <= 0.03 and counts.confirm / 150 <= 0.10
