"""No customer-sensitive value of the CRM or the exception register ever leaves digestkit.

Every sensitive value of the sample world (account names, contact names, e-mails, phones,
contract clauses, exception summaries) is searched for in every output a user or a log can see:
digest JSON and Markdown, the posted HTML and notebooks, audit records, the workspace's logs and
state files, the evaluation report and the command line's own output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digestkit import sources
from digestkit.digest import build_digest, to_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world():
    return sources.open_sources(None)


@pytest.fixture(scope="module")
def sensitive(world) -> re.Pattern[str]:
    values: set[str] = set()
    for loader, table in (
        (sources.load_accounts, "accounts"),
        (sources.load_contacts, "contacts"),
        (sources.load_entitlements, "entitlements"),
        (sources.load_exceptions, "exceptions"),
    ):
        frame = loader(world, include_sensitive=True)
        columns = sources.sensitive_columns(table)
        assert columns, table
        for column in columns:
            values.update(v for v in frame[column].dropna().astype(str) if len(v) >= 6)
    # names, e-mails, phones, clauses and summaries of the whole sample world
    assert len(values) > 2000
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def _assert_clean(pattern: re.Pattern[str], name: str, text: str) -> None:
    leak = pattern.search(text)
    assert leak is None, f"{name} leaks {leak.group(0)!r}"


def test_the_scan_finds_a_planted_leak(sensitive, world):
    name = sources.load_accounts(world, include_sensitive=True)["account_name"].iloc[0]
    with pytest.raises(AssertionError, match="leaks"):
        _assert_clean(sensitive, "planted", f"Call {name} now.")


def test_no_digest_json_or_markdown_carries_a_sensitive_value(world, sensitive):
    revisions = sources.load_revisions(world)
    published = revisions[revisions["status"] == "published"]
    assert len(published) >= 8
    for row in published.itertuples():
        digest = build_digest(row.runbook_id, row.revision)
        key = f"{row.runbook_id}@{row.revision}"
        _assert_clean(sensitive, f"{key} json", json.dumps(digest.to_dict(), ensure_ascii=False))
        _assert_clean(sensitive, f"{key} markdown", to_markdown(digest))


def test_no_pipeline_output_or_log_carries_a_sensitive_value(tmp_path, sensitive):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "digestkit" / "data" / "sample", data)
    workspace = tmp_path / "ws"
    env = {**os.environ, "DIGESTKIT_DATA": str(data)}
    outputs = []
    contact = sources.load_contacts(data, include_sensitive=True).iloc[0]
    account = sources.load_accounts(data, include_sensitive=True)["account_name"].iloc[1]
    digest_id, ws_arg = "premium-s1-escalation@r7", ["--workspace", str(workspace)]
    # People type too: a clarification or review that carries customer data is refused (exit 2)
    # and its value appears nowhere, not even in the refusal.
    typed = [
        ["clarify", digest_id, "--author", "u-dm", "--text", f"Call {contact.contact_name}."],
        ["clarify", digest_id, "--author", "u-dm", "--text", f"Mail {contact.email} first."],
        ["clarify", digest_id, "--author", "u-dm", "--text", f"Phone {contact.phone}."],
        ["clarify", digest_id, "--author", "u-dm", "--text", f"{account} agreed."],
        [
            *("review", digest_id, "--claim", "CHG-01", "--verdict", "corrected", "--text"),
            f"Step changed for {contact.contact_name}.",
            "--reviewer",
            "r",
        ],
        [
            *("review", digest_id, "--missed", f"Flag {account}.", "--part", "flags"),
            *("--source", "registry:PRD-PAYAPI", "--reviewer", "r"),
        ],
        [
            *("review", digest_id, "--missed", "Flag it.", "--part", "flags"),
            *("--source", f"crm:{contact.contact_name}", "--reviewer", "r"),
        ],
        ["clarify", digest_id, "--author", contact.email, "--text", "Checked."],
        ["share", digest_id, "--by", contact.contact_name.replace(" ", ".")],
        [
            *("review", digest_id, "--claim", "CHG-01", "--verdict", "accepted"),
            *("--reviewer", contact.contact_name.replace(" ", "_").lower()),
        ],
    ]
    steps = [
        (["run", *ws_arg], 0),
        *((args + ws_arg, 2) for args in typed),
        (["evaluate", *ws_arg, "--simulate", "--report"], 0),
        (["evaluate", *ws_arg, "--format", "json"], 0),
        (["audit", "verify", *ws_arg], 0),
    ]
    for args, code in steps:
        result = subprocess.run(
            [sys.executable, "-m", "digestkit", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert result.returncode == code, (args, result.stderr)
        if code == 2:
            refused = ("customer-sensitive data never goes into the workspace", "must be a user id")
            assert any(r in result.stderr for r in refused), result.stderr
        outputs.append((" ".join(args[:2]), result.stdout + result.stderr))
    for name, text in outputs:
        _assert_clean(sensitive, f"`digestkit {name}` output", text)
    files = [p for p in workspace.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".html", ".json", ".ipynb", ".log", ".jsonl"} <= kinds
    assert len(files) > 30
    for path in files:
        _assert_clean(sensitive, str(path.relative_to(workspace)), path.read_text(errors="replace"))


def test_world_b_runbook_customer_data_reaches_no_output(tmp_path):
    """World B's runbook names customers itself (tests/data/world_b r2): after a full run, its
    digests, HTML, notebooks, audit records, logs and command output carry none of it, in any
    spelling, and the redacted digest can be shared."""
    from world_b import RUNBOOK, build_world_b

    from digestkit.normalize import fold

    data = build_world_b(tmp_path / "world_b")
    values: set[str] = set()
    for loader, table in (
        (sources.load_accounts, "accounts"),
        (sources.load_contacts, "contacts"),
        (sources.load_entitlements, "entitlements"),
        (sources.load_exceptions, "exceptions"),
    ):
        frame = loader(data, include_sensitive=True)
        for column in sources.sensitive_columns(table):
            values.update(str(v) for v in frame[column].dropna())
    names = sources.load_contacts(data, include_sensitive=True)["contact_name"]
    values.update(n.split()[-1] for n in names if n.split()[-1] != "Page")  # an ordinary word
    folded = sorted({fold(v).text for v in values}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(v) for v in folded))
    runbook = (data / "runbooks" / RUNBOOK / "r2.md").read_text(encoding="utf-8")
    assert len(set(pattern.findall(fold(runbook).text))) >= 8  # the scan sees what r2 names

    workspace = tmp_path / "ws"
    env = {**os.environ, "DIGESTKIT_DATA": str(data)}
    ws_arg = ["--workspace", str(workspace)]
    digest_id = f"{RUNBOOK}@r2"
    steps = [
        (["run", *ws_arg], 0),
        (["digest", "--runbook", RUNBOOK, "--revision", "r2", "--format", "json"], 0),
        (["digest", "--runbook", RUNBOOK, "--revision", "r2", "--format", "markdown"], 0),
        # typed text is screened against the same customers, whatever the spelling
        (["clarify", digest_id, *ws_arg, "--author", "u-dm", "--text", "Ask Zo\u00adfia K."], 2),
        (["share", digest_id, *ws_arg, "--by", "u-lead"], 0),
        (["audit", "verify", *ws_arg], 0),
    ]
    outputs = []
    for args, code in steps:
        result = subprocess.run(
            [sys.executable, "-m", "digestkit", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert result.returncode == code, (args, result.stderr)
        outputs.append((" ".join(args[:2]), result.stdout + result.stderr))
    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert {".html", ".json", ".ipynb", ".log"} <= {p.suffix for p in files}
    shown = [
        *outputs,
        *((str(p.relative_to(workspace)), p.read_text(errors="replace")) for p in files),
    ]
    for name, text in shown:
        leak = pattern.search(fold(text).text)
        assert leak is None, f"{name} leaks {leak.group(0)!r}"
    assert "CON-B001" in outputs[2][1]  # the pseudonymous id stands in the name's place
