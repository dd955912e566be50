"""The sample-world generator: determinism, layout, planted cases and their gold labels."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from digestkit import sources
from digestkit.exceptions import DigestkitError
from digestkit.sample import generate_world, write_git_repository
from digestkit.sources import SCHEMAS

COMMITTED = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
CHANGE_CLASSES = {
    "paging_target_changed", "step_added", "step_removed", "step_reworded", "steps_reordered",
    "list_renumbered", "formatting_only", "checkpoint_time_changed", "ownership_moved",
    "exception_added", "exception_removed", "exception_pending_referenced", "section_renamed",
    "escalate_after_changed", "open_question_added", "unknown_reference_added",
}  # fmt: skip
ISSUE_KINDS = {
    "ownership_conflict", "stale_ownership", "exception_not_approved", "exception_expired",
    "exception_expiring", "orphaned_exception", "ambiguous_carve_out",
    "unsupported_impact_assumption", "unknown_reference", "open_question",
}  # fmt: skip


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world") / "sample"
    generate_world(out)
    return out


@pytest.fixture(scope="module")
def gold(world) -> dict:
    return json.loads((world / "gold" / "labels.json").read_text("utf-8"))


def front_matter(path: Path) -> dict[str, str]:
    text = path.read_text("utf-8").split("---\n")[1]
    return {k: v.strip().strip('"') for k, v in (line.split(": ", 1) for line in text.splitlines())}


def lines_of(world: Path, key: str) -> list[str]:
    runbook_id, revision = key.split("@")
    return (world / "runbooks" / runbook_id / f"{revision}.md").read_text("utf-8").splitlines()


def test_same_seed_gives_byte_identical_files(world, tmp_path):
    again = generate_world(tmp_path / "again")
    assert again["path"] == str(tmp_path / "again")
    assert files_of(world) == files_of(tmp_path / "again")
    other = files_of(Path(generate_world(tmp_path / "other", seed=8)["path"]))
    assert set(other) == set(files_of(world))
    assert other["crm.sqlite"] != files_of(world)["crm.sqlite"]
    assert other["exceptions/register.csv"] != files_of(world)["exceptions/register.csv"]


def test_committed_sample_equals_a_fresh_generation(world):
    assert COMMITTED.is_dir(), "regenerate: digestkit sample --out digestkit/data/sample"
    committed, fresh = files_of(COMMITTED), files_of(world)
    assert sorted(committed) == sorted(fresh)
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert stale == [], "the packaged sample is stale: digestkit sample --out digestkit/data/sample"


def test_world_json_lists_every_file_and_the_counts(world):
    info = json.loads((world / "world.json").read_text("utf-8"))
    assert sorted(info["files"]) == sorted(files_of(world))
    assert info["parameters"] == {
        "seed": 7,
        "accounts": 600,
        "steps": 14,
        "products": 12,
        "exceptions": 40,
    }
    assert info["counts"]["accounts"] == 600
    assert info["runbooks"]["premium-s1-escalation"]["r5"] == "withdrawn"
    assert sum((world / p).stat().st_size for p in info["files"]) < 3_000_000


def test_every_published_revision_has_gold(world, gold):
    published = {
        f"{p.parent.name}@{p.stem}"
        for p in (world / "runbooks").glob("*/*.md")
        if front_matter(p)["status"] == "published"
    }
    assert len(published) == 9
    assert set(gold["revisions"]) == published
    for key, entry in gold["revisions"].items():
        meta = front_matter(world / "runbooks" / entry["runbook_id"] / f"{entry['revision']}.md")
        assert entry["as_of"] == meta["published_at"], key
    assert gold["revisions"]["premium-s1-escalation@r4"]["baseline"] == "r2"  # r3 is a draft
    assert gold["revisions"]["premium-s1-escalation@r6"]["baseline"] == "r4"  # r5 was withdrawn
    assert gold["revisions"]["premium-s1-escalation@r1"]["baseline"] is None


def test_every_change_class_and_issue_kind_is_planted(gold):
    entries = gold["revisions"].values()
    assert {c["class"] for e in entries for c in e["changes"]} == CHANGE_CLASSES
    assert {i["kind"] for e in entries for i in e["issues"]} == ISSUE_KINDS
    for entry in entries:
        for change in entry["changes"]:
            assert (change["kind"] is None) == (change["class"] == "formatting_only")


def test_gold_lines_are_inside_the_files_and_show_the_ref(world, gold):
    for key, entry in gold["revisions"].items():
        new = lines_of(world, key)
        old = (
            lines_of(world, f"{entry['runbook_id']}@{entry['baseline']}")
            if entry["baseline"]
            else []
        )
        for change in entry["changes"]:
            for span, text in ((change["old_lines"], old), (change["new_lines"], new)):
                if span is not None:
                    assert 1 <= span[0] <= span[1] <= len(text), (key, change)
            if change["ref"] and change["new_lines"]:
                first, last = change["new_lines"]
                assert change["ref"] in "\n".join(new[first - 1 : last]), (key, change)
            heading = change["section"][-1]
            assert f"## {heading}" in new or f"# {heading}" in new or f"## {heading}" in old
        for issue in entry["issues"]:
            if issue["lines"] is None:
                assert issue["kind"] == "orphaned_exception"
                continue
            first, last = issue["lines"]
            assert 1 <= first <= last <= len(new)
            shown = "\n".join(new[first - 1 : last])
            refs = issue.get("refs") or [issue["ref"]]
            if issue["kind"] not in (
                "stale_ownership",
                "ownership_conflict",
                "unsupported_impact_assumption",
            ):
                assert all(ref in shown for ref in refs), (key, issue)


def test_formatting_only_edits_keep_the_wording_and_moves_keep_the_step(world, gold):
    def words(lines: list[str]) -> str:
        return re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", "\n".join(lines), flags=re.M).split()

    seen = set()
    for key, entry in gold["revisions"].items():
        new = lines_of(world, key)
        old = (
            lines_of(world, f"{entry['runbook_id']}@{entry['baseline']}")
            if entry["baseline"]
            else []
        )
        for change in entry["changes"]:
            if change["class"] not in ("formatting_only", "steps_reordered", "list_renumbered"):
                continue
            (a, b), (c, d) = change["old_lines"], change["new_lines"]
            assert old[a - 1 : b] != new[c - 1 : d], (key, change)
            assert words(old[a - 1 : b]) == words(new[c - 1 : d]), (key, change)
            seen.add(change["class"])
    assert seen == {"formatting_only", "steps_reordered", "list_renumbered"}


def test_unchanged_sections_are_textually_identical(world, gold):
    def section(lines: list[str], heading: str) -> list[str]:
        start = lines.index(f"## {heading}")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        return lines[start:end]

    for key, entry in gold["revisions"].items():
        if not entry["baseline"]:
            continue
        old, new = (
            lines_of(world, f"{entry['runbook_id']}@{entry['baseline']}"),
            lines_of(world, key),
        )
        headings = [line[3:] for line in new if line.startswith("## ")]
        unchanged = {s[-1] for s in entry["unchanged_sections"]}
        for heading in headings:
            same = f"## {heading}" in old and section(old, heading) == section(new, heading)
            assert (heading in unchanged) == same, (key, heading)


def test_script_snippet_is_in_a_published_step(world, gold):
    text = "\n".join(lines_of(world, "premium-s1-escalation@r9"))
    assert text.count("<script>alert(1)</script>") == 1


def test_tables_csvs_and_feed_follow_the_schemas(world):
    for name, table in (
        ("registry/products.csv", "products"),
        ("registry/teams.csv", "teams"),
        ("registry/known_issues.csv", "known_issues"),
        ("exceptions/register.csv", "exceptions"),
    ):
        with (world / name).open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == [c.name for c in SCHEMAS[table]]
    con = sqlite3.connect(world / "crm.sqlite")
    for table in ("accounts", "contacts", "entitlements"):
        columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
        assert columns == [c.name for c in SCHEMAS[table]]
        flagged = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM column_catalog WHERE table_name = ? AND sensitive = 1",
                (table,),
            )
        }
        assert flagged == {c.name for c in SCHEMAS[table] if c.sensitive}
    tiers = dict(con.execute("SELECT tier, count(*) FROM accounts GROUP BY tier").fetchall())
    assert set(tiers) == {"Standard", "Premium", "Premium Plus"}
    con.close()

    lines = (world / "feed" / "events.jsonl").read_text("utf-8").splitlines()
    assert len(lines) - len(set(lines)) == 1  # one re-delivered event
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append(None)
    assert parsed.count(None) == 1
    for event in filter(None, parsed):
        assert list(event) == [c.name for c in SCHEMAS["events"]]
        data = (world / "runbooks" / event["runbook_id"] / f"{event['revision']}.md").read_bytes()
        assert event["content_sha256"] == hashlib.sha256(data).hexdigest()
    times = [e["occurred_at"] for e in parsed if e]
    assert times == sorted(times)


def test_the_loaders_read_the_world_and_no_sensitive_text_is_in_a_runbook(world):
    src = sources.open_sources(world)
    assert len(sources.load_revisions(src)) == 12
    assert len(sources.load_exceptions(src)) == 40
    texts = "\n".join(p.read_text("utf-8") for p in (world / "runbooks").glob("*/*.md"))
    register = sources.load_exceptions(src, include_sensitive=True)
    accounts = sources.load_accounts(src, include_sensitive=True)
    for value in [*register["summary"], *accounts["account_name"]]:
        assert value not in texts


def test_a_scaled_world_plants_the_same_cases(gold, tmp_path):
    info = generate_world(
        tmp_path / "big", accounts=20_000, steps=40, products=60, exceptions=3_000
    )
    assert info["counts"]["accounts"] == 20_000
    assert info["counts"]["entitlements"] > 20_000
    big = json.loads((tmp_path / "big" / "gold" / "labels.json").read_text("utf-8"))

    def planted(labels: dict) -> set:
        return {
            (key, i["kind"], i["ref"])
            for key, e in labels["revisions"].items()
            for i in e["issues"]
        } | {
            (key, c["class"], c["ref"])
            for key, e in labels["revisions"].items()
            for c in e["changes"]
        }

    assert planted(big) == planted(gold)
    r1 = (tmp_path / "big" / "runbooks" / "premium-s1-escalation" / "r1.md").read_text("utf-8")
    assert "\n40. " in r1 and "\n41. " not in r1
    # Two tables (paging, ownership), each with a header, a separator and 40 product rows.
    assert sum(line.startswith("| ") for line in r1.splitlines()) == 2 * (2 + 40)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"accounts": 10}, "--accounts must be at least 50"),
        ({"products": 3}, "--products must be at least 8"),
        ({"steps": 2}, "--steps must be at least 10"),
        ({"exceptions": 1}, "--exceptions must be at least 10"),
        ({"exceptions": 700}, "must not exceed --accounts"),
        ({"seed": -1}, "--seed must be a non-negative integer"),
        ({"accounts": "600"}, "--accounts must be an integer"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, options, message):
    with pytest.raises(DigestkitError, match=message):
        generate_world(tmp_path / "out", **options)
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_foreign_directory_but_replaces_a_previous_world(tmp_path):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(DigestkitError, match="refusing to overwrite"):
        generate_world(foreign)
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]

    out = tmp_path / "world"
    generate_world(out, seed=1)
    (out / "stray.txt").write_text("left over")
    generate_world(out, seed=2)
    assert not (out / "stray.txt").exists()
    assert json.loads((out / "world.json").read_text())["parameters"]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "world"]  # no temp dirs left


def test_git_repository_holds_every_revision_in_order(world, tmp_path):
    repo = write_git_repository(world / "runbooks", tmp_path / "repo")
    tags = subprocess.run(
        ["git", "-C", str(repo), "tag", "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    # Publications are tagged (drafts are not): 10 of the 12 revisions were published.
    assert len(tags) == 10 and "premium-s1-escalation/r9" in tags
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", "premium-s1-escalation/r4:premium-s1-escalation/r4.md"],
        capture_output=True,
        check=True,
    ).stdout
    assert shown == (world / "runbooks" / "premium-s1-escalation" / "r4.md").read_bytes()
    again = write_git_repository(world / "runbooks", tmp_path / "again")
    head = ["rev-parse", "HEAD"]
    assert subprocess.run(
        ["git", "-C", str(repo), *head], capture_output=True, check=True
    ).stdout == (
        subprocess.run(["git", "-C", str(again), *head], capture_output=True, check=True).stdout
    )
    folder = sources.load_revisions(world)
    from_git = sources.load_revisions(
        sources.DataSources(**{**vars(sources.open_sources(world)), "runbooks": repo})
    )
    assert list(from_git["sha256"]) == list(folder["sha256"])
    with pytest.raises(DigestkitError, match="not empty"):
        write_git_repository(world / "runbooks", repo)
