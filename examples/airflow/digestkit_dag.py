"""Airflow DAG: every five minutes, one `digestkit run-event` task per new feed event.

Each event becomes its own mapped task instance, so Airflow shows, retries and alerts per event;
`run-event` itself validates the event, builds the digest, renders the notebook and writes the
audit trail (docs/pipeline.md, "Running it from an orchestrator"). It is idempotent and takes the
workspace lock, so a retry or an overlapping run is safe.

"New" means: a valid event on a feed line at or after the workspace's cursor
(``state/cursor.json``) that has no handled outcome in ``state/events.jsonl`` yet; a failed event
stays new and is tried again on the next run. Malformed lines have no event id for `run-event`:
a periodic `digestkit run` (cron, or a daily DAG) quarantines them.

Set the paths below, or the Airflow Variables ``digestkit_data`` and ``digestkit_workspace``
(the feed is the data's ``feed/events.jsonl``). digestkit's CI checks this file's syntax, the
command it runs and which events it lists (tests/test_examples.py); Airflow itself is not
installed there (too heavy), so the DAG has not been loaded by a real scheduler in CI.
Written for Airflow 2.7+ and 3.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

try:  # Airflow 3 moved the decorators to the task SDK and BashOperator to a provider
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import Variable, dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.models import Variable
    from airflow.operators.bash import BashOperator

DIGESTKIT = "/srv/digestkit/.venv/bin/digestkit"  # the project's venv provides the notebook kernel
DATA = "/srv/data"
WORKSPACE = "/srv/handoff"
HANDLED = {"processed", "skipped", "duplicate", "quarantined"}


def new_event_ids(feed: Path, workspace: Path) -> list[str]:
    """Event ids of the feed that the workspace has not handled yet, in feed order."""
    cursor_file = workspace / "state" / "cursor.json"
    next_line = json.loads(cursor_file.read_text())["next_line"] if cursor_file.exists() else 1
    outcomes = workspace / "state" / "events.jsonl"
    handled = set()
    if outcomes.exists():
        for text in outcomes.read_text(encoding="utf-8").splitlines():
            record = json.loads(text)
            if record.get("status") in HANDLED and record.get("event_id"):
                handled.add(record["event_id"])
    ids: list[str] = []
    with feed.open(encoding="utf-8", errors="replace") as lines:
        for line_no, text in enumerate(lines, start=1):
            if line_no < next_line or not text.endswith("\n"):  # the writer may still be writing
                continue
            try:
                event_id = json.loads(text).get("event_id")
            except (ValueError, AttributeError):
                continue  # malformed: `digestkit run` quarantines it
            if isinstance(event_id, str) and event_id not in handled and event_id not in ids:
                ids.append(event_id)
    return ids


@dag(
    dag_id="digestkit_events",
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["digestkit"],
)
def digestkit_events() -> None:
    @task
    def list_new_events() -> list[dict[str, str]]:
        # Positional defaults: Airflow 2 calls the keyword default_var, Airflow 3 default.
        data = Variable.get("digestkit_data", DATA)
        workspace = Variable.get("digestkit_workspace", WORKSPACE)
        feed = Path(data) / "feed" / "events.jsonl"
        return [
            {"EVENT_ID": event_id, "DIGESTKIT_DATA": data, "DIGESTKIT_WORKSPACE": workspace}
            for event_id in new_event_ids(feed, Path(workspace))
        ]

    # Values reach the shell as environment variables, never pasted into the command line.
    BashOperator.partial(
        task_id="run_event",
        bash_command=(
            f'"{DIGESTKIT}" run-event "$EVENT_ID"'
            ' --data "$DIGESTKIT_DATA" --workspace "$DIGESTKIT_WORKSPACE"'
        ),
        append_env=True,
        retries=2,
        retry_delay=timedelta(minutes=2),
        max_active_tis_per_dag=1,  # run-event serialises on the workspace lock anyway
    ).expand(env=list_new_events())


digestkit_events()
