"""Command-line interface: parses arguments and calls the library, nothing else."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from digestkit.exceptions import DigestkitError, UsageError

if TYPE_CHECKING:
    from digestkit.events import PassResult

__all__ = ["build_parser", "console_main", "main"]

# Kept here, not imported from digestkit.workspace: `digestkit --help` imports no library module.
DEFAULT_WORKSPACE = Path("reports/workspace")
DEBUG_HELP = "show tracebacks on errors"


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data directory of the source systems (default: the embedded sample world)",
    )


def _workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        type=Path,
        default=DEFAULT_WORKSPACE,
        help=f"handoff workspace directory (default: {DEFAULT_WORKSPACE})",
    )


def _print_json(payload: object) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


def cmd_sample(args: argparse.Namespace) -> int:
    from digestkit.sample import generate_world, write_git_repository

    summary = generate_world(
        args.out,
        seed=args.seed,
        accounts=args.accounts,
        steps=args.steps,
        products=args.products,
        exceptions=args.exceptions,
    )
    if args.git is not None:
        out = Path(summary["path"])
        repo = write_git_repository(out / "runbooks", args.git, feed=out / "feed" / "events.jsonl")
        summary["git"] = str(repo)
    _print_json(summary)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    if args.index_sql:
        from digestkit.sources.lookup import lookup_indexes

        print("\n".join(f"{statement};" for statement in lookup_indexes(args.index_sql).values()))
        return 0
    from digestkit.sources import open_sources, summarize

    print(summarize(open_sources(args.data)))
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    from digestkit import render
    from digestkit.evaluation.report import REPORT_NOTEBOOK
    from digestkit.sources.config import SAMPLE_DATA

    paths = {
        "digest-notebook": render.DIGEST_NOTEBOOK,
        "report-notebook": REPORT_NOTEBOOK,
        "nbconvert-template": render.NBCONVERT_TEMPLATE,
        "sample-data": SAMPLE_DATA,
    }
    print(paths[args.what])
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from digestkit import diff as diffmod

    if args.runbook:
        result = diffmod.diff_revisions(args.runbook, args.old, args.new, data=args.data)
    else:
        result = diffmod.diff_files(args.old, args.new)
    if args.format == "json":
        _print_json(result.to_dict())
    elif args.format == "markdown":
        print(diffmod.to_markdown(result))
    else:
        print(diffmod.to_html(result))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from digestkit.digest import build_digest, to_markdown

    thresholds = {
        name: getattr(args, name)
        for name in ("stale_after_days", "expiring_within_days")
        if getattr(args, name) is not None
    }
    digest = build_digest(
        args.runbook,
        args.revision,
        baseline=args.baseline,
        data=args.data,
        as_of=args.as_of,
        **thresholds,
    )
    if args.format == "json":
        _print_json(digest.to_dict())
    else:
        print(to_markdown(digest, data=args.data), end="")
    return 0


def _feed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feed",
        type=Path,
        default=None,
        help="change feed (default: the data's feed/events.jsonl)",
    )


def _kernel_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fresh-kernel",
        action="store_true",
        help="start a new kernel for every digest notebook instead of keeping one warm",
    )


def _log_progress() -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("digestkit: %(message)s"))
    logger = logging.getLogger("digestkit.events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _report_pass(result: PassResult) -> int:
    print(result.index)
    if result.failed:
        print(
            f"digestkit: {len(result.failed)} event(s) failed and will be retried on the next run; "
            "see state/events.jsonl in the workspace",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from digestkit.events import watch

    _log_progress()
    result = watch(
        data=args.data,
        workspace=args.workspace,
        feed=args.feed,
        once=True,
        warm_kernel=not args.fresh_kernel,
    )
    return _report_pass(result)


def cmd_watch(args: argparse.Namespace) -> int:
    from digestkit.events import watch

    _log_progress()
    try:
        result = watch(
            data=args.data,
            workspace=args.workspace,
            feed=args.feed,
            once=args.once,
            interval=args.interval,
            warm_kernel=not args.fresh_kernel,
        )
    except KeyboardInterrupt:
        return 0
    return _report_pass(result)


def cmd_run_event(args: argparse.Namespace) -> int:
    from digestkit.events import run_event

    _log_progress()
    outcome = run_event(args.event_id, data=args.data, workspace=args.workspace, feed=args.feed)
    return 1 if outcome.status == "failed" else 0


def cmd_skip_event(args: argparse.Namespace) -> int:
    from digestkit.events import skip_event

    _log_progress()
    skip_event(
        args.event_id,
        by=args.by,
        reason=args.reason,
        data=args.data,
        workspace=args.workspace,
        feed=args.feed,
    )
    return 0


def cmd_clarify(args: argparse.Namespace) -> int:
    from digestkit import workspace as ws

    layout = ws.open_workspace(args.workspace, create=False)
    ws.clarify(layout, args.digest, author=args.author, text=args.text, claim=args.claim)
    print(layout.digest_dir(args.digest) / "digest.html")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    from digestkit import workspace as ws

    layout = ws.open_workspace(args.workspace, create=False)
    ws.share(layout, args.digest, by=args.by, confirm_scope=args.confirm_scope)
    print(layout.digest_dir(args.digest) / "digest.html")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from digestkit import journal
    from digestkit import workspace as ws
    from digestkit.audit import verify_audit

    layout = ws.open_workspace(args.workspace, create=False)
    # Under the lock, after completing or undoing a change a killed process left.
    with journal.locked(layout):
        problems = verify_audit(layout, expect_head=args.expect_head)
    for p in problems:
        print(f"{p.location(layout)}: {p.message}", file=sys.stderr)
    if problems:
        return 1
    anchored = " and contains the expected head" if args.expect_head else ""
    print(f"{layout.audit_log}: intact{anchored} (and every digest folder matches it)")
    return 0


def cmd_audit_head(args: argparse.Namespace) -> int:
    from digestkit import journal
    from digestkit import workspace as ws
    from digestkit.audit import read_head
    from digestkit.exceptions import WorkspaceError

    layout = ws.open_workspace(args.workspace, create=False)
    with journal.locked(layout):
        head, problem = read_head(layout)
    if problem:
        raise WorkspaceError(f"{problem}; run digestkit audit verify")
    if head is None:
        raise WorkspaceError(f"{layout.audit_log} has no entries yet, so there is no head")
    print(head["hash"])
    print(f"digestkit: seq {head['seq']}; keep this hash outside the workspace", file=sys.stderr)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from digestkit import review

    if args.usefulness is not None:
        record = review.add_usefulness(
            args.workspace,
            args.digest,
            rating=args.usefulness,
            reviewer=args.reviewer,
            text=args.text,
        )
    elif args.missed is not None:
        if not args.part or not args.source:
            raise UsageError("--missed needs --part and --source SYSTEM:ID[:LOCATOR]")
        record = review.add_missed(
            args.workspace,
            args.digest,
            text=args.missed,
            part=args.part,
            source=args.source,
            kind=args.kind,
            reviewer=args.reviewer,
            data=args.data,
        )
    else:
        if not args.verdict:
            raise UsageError("--claim needs --verdict accepted|corrected|rejected")
        record = review.add_review(
            args.workspace,
            args.digest,
            claim_id=args.claim,
            verdict=args.verdict,
            text=args.text,
            reviewer=args.reviewer,
        )
    _print_json(record)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from digestkit import evaluation

    if args.replay:
        if args.period or args.report or args.simulate:
            raise UsageError(
                "--replay rebuilds every published revision in-process and scores it against the "
                "gold labels; it takes no --period, --report or --simulate"
            )
        frame = evaluation.replay(args.data, progress=True)
        summary = evaluation.replay_summary(frame)
        if args.format == "json":
            _print_json({**summary, "rows": evaluation.replay_records(frame)})
        else:
            print(evaluation.replay_markdown(frame))
        return 0
    if args.simulate:
        evaluation.simulate_reviews(args.workspace, seed=args.seed, data=args.data)
    if args.report:
        print(evaluation.render_report(args.workspace, period=args.period, data=args.data))
        return 0
    result = evaluation.evaluate(args.workspace, data=args.data, period=args.period)
    if args.format == "json":
        _print_json(result.to_dict())
    else:
        print(result.to_markdown())
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line like every other digestkit error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from digestkit import __version__

    parser = _Parser(
        prog="digestkit",
        description="Grounded handoff digests for published runbook revisions.",
    )
    parser.add_argument("--version", action="version", version=f"digestkit {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        # Also accepted after the command name; SUPPRESS keeps a leading --debug in force.
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        return p

    p = command("sample", cmd_sample, "generate a deterministic sample world of the six sources")
    p.add_argument("--out", type=Path, required=True, help="directory to write the world into")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--accounts", type=int, default=600)
    p.add_argument("--steps", type=int, default=14, help="escalation steps in the main runbook")
    p.add_argument("--products", type=int, default=12)
    p.add_argument("--exceptions", type=int, default=40)
    p.add_argument(
        "--git", type=Path, help="also write the runbooks as a git repository into this directory"
    )

    p = command("sources", cmd_sources, "load every source and print a short summary")
    _data_option(p)
    p.add_argument(
        "--index-sql",
        choices=("sqlite", "postgresql"),
        help="print instead the CREATE INDEX statements that let the sensitive-data screen "
        "look names up in your CRM without reading every row",
    )

    p = command("path", cmd_path, "print where a file shipped in the package is (for schedulers)")
    p.add_argument(
        "what",
        choices=("digest-notebook", "report-notebook", "nbconvert-template", "sample-data"),
    )

    p = command("diff", cmd_diff, "semantic diff of two runbook revisions")
    p.add_argument("old", help="old revision: a Markdown file, or a revision id with --runbook")
    p.add_argument("new", help="new revision: a Markdown file, or a revision id with --runbook")
    p.add_argument("--runbook", help="treat OLD and NEW as revision ids of this runbook")
    p.add_argument("--format", choices=("json", "markdown", "html"), default="markdown")
    _data_option(p)

    p = command("digest", cmd_digest, "build the handoff digest of one published revision")
    p.add_argument("--runbook", required=True)
    p.add_argument("--revision", required=True)
    p.add_argument("--baseline", help="baseline revision (default: previous published revision)")
    p.add_argument("--as-of", dest="as_of", help="read the sources as of this ISO time")
    p.add_argument("--format", choices=("json", "markdown"), default="markdown")
    p.add_argument(
        "--stale-after-days",
        type=int,
        help="flag ownership not verified for more than this many days (default: 90)",
    )
    p.add_argument(
        "--expiring-within-days",
        type=int,
        help="flag referenced exceptions that expire within this many days (default: 30)",
    )
    _data_option(p)

    p = command("run", cmd_run, "process the whole change feed once and print the index path")
    _data_option(p)
    _workspace_option(p)
    _feed_option(p)
    _kernel_option(p)

    p = command("watch", cmd_watch, "process the change feed now and then every --interval seconds")
    p.add_argument("--once", action="store_true", help="process the feed once and exit")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    _data_option(p)
    _workspace_option(p)
    _feed_option(p)
    _kernel_option(p)

    p = command("run-event", cmd_run_event, "handle one event of the change feed now")
    p.add_argument("event_id", metavar="EVENT_ID", help="event id, e.g. EVT-000010")
    _data_option(p)
    _workspace_option(p)
    _feed_option(p)

    p = command(
        "skip-event", cmd_skip_event, "record a failing event as skipped so the feed moves on"
    )
    p.add_argument("event_id", metavar="EVENT_ID", help="event id, e.g. EVT-000010")
    p.add_argument("--by", required=True, help="who decided to skip it (user id)")
    p.add_argument("--reason", required=True, help="why the event cannot be handled")
    _data_option(p)
    _workspace_option(p)
    _feed_option(p)

    p = command("clarify", cmd_clarify, "add a reviewer's clarification to a digest")
    p.add_argument("digest", metavar="DIGEST", help="digest id, e.g. premium-s1-escalation@r7")
    p.add_argument("--author", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--claim", metavar="ID", help="the claim it answers, e.g. FLG-02")
    _workspace_option(p)

    p = command("share", cmd_share, "mark a digest reviewed for duty-manager handoff")
    p.add_argument("digest", metavar="DIGEST", help="digest id, e.g. premium-s1-escalation@r7")
    p.add_argument("--by", required=True, help="who reviewed it")
    p.add_argument(
        "--confirm-scope",
        action="store_true",
        help="confirm the sentences the scope guard asks about only inform (logged with who, when)",
    )
    _workspace_option(p)

    p = command("audit", cmd_audit_verify, "check the workspace audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="report edited, reordered or deleted audit.log entries")
    v.set_defaults(func=cmd_audit_verify)
    v.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head printed by `digestkit audit head` and kept elsewhere: it must be in the chain",
    )
    _workspace_option(v)
    h = audit_sub.add_parser("head", help="print the hash of the last audit.log entry (the head)")
    h.set_defaults(func=cmd_audit_head)
    _workspace_option(h)

    p = command("review", cmd_review, "record a reviewer's verdict on a claim, or a missed item")
    p.add_argument("digest", metavar="DIGEST", help="digest id, e.g. premium-s1-escalation@r7")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--claim", help="claim id, e.g. FLG-02")
    what.add_argument("--missed", metavar="TEXT", help="an item the digest left out")
    what.add_argument(
        "--usefulness",
        type=int,
        metavar="N",
        help="how much the digest reduced handoff ambiguity: 1 (harmful) to 5 (full help); "
        "the scale is digestkit.review.USEFULNESS_SCALE",
    )
    p.add_argument("--verdict", help="accepted, corrected or rejected (with --claim)")
    p.add_argument("--text", help="corrected text (corrected) or reason (rejected)")
    p.add_argument("--part", help="digest part of a missed item, e.g. flags")
    p.add_argument("--source", help="source of a missed item: SYSTEM:ID[:LOCATOR]")
    p.add_argument("--kind", help="kind of a missed item, e.g. stale_ownership (optional)")
    p.add_argument("--reviewer", required=True, help="who reviewed the digest")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data a missed item's --source must resolve in (default: the data the digest "
        "was built from)",
    )
    _workspace_option(p)

    p = command("evaluate", cmd_evaluate, "quality metrics of the workspace's digests")
    p.add_argument("--format", choices=("json", "markdown"), default="markdown")
    p.add_argument("--period", help="YYYY, YYYY-MM, YYYY-MM-DD or START..END (default: all)")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="first add the seeded simulated review of digests not yet reviewed by it",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of --simulate")
    p.add_argument(
        "--report", action="store_true", help="render the HTML evaluation report and print its path"
    )
    p.add_argument(
        "--replay",
        action="store_true",
        help="rebuild every published revision in-process and score it against gold",
    )
    _data_option(p)
    _workspace_option(p)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the digestkit command line; return the process exit code."""
    try:
        return _run(build_parser(), argv)
    except BrokenPipeError:
        # The reader (`| head`) left: not an error. Point stdout at devnull so the interpreter's
        # final flush does not complain again (the recipe in Python's signal docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def console_main() -> int:
    """``digestkit`` and ``python -m digestkit``: :func:`main`, in a process that then ends."""
    code = main()
    # The interpreter's last garbage collection would walk the whole heap (the sources, the
    # frames, the digests of a burst: 0.6 s after 30 events at 10k) only for the OS to free it.
    gc.freeze()
    return code


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except DigestkitError as exc:
        if args.debug:
            raise
        print(f"digestkit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # handled in main, not an error to report
    except OSError as exc:  # a file or folder that cannot be read or written; a bug is not caught
        if args.debug:
            raise
        print(f"digestkit: error: {exc}", file=sys.stderr)
        return 1
