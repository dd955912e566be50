"""A git runbook repository as teams keep one: files anywhere, a revision's life in commits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import revision_text

from digestkit import fileio
from digestkit import sources as S
from digestkit import workspace as ws
from digestkit.cli import main
from digestkit.digest import build_digest
from digestkit.exceptions import RevisionError, SourceError
from digestkit.sample import write_git_repository

SAMPLE = Path(__file__).resolve().parents[1] / "digestkit" / "data" / "sample"
RB = "payments-s1"


class Repo:
    """A git work tree written commit by commit, each at a chosen time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: str = "2024-01-01T00:00:00Z") -> str:
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def commit(self, when: str, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                self.git("rm", "-q", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", name)
        self.git("commit", "-q", "-m", message, when=when)
        return self.git("rev-parse", "HEAD")


def rev(revision, status, *, supersedes=None, at=None, body="1. Page payments-oncall.\n"):
    approver = "j.doe" if status != "draft" else None
    published = at if status != "draft" else None
    return revision_text(RB, revision, status, supersedes, approver, published, body)


def world_on(tiny_world: Path, repo: Path, **settings: object) -> Path:
    lines = [f'runbooks = "{repo}"'] + [f"{k} = {v!r}" for k, v in settings.items()]
    (tiny_world / "sources.toml").write_text("\n".join(lines) + "\n")
    return tiny_world


def states(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["revision"], frame["status"].astype(str), strict=True))


@pytest.fixture
def lifecycle(tmp_path):
    """r1 drafted then published; r2 drafted, published, corrected, withdrawn: one commit each."""
    repo = Repo(tmp_path / "repo")
    repo.commit("2024-01-01T00:00:00Z", {"README.md": "# Runbooks\n\nHow we keep them.\n"})
    r1_pub = rev("r1", "published", at="2024-01-10T09:00:00Z")
    repo.commit("2024-01-05T09:00:00Z", {f"{RB}/r1.md": rev("r1", "draft")})
    repo.commit("2024-01-10T09:00:00Z", {f"{RB}/r1.md": r1_pub})
    repo.commit("2024-02-01T09:00:00Z", {f"{RB}/r2.md": rev("r2", "draft", supersedes="r1")})
    typo = "1. Page paymnets-oncall.\n"
    published = rev("r2", "published", supersedes="r1", at="2024-02-10T09:00:00Z", body=typo)
    repo.commit("2024-02-10T09:00:00Z", {f"{RB}/r2.md": published})
    corrected = rev("r2", "published", supersedes="r1", at="2024-02-10T09:00:00Z")
    repo.commit("2024-02-11T09:00:00Z", {f"{RB}/r2.md": corrected}, "fix a typo")
    withdrawn = rev("r2", "withdrawn", supersedes="r1", at="2024-02-10T09:00:00Z")
    repo.commit("2024-03-01T09:00:00Z", {f"{RB}/r2.md": withdrawn})
    return repo, {"published": published, "corrected": corrected, "withdrawn": withdrawn}


# --- layout --------------------------------------------------------------------------------------


def test_revisions_are_files_anywhere_and_other_files_are_ignored(tiny_world, tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit(
        "2024-01-10T09:00:00Z",
        {
            "README.md": "# Runbooks\n",
            "docs/style.md": "---\ntitle: Style guide\nlayout: page\n---\nWrite plainly.\n",
            "notes.txt": "---\nrunbook_id: not-markdown\n---\n",
            "teams/payments/severity-1/first.md": rev("r1", "published", at="2024-01-10T09:00:00Z"),
            f"{RB}-r2.md": rev("r2", "draft", supersedes="r1"),
        },
    )
    src = world_on(tiny_world, repo.path)
    assert S.open_sources(src).runbooks_are_git
    frame = S.load_revisions(src, runbook_id=RB, strict=True)
    assert states(frame) == [("r1", "published"), ("r2", "draft")]
    assert list(frame["path"]) == ["teams/payments/severity-1/first.md", f"{RB}-r2.md"]
    assert S.revision_problems(src) == []


def test_each_state_of_a_revision_is_a_commit_and_the_latest_wins(tiny_world, lifecycle):
    repo, texts = lifecycle
    src = world_on(tiny_world, repo.path)
    head = S.load_revisions(src, runbook_id=RB, strict=True)
    assert states(head) == [("r1", "published"), ("r2", "withdrawn")]
    r2 = S.get_revision(src, RB, "r2")
    assert r2["text"] == texts["withdrawn"] and "paymnets" not in r2["text"]

    def at(when: str) -> list[tuple[str, str]]:
        return states(S.load_revisions(src, runbook_id=RB, as_of=when))

    assert at("2024-01-06T00:00:00Z") == [("r1", "draft")]
    assert at("2024-01-20T00:00:00Z") == [("r1", "published")]
    assert at("2024-02-05T00:00:00Z") == [("r1", "published"), ("r2", "draft")]
    assert at("2024-02-20T00:00:00Z") == [("r1", "published"), ("r2", "published")]
    assert at("2024-03-02T00:00:00Z") == [("r1", "published"), ("r2", "withdrawn")]
    # Content as of each state: the typo until the fix, then the corrected text.
    on = {
        when: S.load_revisions(src, runbook_id=RB, as_of=when).set_index("revision").loc["r2"]
        for when in ("2024-02-10T12:00:00Z", "2024-02-12T00:00:00Z")
    }
    assert on["2024-02-10T12:00:00Z"]["text"] == texts["published"]
    assert on["2024-02-12T00:00:00Z"]["text"] == texts["corrected"]
    assert on["2024-02-12T00:00:00Z"]["published_at"] == pd.Timestamp("2024-02-10T09:00:00Z")

    history = S.revision_history(src, RB, "r2")
    assert list(history["status"]) == ["draft", "published", "published", "withdrawn"]
    assert list(history["committed_at"].dt.strftime("%m-%d")) == [
        "02-01",
        "02-10",
        "02-11",
        "03-01",
    ]
    assert history["commit"].str.fullmatch(r"[0-9a-f]{40}").all()
    assert history["published_at"].isna().tolist() == [True, False, False, False]


def test_a_merged_branch_takes_effect_when_merged(tiny_world, tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("2024-01-05T09:00:00Z", {f"{RB}/r1.md": rev("r1", "draft")})
    repo.git("checkout", "-q", "-b", "publish-r1")
    repo.commit(
        "2024-01-08T09:00:00Z", {f"{RB}/r1.md": rev("r1", "published", at="2024-01-08T09:00:00Z")}
    )
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "publish-r1", when="2024-01-10T09:00:00Z")
    src = world_on(tiny_world, repo.path)
    assert states(S.load_revisions(src, as_of="2024-01-09T00:00:00Z")) == [("r1", "draft")]
    assert states(S.load_revisions(src)) == [("r1", "published")]


def test_a_bare_repository_gives_the_same_revisions(tiny_world, lifecycle, tmp_path):
    repo, _ = lifecycle
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    work = S.load_revisions(world_on(tiny_world, repo.path))
    src = world_on(tiny_world, bare)
    assert S.open_sources(src).runbooks_are_git
    pd.testing.assert_frame_equal(S.load_revisions(src), work)
    assert len(S.revision_history(src, RB, "r2")) == 4


def test_a_shallow_clone_says_to_fetch_the_full_history(tiny_world, lifecycle, tmp_path):
    repo, _ = lifecycle
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", repo.path.as_uri(), str(shallow)], check=True
    )
    with pytest.raises(SourceError) as info:
        S.load_revisions(world_on(tiny_world, shallow))
    message = str(info.value)
    assert str(shallow) in message and "shallow clone" in message
    assert "fetch the full history (git fetch --unshallow)" in message


def test_an_empty_repository_is_named(tiny_world, tmp_path):
    repo = Repo(tmp_path / "repo")
    with pytest.raises(SourceError, match="no commits yet"):
        S.load_revisions(world_on(tiny_world, repo.path))


# --- files that cannot be read -------------------------------------------------------------------


def test_a_broken_draft_is_reported_and_the_rest_still_loads(tiny_world, lifecycle):
    repo, _ = lifecycle
    bomb = "---\nrunbook_id: &a [x, x]\nrevision: *a\n---\n"
    repo.commit(
        "2024-03-05T09:00:00Z",
        {
            f"{RB}/r3.md": bomb,
            "other/r1.md": rev("r1", "draft").replace("status: draft", "status:"),
        },
    )
    src = world_on(tiny_world, repo.path)
    assert states(S.load_revisions(src, runbook_id=RB)) == [
        ("r1", "published"),
        ("r2", "withdrawn"),
    ]
    problems = S.revision_problems(src)
    assert [p.error.path.rsplit(":", 1)[1] for p in problems] == ["other/r1.md", f"{RB}/r3.md"]
    assert "aliases" in str(problems[1].error) and "[x, x]" not in str(problems[1].error)
    assert problems[0].key == (RB, "r1") and problems[0].error.field == "status"
    # A digest of another revision still builds; the broken one is named when asked for.
    assert build_digest(RB, "r1", data=src).header.revision == "r1"
    with pytest.raises(RevisionError, match=r"payments-s1@r1 cannot be read"):
        S.get_revision(src, RB, "r1")
    with pytest.raises(SourceError, match=r"other/r1\.md"):
        S.load_revisions(src, strict=True)
    summary = S.summarize(src)
    assert "2 file(s) not read" in summary and summary.count("  problem: ") == 2
    # Fixed by a later commit, the problems are gone; the history before the fix keeps them.
    repo.commit("2024-03-06T09:00:00Z", {f"{RB}/r3.md": None, "other/r1.md": None})
    assert S.revision_problems(src) == []
    assert len(S.revision_problems(src, as_of="2024-03-05T12:00:00Z")) == 2


def test_a_commit_that_breaks_a_published_revision_names_it(tiny_world, lifecycle):
    repo, _ = lifecycle
    repo.commit("2024-03-05T09:00:00Z", {f"{RB}/r1.md": "---\nrunbook_id: [unclosed\n---\n"})
    src = world_on(tiny_world, repo.path)
    (problem,) = S.revision_problems(src)
    assert problem.key == (RB, "r1")  # the revision the file held before it broke
    with pytest.raises(RevisionError, match=r"cannot be read: .*invalid YAML"):
        S.get_revision(src, RB, "r1")
    # Before the breaking commit it read fine.
    assert "r1" in set(S.load_revisions(src, as_of="2024-03-02T00:00:00Z")["revision"])


def test_two_files_claiming_one_revision_are_both_reported(tiny_world, lifecycle):
    repo, _ = lifecycle
    repo.commit("2024-03-05T09:00:00Z", {"copy/r1.md": rev("r1", "published", at="2024-01-10")})
    src = world_on(tiny_world, repo.path)
    problems = S.revision_problems(src)
    assert [p.key for p in problems] == [(RB, "r1"), (RB, "r1")]
    assert all("copy/r1.md" in str(p.error) and "r1.md and" in str(p.error) for p in problems)
    assert states(S.load_revisions(src, runbook_id=RB)) == [("r2", "withdrawn")]


def test_the_size_limit_is_configurable_and_named(tiny_world, lifecycle):
    repo, _ = lifecycle
    big = rev("r3", "draft", supersedes="r2", body="x" * 3000 + "\n")
    repo.commit("2024-03-05T09:00:00Z", {f"{RB}/r3.md": big, "BIG-README.md": "y" * 5000})
    src = world_on(tiny_world, repo.path, max_revision_bytes=2000)
    (problem,) = S.revision_problems(src)
    assert problem.error.path.endswith(f"{RB}/r3.md") and problem.key == (RB, "r3")
    assert "over the 2000-byte limit" in str(problem.error)
    assert "max_revision_bytes in sources.toml" in str(problem.error)
    assert states(S.load_revisions(src, runbook_id=RB)) == [
        ("r1", "published"),
        ("r2", "withdrawn"),
    ]
    (tiny_world / "sources.toml").write_text(f'runbooks = "{repo.path}"\n')
    assert "r3" in set(S.load_revisions(tiny_world)["revision"])  # default limit: 5 MiB


# --- the sample world as a git repository, through the whole pipeline ----------------------------


@pytest.fixture(scope="module")
def git_world(tmp_path_factory):
    """The sample world with its runbooks read from `digestkit sample --git`'s repository."""
    base = tmp_path_factory.mktemp("sample-git")
    assert main(["sample", "--out", str(base / "world"), "--git", str(base / "repo")]) == 0
    world = base / "world"
    (world / "sources.toml").write_text(f'runbooks = "{base / "repo"}"\n')
    return world, base / "repo"


def _git(repo: Path, *args: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def test_sample_git_repository_is_kept_as_teams_keep_one(git_world, tmp_path):
    _, repo = git_world
    subjects = _git(repo, "log", "--reverse", "--format=%s")
    assert subjects[0] == "Add the README"

    def steps(revision: str) -> list[str]:
        prefix = f"premium-s1-escalation {revision}: "
        return [s.removeprefix(prefix).split(" ")[0] for s in subjects if s.startswith(prefix)]

    assert steps("r4") == ["draft", "publish"] and steps("r3") == ["draft"]
    assert steps("r5") == ["draft", "publish", "withdraw"]
    withdraw = _git(repo, "log", "-1", "--format=%cI %an", "--grep", "r5: withdraw")
    assert withdraw == [
        "2026-03-31T16:20:00+00:00 u-mokafor"
    ]  # as the feed's withdrawal event says
    # The same sample world always gives the same commits.
    again = write_git_repository(
        SAMPLE / "runbooks", tmp_path / "again", feed=SAMPLE / "feed" / "events.jsonl"
    )
    assert _git(again, "rev-parse", "HEAD") == _git(repo, "rev-parse", "HEAD")


def test_sample_git_repository_gives_the_folder_digests(git_world):
    world, _ = git_world
    pd.testing.assert_frame_equal(S.load_revisions(world), S.load_revisions(SAMPLE))
    published = S.load_revisions(SAMPLE).query("status == 'published'")
    assert len(published) == 9
    for runbook_id, revision in zip(published["runbook_id"], published["revision"], strict=True):
        folder = build_digest(runbook_id, revision, data=SAMPLE).to_dict()
        git = build_digest(runbook_id, revision, data=world).to_dict()
        assert json.dumps(git, sort_keys=True) == json.dumps(folder, sort_keys=True), revision


def test_digestkit_run_on_the_sample_git_repository(git_world, tmp_path, capsys):
    world, _ = git_world
    wanted = {"EVT-000001", "EVT-000004", "EVT-000005", "EVT-000006", "EVT-000007", "EVT-000008"}
    events = {
        line.event["event_id"]: line.event
        for line in S.iter_feed(S.open_sources(world))
        if line.event is not None and line.event["event_id"] in wanted
    }
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(event) + "\n" for event in events.values()))
    workspace = tmp_path / "ws"
    args = ["--data", str(world), "--workspace", str(workspace), "--feed", str(feed)]
    assert main(["run", *args]) == 0
    outcomes = fileio.read_jsonl(ws.open_workspace(workspace).events)
    assert [(o["event_id"], o["status"]) for o in outcomes] == [
        ("EVT-000001", "processed"),
        ("EVT-000004", "skipped"),  # a draft saved
        ("EVT-000005", "processed"),
        ("EVT-000006", "skipped"),  # r5, withdrawn since
        ("EVT-000007", "skipped"),  # its withdrawal: no digest to mark
        ("EVT-000008", "processed"),
    ]
    for outcome in outcomes:
        if outcome["status"] == "processed":
            event = events[outcome["event_id"]]
            folder = build_digest(event["runbook_id"], event["revision"], data=SAMPLE).to_dict()
            posted = workspace / "digests" / outcome["digest_id"] / "digest.json"
            assert posted.read_bytes() == fileio.canonical_json(folder)
            assert (posted.parent / "digest.html").stat().st_size > 0
    assert main(["audit", "verify", "--workspace", str(workspace)]) == 0
    shutil.rmtree(workspace)


def test_a_publication_event_is_digested_from_the_content_it_names(tiny_world, tmp_path, capsys):
    """A typo fixed by a later commit does not fail the publication event of the first text."""
    repo = Repo(tmp_path / "repo")
    r1 = rev("r1", "published", at="2024-01-10T09:00:00Z")
    repo.commit("2024-01-10T09:00:00Z", {f"{RB}/r1.md": r1})
    typo = "1. Page payments-oncall.\n2. Open the bridge in #paymnets-war-room.\n"
    draft = rev("r2", "draft", supersedes="r1", body=typo)
    repo.commit("2024-02-01T09:00:00Z", {f"{RB}/r2.md": draft})
    published = rev("r2", "published", supersedes="r1", at="2024-02-10T09:00:00Z", body=typo)
    repo.commit("2024-02-10T09:00:00Z", {f"{RB}/r2.md": published})
    fixed = published.replace("paymnets", "payments")
    repo.commit("2024-02-11T09:00:00Z", {f"{RB}/r2.md": fixed}, "fix a typo")
    src = world_on(tiny_world, repo.path)
    assert S.get_revision(src, RB, "r2")["text"] == fixed

    def event(event_id: str, revision: str, text: str) -> dict[str, str]:
        return {
            "event_id": event_id,
            "type": "runbook.published",
            "runbook_id": RB,
            "revision": revision,
            "occurred_at": "2024-02-10T09:00:00Z",
            "actor": "u123",
            "content_sha256": fileio.sha256_bytes(text.encode()),
        }

    feed = tmp_path / "feed.jsonl"
    lines = [event("EVT-000001", "r1", r1), event("EVT-000002", "r2", published)]
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    workspace = tmp_path / "ws"
    args = ["--data", str(src), "--workspace", str(workspace), "--feed", str(feed)]
    assert main(["run", *args]) == 0
    layout = ws.open_workspace(workspace)
    outcomes = fileio.read_jsonl(layout.events)
    assert [(o["event_id"], o["status"]) for o in outcomes] == [
        ("EVT-000001", "processed"),
        ("EVT-000002", "processed"),
    ]
    audit = ws.load_audit(layout, f"{RB}@r2")
    assert audit["revision_sha256"] == lines[1]["content_sha256"]
    posted = (workspace / "digests" / f"{RB}@r2" / "digest.json").read_text()
    assert "paymnets-war-room" in posted and "payments-war-room" not in posted

    # Bytes the revision held only as a draft, or never, were not published: still refused.
    lines += [event("EVT-000003", "r2", draft), event("EVT-000004", "r2", fixed + "3. More.\n")]
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["run", *args]) == 1
    outcomes = fileio.read_jsonl(layout.events)[2:]
    assert [(o["event_id"], o["status"]) for o in outcomes] == [
        ("EVT-000003", "failed"),
        ("EVT-000004", "failed"),
    ]
    assert all("nor any published state of it" in o["reason"] for o in outcomes)

    # A withdrawal names the bytes the revision was withdrawn with, even if committed to since.
    withdrawn = published.replace("status: published", "status: withdrawn")
    repo.commit("2024-03-01T09:00:00Z", {f"{RB}/r2.md": withdrawn})
    repo.commit("2024-03-02T09:00:00Z", {f"{RB}/r2.md": withdrawn + "Kept for the record.\n"})
    lines.append({**event("EVT-000005", "r2", withdrawn), "type": "runbook.withdrawn"})
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["run", *args]) == 1  # EVT-000003 and EVT-000004 still fail
    last = fileio.read_jsonl(layout.events)[-1]
    assert (last["event_id"], last["status"]) == ("EVT-000005", "processed")
    assert ws.load_audit(layout, f"{RB}@r2")["state"] == "withdrawn"
