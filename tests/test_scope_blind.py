"""The scope guard on sets 6 and 7: sentences written by someone who had not seen its rules.

Blind set 6 was measured blind once, on commit 7661554: 92.7% caught (139/150: concession 48,
case routing 45, severity 46 of 50 each), 0.7% of in-scope sentences blocked (1/150) and 0%
asked to confirm. On 2026-11-29 it was then used for tuning (the classes it missed were fixed),
so it is a regression set now, not a measurement; this test pins its counts after that tuning.
The issue's targets are 95% caught at either level, at most 3% of in-scope sentences blocked
and at most 10% asked to confirm; only a new blind set (8) measures them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from digestkit.policy import check_sentence

BLIND6 = Path(__file__).parent / "data" / "scope_blind6.yaml"


def test_set_6_used_for_tuning_stays_fixed() -> None:
    data = yaml.safe_load(BLIND6.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    # Measured blind (7661554): 48, 45, 46 caught; blocked 1, confirm 0. After tuning on it:
    assert caught == {"concession": 50, "case_routing": 50, "severity_declaration": 50}
    assert (blocked, confirm) == (0, 0)


BLIND7 = Path(__file__).parent / "data" / "scope_blind7.yaml"


def test_set_7_used_for_tuning_stays_fixed() -> None:
    """Blind set 7 was measured blind once, on commit d4df654: 86.7% caught (130/150: concession
    42, case routing 43, severity 45 of 50 each), 0.7% of in-scope sentences blocked (1/150) and
    0% asked to confirm. On 2026-11-29 it was then used for tuning (the confirm-level safety net,
    ``digestkit/policy/net.py``, and the "Old revision:" quotation label), so it is a regression set
    now, not a measurement; this test pins its counts after that tuning. Only a new blind set (8)
    measures the issue's targets."""
    data = yaml.safe_load(BLIND7.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    # Measured blind (d4df654): 42, 43, 45 caught; blocked 1, confirm 0. After tuning on it:
    assert caught == {"concession": 50, "case_routing": 50, "severity_declaration": 50}
    assert (blocked, confirm) == (0, 0)


BLIND8 = Path(__file__).parent / "data" / "scope_blind8.yaml"


def test_set_8_used_for_tuning_stays_fixed() -> None:
    """Blind set 8 was measured blind once, on commit 1ff4a0c: 91.3% caught (137/150: concession
    48, case routing 41, severity 48 of 50 each), 0% of in-scope sentences blocked and 1.3% asked
    to confirm (2/150). On 2026-11-29 it was then used for tuning (the safety net's weak frames,
    bare case numbers, routing roles and live-case open questions), so it is a regression set now,
    not a measurement; this test pins its counts after that tuning. Only a new blind set (9)
    measures the issue's targets."""
    data = yaml.safe_load(BLIND8.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    # Measured blind (1ff4a0c): 48, 41, 48 caught; blocked 0, confirm 2. After tuning on it
    # ("Put Rahul on 47716, he's the best fit." is still missed: no routing word):
    assert caught == {"concession": 50, "case_routing": 49, "severity_declaration": 50}
    assert (blocked, confirm) == (0, 1)


BLIND9 = Path(__file__).parent / "data" / "scope_blind9.yaml"


def test_set_9_used_for_tuning_stays_fixed() -> None:
    """Blind set 9 was measured blind once, on commit a486423: 94.0% caught (141/150: concession
    45, case routing 48, severity 48 of 50 each), 0.7% of in-scope sentences blocked (1/150) and
    0.7% asked to confirm (1/150). On 2026-11-29 it was then used for tuning (widened domain
    lexicons, verb-initial imperatives from a verb lexicon, quotation-then-report and
    field-reads classes), so it is a regression set now, not a measurement; this test pins its
    counts after that tuning. Only a new blind set (10) measures the issue's targets."""
    data = yaml.safe_load(BLIND9.read_text(encoding="utf-8"))
    out, ins = data["out_of_scope"], data["in_scope"]
    assert (len(out), len(ins)) == (150, 150)
    caught = {"concession": 0, "case_routing": 0, "severity_declaration": 0}
    for item in out:
        caught[item["category"]] += bool(check_sentence(item["text"]))
    levels = [{v.level for v in check_sentence(item["text"])} for item in ins]
    blocked = sum("block" in lv for lv in levels)
    confirm = sum(lv == {"confirm"} for lv in levels)
    # Measured blind (a486423): 45, 48, 48 caught; blocked 1, confirm 1. After tuning on it:
    assert caught == {"concession": 50, "case_routing": 50, "severity_declaration": 50}
    assert (blocked, confirm) == (0, 0)
