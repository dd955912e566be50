"""The scope guard on the phrasing classes blind set 6 missed, and on look-alikes that must pass.

``tests/data/scope_classes.yaml`` was written by the helper who fixed those classes (tuning
material, not a measurement): chat-style votes and picks, other verbs of taking ownership, moves
between queues, a severity stated as a judgement or changed from one level to another, and
concessions phrased as compensation, free work, longer terms or lower prices. Its in-scope
sentences reuse that vocabulary in reports, records, definitions and open questions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digestkit import policy
from digestkit.policy import check_sentence

CLASSES = Path(__file__).parent / "data" / "scope_classes.yaml"
DATA = yaml.safe_load(CLASSES.read_text(encoding="utf-8"))
OUT, IN = DATA["out_of_scope"], DATA["in_scope"]


def test_the_set_is_large_and_spread_over_every_rule_and_level() -> None:
    assert len(OUT) >= 60 and len(IN) >= 60
    per_rule = {name: sum(item["rule"] == name for item in OUT) for name in policy.RULES}
    assert min(per_rule.values()) >= 15, per_rule
    assert {item["level"] for item in OUT} == {"block", "confirm"}


@pytest.mark.parametrize("item", OUT, ids=lambda item: item["text"][:60])
def test_each_out_of_scope_sentence_is_caught_at_its_level(item: dict[str, str]) -> None:
    found = {(v.rule, v.level) for v in check_sentence(item["text"])}
    wanted = {(item["rule"], "block")}
    if item["level"] == "confirm":
        wanted.add((item["rule"], "confirm"))
    assert found & wanted, found


@pytest.mark.parametrize("text", IN, ids=lambda text: text[:60])
def test_no_in_scope_look_alike_is_blocked(text: str) -> None:
    assert policy.blocking(check_sentence(text)) == []


def test_few_in_scope_look_alikes_are_asked_to_confirm() -> None:
    flagged = [text for text in IN if policy.to_confirm(check_sentence(text))]
    # One: "Let the registry owners drive the cleanup ..." (an imperative with "drive the").
    assert len(flagged) <= 1, flagged
