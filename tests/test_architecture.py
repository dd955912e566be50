"""The package layout keeps its rules: no import cycle, small modules, __all__, one of each."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "digestkit"
MAX_LINES = 850  # "about 800": a module past this is doing more than one thing


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _runtime_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """digestkit modules imported at module level (not under TYPE_CHECKING, not in functions)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    if candidate in known:
                        found.add(candidate)
                    elif base in known:
                        found.add(base)

    visit(tree.body)
    found.discard(name)
    return found


def test_no_runtime_import_cycle() -> None:
    modules = _modules()
    graph = {name: _runtime_imports(name, path, set(modules)) for name, path in modules.items()}
    # A package importing its own submodules from __init__ is how re-exports work, not a cycle.
    for name in graph:
        graph[name] = {d for d in graph[name] if not d.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                walk(dep)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_is_small_and_declares_its_api(name: str) -> None:
    path = _modules()[name]
    lines = path.read_text("utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path}: {lines} lines; split it by concern"
    if path.name != "__main__.py":
        assert "__all__" in path.read_text("utf-8"), f"{path}: no __all__"


@pytest.mark.parametrize(
    ("concept", "pattern", "home"),
    [
        ("the UTC timestamp format", "%Y-%m-%dT%H:%M:%SZ", "digestkit/clock.py"),
        ("YAML front-matter parsing", "yaml.load", "digestkit/frontmatter.py"),
        ("natural sort of revision ids", 're.split(r"(\\d+)"', "digestkit/frontmatter.py"),
        ("the digest's parts", "PARTS: tuple[Part", "digestkit/digest.py"),
        ("nbconvert's HTML exporter", "HTMLExporter(", "digestkit/nbexport.py"),
        ("atomic file writes", "mkstemp(", "digestkit/fileio.py"),
    ],
)
def test_each_concept_is_written_once(concept: str, pattern: str, home: str) -> None:
    hits = subprocess.run(
        ["git", "grep", "-l", "-F", pattern, "--", "digestkit"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert hits == [home], f"{concept} should live in {home} only; found in {hits}"


HEAVY_PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['digestkit', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('digestkit', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "heavy = sorted(m for m in ('pandas', 'sqlalchemy', 'papermill') if m in sys.modules)\n"
    "print('HEAVY', ','.join(heavy))\n"
)


def _run_light(argv: list[str]) -> tuple[str, str]:
    """The command's output, and the heavy libraries it imported (comma separated)."""
    out = subprocess.run(
        [sys.executable, "-c", HEAVY_PROBE, *argv], capture_output=True, text=True, check=True
    ).stdout
    printed, _, last = out.rstrip("\n").rpartition("\n")
    assert last.startswith("HEAVY"), out
    return printed, last.removeprefix("HEAVY").strip()


def test_light_commands_do_not_import_heavy_libraries(tmp_path: Path) -> None:
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("# Runbook\n\n1. Page the primary.\n", "utf-8")
    new.write_text("# Runbook\n\n1. Page the primary on-call.\n", "utf-8")
    for argv in (["--help"], ["diff", str(old), str(new)]):
        _, heavy = _run_light(argv)
        assert heavy == "", f"digestkit {argv[0]} imported {heavy}"


@pytest.fixture(scope="module")
def git_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample world with its runbooks read from a git repository (``sample --git``)."""
    from digestkit.sample import write_git_repository
    from digestkit.sources.config import SAMPLE_DATA

    root = tmp_path_factory.mktemp("git-world")
    world = root / "world"
    shutil.copytree(SAMPLE_DATA, world, ignore=shutil.ignore_patterns("runbooks"))
    repo = write_git_repository(
        SAMPLE_DATA / "runbooks", root / "repo", feed=SAMPLE_DATA / "feed" / "events.jsonl"
    )
    (world / "sources.toml").write_text(f"runbooks = {json.dumps(str(repo))}\n", "utf-8")
    return world


@pytest.mark.parametrize("pair", [("r8", "r9"), ("r1", "r9")])
@pytest.mark.parametrize("repository", ["folder", "git"])
def test_a_diff_of_revision_ids_imports_no_heavy_library_and_prints_the_same(
    repository: str, pair: tuple[str, str], git_world: Path
) -> None:
    from digestkit import sources
    from digestkit.diff import diff_runbooks, to_markdown
    from digestkit.runbook import parse_runbook
    from digestkit.sources.config import SAMPLE_DATA

    data = git_world if repository == "git" else SAMPLE_DATA
    assert sources.open_sources(data).runbooks_are_git == (repository == "git")
    printed, heavy = _run_light(
        ["diff", *pair, "--runbook", "premium-s1-escalation", "--data", str(data)]
    )
    assert heavy == "", f"digestkit diff --runbook ({repository}) imported {heavy}"
    # The same diff built in this process through the pandas tables, as the command did before.
    teams = sources.load_teams(data)
    revs = [sources.get_revision(data, "premium-s1-escalation", r) for r in pair]
    old, new = (
        parse_runbook(
            r["text"],
            path=r["path"],
            products=sources.load_products(data)["product_name"].tolist(),
            teams=[*teams["team"], *teams["display_name"]],
            pagers=teams["pager"].tolist(),
        )
        for r in revs
    )
    expected = to_markdown(diff_runbooks(old, new))
    assert printed == expected
    if pair == ("r1", "r9"):  # a pair whose report depends on the registry's names
        unnamed = [parse_runbook(r["text"], path=r["path"]) for r in revs]
        assert to_markdown(diff_runbooks(*unnamed)) != expected
