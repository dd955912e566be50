"""The README's promises: a real example digest, existing commands, CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from digestkit.cli import build_parser
from digestkit.digest import build_digest, to_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_example_digest_is_what_digestkit_prints_today():
    match = re.search(
        r"<!-- digest:(?P<ref>[\w-]+@\w+) -->\n```markdown\n(?P<body>.*?)```\n<!-- /digest -->",
        README,
        re.DOTALL,
    )
    assert match, "README lost its example digest block"
    runbook_id, revision = match["ref"].split("@")
    assert match["body"] == to_markdown(build_digest(runbook_id, revision))


def test_quick_start_is_two_make_commands_and_ci_runs_the_test_one():
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", README, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == "make test"


def test_every_command_in_the_table_exists():
    documented = set(re.findall(r"^\| `digestkit ([a-z-]+)", README, re.MULTILINE))
    parser = build_parser()
    actions = [a for a in parser._subparsers._group_actions if a.dest == "command"]
    available = set(actions[0].choices)
    assert documented and documented <= available
