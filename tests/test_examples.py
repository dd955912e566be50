"""The example Airflow DAG (examples/airflow/digestkit_dag.py).

Airflow itself is not installed in CI (too heavy for the test environment), so the DAG is
checked without it: it compiles, the command each mapped task runs is a valid
`digestkit run-event` command line, and its listing of new events agrees with the workspace
the event runner keeps. Loading it in a real scheduler is not tested here.
"""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path
from typing import Any

from digestkit import events
from digestkit import workspace as ws
from digestkit.cli import build_parser

DAG = Path(__file__).resolve().parents[1] / "examples" / "airflow" / "digestkit_dag.py"
TREE = ast.parse(DAG.read_text(encoding="utf-8"), filename=str(DAG))


def _constant(name: str) -> Any:
    for node in TREE.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            name
        ]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{DAG.name} has no constant {name}")


def _keyword(call_name: str, keyword: str) -> ast.expr:
    for node in ast.walk(TREE):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and f"{node.func.value.id}.{node.func.attr}" == call_name
        ):
            for kw in node.keywords:
                if kw.arg == keyword:
                    return kw.value
    raise AssertionError(f"{DAG.name} has no {call_name}({keyword}=...)")


def new_event_ids(feed: Path, workspace: Path) -> list[str]:
    """The DAG's own function, run without importing the DAG (which needs Airflow)."""
    function = next(
        n for n in TREE.body if isinstance(n, ast.FunctionDef) and n.name == "new_event_ids"
    )
    namespace: dict[str, Any] = {
        "json": json,
        "Path": Path,
        "HANDLED": _constant("HANDLED"),
    }
    module = ast.Module(body=[function], type_ignores=[])
    exec(compile(module, str(DAG), "exec"), namespace)
    return namespace["new_event_ids"](feed, workspace)


def test_the_dag_compiles() -> None:
    compile(TREE, str(DAG), "exec")


def test_each_mapped_task_runs_digestkit_run_event() -> None:
    command = _keyword("BashOperator.partial", "bash_command")
    code = compile(ast.Expression(command), str(DAG), "eval")
    text = eval(code, {"DIGESTKIT": _constant("DIGESTKIT")})
    env = {"EVENT_ID": "EVT-000010", "DIGESTKIT_DATA": "/d", "DIGESTKIT_WORKSPACE": "/w"}
    argv = shlex.split(text)
    for name, value in env.items():
        argv = [value if arg == f"${name}" else arg for arg in argv]
    assert Path(argv[0]).name == "digestkit"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "run-event"
    assert (args.event_id, str(args.data), str(args.workspace)) == ("EVT-000010", "/d", "/w")
    # The event id comes from the listing task through env, one mapped task per event.
    expand = next(
        n
        for n in ast.walk(TREE)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "expand"
    )
    assert [(k.arg, ast.unparse(k.value)) for k in expand.keywords] == [
        ("env", "list_new_events()")
    ]


def test_new_events_are_the_feed_events_the_workspace_has_not_handled(
    tiny_world: Path, tmp_path: Path
) -> None:
    feed = tiny_world / "feed" / "events.jsonl"
    workspace = tmp_path / "ws"
    every = [json.loads(line)["event_id"] for line in feed.read_text().splitlines()]
    assert new_event_ids(feed, workspace) == every  # no workspace yet
    ws.open_workspace(workspace)
    assert new_event_ids(feed, workspace) == every  # an empty one

    first, second = every[0], every[1]
    events.skip_event(
        second, by="u-lead", reason="Handled by hand.", data=tiny_world, workspace=workspace
    )
    assert new_event_ids(feed, workspace) == [e for e in every if e != second]
    events.skip_event(
        first, by="u-lead", reason="Handled by hand.", data=tiny_world, workspace=workspace
    )
    # Both handled, and the cursor moved past them.
    assert json.loads((workspace / "state" / "cursor.json").read_text())["next_line"] == 3
    assert new_event_ids(feed, workspace) == every[2:]

    with feed.open("a") as out:
        out.write("{not json\n")  # malformed: left to `digestkit run` to quarantine
        out.write(json.dumps({"event_id": "EVT-LATE"}))  # no newline yet: still being written
    assert new_event_ids(feed, workspace) == every[2:]
