"""The package layout keeps its rules: no import cycle, small modules, __all__, one of each."""

from __future__ import annotations

import ast
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
        ("nbconvert's HTML exporter", "HTMLExporter(", "digestkit/render.py"),
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


def test_light_commands_do_not_import_heavy_libraries(tmp_path: Path) -> None:
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("# Runbook\n\n1. Page the primary.\n", "utf-8")
    new.write_text("# Runbook\n\n1. Page the primary on-call.\n", "utf-8")
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['digestkit', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('digestkit', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pandas', 'sqlalchemy', 'papermill') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy))\n"
    )
    for argv in (["--help"], ["diff", str(old), str(new)]):
        out = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip().splitlines()[-1] == "HEAVY", f"digestkit {argv[0]} imported: {out}"
