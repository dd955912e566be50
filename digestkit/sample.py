"""Deterministic sample world: the six source systems plus gold labels of what was planted.

``generate_world`` writes runbook revisions (Markdown with YAML front matter), a CRM in SQLite,
registry and exception-register CSVs, a change feed and ``gold/labels.json``. The runbook text
is rendered from a structured model while recording the line span of every unit, so the gold
labels' line numbers come from the rendering, never from hand-counted constants. The same seed
and parameters always give byte-identical files.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from digestkit.exceptions import DigestkitError
from digestkit.sources import FRONT_MATTER_KEYS, SCHEMAS, TIERS

GENERATOR = "digestkit.sample"
STALE_AFTER_DAYS = 90
EXPIRING_WITHIN_DAYS = 30
VARIANT_10MIN = "contractual-10min-initial-update"
S1 = "premium-s1-escalation"
S1_TITLE = "Premium Support Severity-1 Escalation Runbook"
BRIDGE = "premium-comms-bridge"
BRIDGE_TITLE = "Premium Incident Communication Bridge Runbook"
PAGING_ROWS_MAX = 40
LIMITS = {"accounts": 50, "steps": 10, "products": 8, "exceptions": 10}
CHUNK = 100_000

# --- fixed vocabulary -----------------------------------------------------------------------------

TEAMS = (  # slug, display name, pager
    ("payments-eng", "Payments Engineering", "payments-oncall"),
    ("identity-eng", "Identity and Access Engineering", "identity-oncall"),
    ("checkout-eng", "Checkout Experience", "checkout-oncall"),
    ("data-eng", "Data Platform", "data-oncall"),
    ("analytics-eng", "Analytics Engineering", "analytics-oncall"),
    ("search-eng", "Search Engineering", "search-oncall"),
    ("notify-eng", "Notifications Engineering", "notify-oncall"),
    ("messaging-eng", "Messaging Platform", "messaging-oncall"),
    ("billing-eng", "Billing Engineering", "billing-oncall"),
    ("ledger-eng", "Ledger Engineering", "ledger-oncall"),
    ("mobile-eng", "Mobile Engineering", "mobile-oncall"),
    ("platform-ops", "Platform Operations", "platform-oncall"),
    ("sre", "Site Reliability Engineering", "sre-oncall"),
)
LATE_TEAM = ("trust-eng", "Trust and Safety Engineering", "trust-oncall", "2026-05-04T08:00:00Z")
SECONDARY_PAGERS = ("platform-oncall", "sre-oncall")

NAMED_PRODUCTS = (  # product_id, name, owning team, ownership boundary
    ("PRD-PAYAPI", "Payments API", "payments-eng", "API, webhooks and settlement callbacks"),
    ("PRD-IDSVC", "Identity Service", "identity-eng", "Login, SSO federation and token issuance"),
    ("PRD-CHKWEB", "Checkout Web", "checkout-eng", "Hosted checkout pages and cart sessions"),
    ("PRD-DATEXP", "Data Export", "data-eng", "Scheduled exports and export storage"),
    ("PRD-SRCHPL", "Search Platform", "search-eng", "Indexing pipeline and query API"),
    ("PRD-NOTGW", "Notifications Gateway", "notify-eng", "E-mail, SMS and push delivery"),
    ("PRD-BILPOR", "Billing Portal", "billing-eng", "Invoices, payment methods and plan changes"),
    ("PRD-LEDGER", "Ledger Service", "ledger-eng", "Double-entry ledger and balance reads"),
    ("PRD-MOBSDK", "Mobile SDK", "mobile-eng", "iOS and Android SDK releases"),
    ("PRD-REPWH", "Reporting Warehouse", "analytics-eng", "Warehouse loads and report queries"),
    ("PRD-FRAUD", "Fraud Screening", "payments-eng", "Risk scoring and manual review queue"),
    ("PRD-WEBHK", "Webhooks Relay", "messaging-eng", "Outbound webhook delivery and retries"),
)
GEN_PREFIX = (
    "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Orbit", "Pinnacle", "Quartz", "Relay", "Summit",
    "Tundra", "Umbra", "Vector", "Willow", "Xenon", "Yarrow", "Zephyr", "Aurora", "Basalt",
    "Cirrus", "Drift",
)  # fmt: skip
GEN_NOUN = (
    "Routing", "Sync", "Catalog", "Pricing", "Ingest", "Audit", "Consent", "Inventory", "Ledger",
    "Metering", "Onboarding", "Payout", "Quota", "Refund", "Scheduler", "Tax", "Upload",
    "Voucher", "Wallet", "Archive",
)  # fmt: skip
GEN_SUFFIX = ("Service", "API", "Gateway", "Console", "Pipeline", "Store", "Worker", "Engine")

SURNAMES = (
    "Halvorsen", "Brennan", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Castellano", "Nakamura",
    "Fitzgerald", "Van der Berg", "Kowalski", "Oyelaran", "Ferreira", "Achterberg", "Rasmussen",
    "Delacroix", "Whitcombe", "Abernathy", "Sandoval", "Kristiansen", "Mbeki", "Thorsen",
    "Ishikawa", "Petrakis", "Dunmore", "Valente", "Hargreaves", "Bergstrom", "Quintero", "Aldridge",
    "Novak", "Ellingsen", "Marchetti", "Osei", "Lockwood", "Varga", "Sorensen", "Carvalho",
    "Blackwood", "Engstrom", "Kaminski", "Adeyemi", "Montague", "Holmberg", "Salazar", "Takahashi",
    "Pemberton", "Strand", "Rossi", "Gallagher",
)  # fmt: skip
INDUSTRIES = (
    "Maritime Logistics", "Dental Clinics", "Precision Optics", "Organic Foods", "Wind Energy",
    "Freight Brokers", "Property Partners", "Veterinary Group", "Aerospace Components",
    "Textile Mills", "Cold Chain", "Seafood Exports", "Timber Holdings", "Bicycle Works",
    "Ceramics", "Pharmacy Chain", "Hotel Collection", "Architects", "Robotics", "Water Utilities",
    "Insurance Brokers", "Coffee Roasters", "Medical Devices", "Software House", "Travel Agency",
    "Print Works", "Solar Farms", "Rail Services", "Vineyards", "Publishing",
)  # fmt: skip
REGIONS = ("EMEA", "AMER", "APAC")
LEGAL_SUFFIX = {
    "EMEA": ("AS", "GmbH", "Ltd", "B.V."),
    "AMER": ("Inc.", "LLC", "Corp."),
    "APAC": ("Pty Ltd", "K.K.", "Pte. Ltd."),
}
COUNTRY_CODES = {
    "EMEA": ("+47", "+49", "+44", "+31"),
    "AMER": ("+1",),
    "APAC": ("+61", "+81", "+65"),
}
FIRST_NAMES = (
    "Ingrid", "Tomasz", "Amara", "Lukas", "Sofia", "Kenji", "Maeve", "Rafael", "Annika", "Chidi",
    "Elena", "Henrik", "Priya", "Mateo", "Yuki", "Fiona", "Jonas", "Leila", "Oskar", "Nadia",
    "Declan", "Ines", "Bjorn", "Carmen", "Emeka", "Hanna", "Marco", "Sanne", "Tariq", "Wren",
)  # fmt: skip
CONTACT_ROLES = ("escalation contact", "technical contact", "executive sponsor")
HANDLINGS = (
    "page-secondary-first", "page-primary-and-account-manager", "skip-status-page",
    "extended-update-interval", "named-engineer-on-bridge", "follow-the-sun-handover",
)  # fmt: skip
APPROVERS = ("u-mokafor", "u-lhansen", "u-tnguyen")
KNOWN_ISSUE_TITLES = (
    "Intermittent 502 responses under peak load",
    "Delayed processing after regional failover",
    "Stale cache entries after configuration change",
    "Timeouts on bulk requests above 10k items",
    "Duplicate notifications after retry storm",
)

# --- timeline ------------------------------------------------------------------------------------

PUBLISHED = {  # (runbook, revision): (published_at, approver)
    (S1, "r1"): ("2026-01-12T09:00:00Z", "u-mokafor"),
    (S1, "r2"): ("2026-02-09T10:30:00Z", "u-mokafor"),
    (S1, "r4"): ("2026-03-09T09:15:00Z", "u-lhansen"),
    (S1, "r5"): ("2026-03-30T08:45:00Z", "u-lhansen"),
    (S1, "r6"): ("2026-04-20T09:00:00Z", "u-mokafor"),
    (S1, "r7"): ("2026-06-01T09:30:00Z", "u-tnguyen"),
    (S1, "r8"): ("2026-07-13T10:00:00Z", "u-mokafor"),
    (S1, "r9"): ("2026-09-07T09:00:00Z", "u-lhansen"),
    (BRIDGE, "r1"): ("2026-01-20T11:00:00Z", "u-tnguyen"),
    (BRIDGE, "r2"): ("2026-05-11T11:00:00Z", "u-tnguyen"),
}
DRAFT_SAVED = {(S1, "r3"): "2026-02-23T14:05:00Z", (BRIDGE, "r3"): "2026-06-15T15:40:00Z"}
WITHDRAWN = {(S1, "r5"): ("2026-03-31T16:20:00Z", "u-mokafor")}
DRAFT_AUTHOR = "u-jberg"

# --- arguments and the atomic write --------------------------------------------------------------


def _check_params(seed: int, counts: dict[str, int]) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DigestkitError(f"sample: --seed must be a non-negative integer, got {seed!r}")
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise DigestkitError(f"sample: --{name} must be an integer, got {value!r}")
        if value < LIMITS[name]:
            raise DigestkitError(
                f"sample: --{name} must be at least {LIMITS[name]} so every planted case fits, "
                f"got {value}"
            )
    if counts["exceptions"] > counts["accounts"]:
        raise DigestkitError(
            f"sample: --exceptions ({counts['exceptions']}) must not exceed --accounts "
            f"({counts['accounts']}): every exception needs its own account and product"
        )


def _is_world(path: Path) -> bool:
    try:
        return json.loads((path / "world.json").read_text("utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def generate_world(
    out: str | Path,
    *,
    seed: int = 7,
    accounts: int = 600,
    steps: int = 14,
    products: int = 12,
    exceptions: int = 40,
) -> dict:
    """Write a complete sample world into `out`; return a summary dict (counts, paths)."""
    counts = {"accounts": accounts, "steps": steps, "products": products, "exceptions": exceptions}
    _check_params(seed, counts)
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise DigestkitError(
                f"sample: {out} exists and is not a directory; choose another --out"
            )
        if any(out.iterdir()) and not _is_world(out):
            raise DigestkitError(
                f"sample: {out} is not empty and holds no sample world (no world.json written by "
                "digestkit); refusing to overwrite it, choose an empty or new --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        summary = _build(tmp, seed=seed, **counts)
        if out.exists():
            trash = tmp.with_suffix(".old")
            out.rename(trash)
            tmp.rename(out)
            shutil.rmtree(trash)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {**summary, "path": str(out)}


# --- Markdown model and renderer -----------------------------------------------------------------


@dataclass
class Item:
    """An ordered-list item; ``numbers`` overrides the numbering of its children."""

    key: str
    text: str
    children: list[Item] = field(default_factory=list)
    numbers: list[int] | None = None


@dataclass
class Para:
    """A paragraph, wrapped at ``width`` columns."""

    key: str
    text: str
    width: int = 100


@dataclass
class Bullets:
    """A bullet list of (unit key, text) items."""

    items: list[tuple[str, str]]
    marker: str = "-"


@dataclass
class Steps:
    """A numbered list, possibly nested."""

    items: list[Item]


@dataclass
class Table:
    """A pipe table of (unit key, cells) rows."""

    header: tuple[str, ...]
    rows: list[tuple[str, tuple[str, ...]]]


@dataclass
class Section:
    """An H2 section."""

    key: str
    heading: str
    blocks: list[Any]


@dataclass
class Rendered:
    """A rendered revision file and where each unit landed in it."""

    text: str
    spans: dict[str, tuple[int, int]]  # unit key -> first and last line (1-based, inclusive)
    sections: dict[str, tuple[str, tuple[int, int]]]  # section key -> heading, span
    lines: list[str]


YAML_WORDS = ("null", "true", "false", "yes", "no", "on", "off")  # would not stay text


def _yaml_scalar(value: str | None) -> str:
    if value is None:
        return "null"
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._/-]*[A-Za-z0-9.]", value) and value not in YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _render(
    meta: dict[str, str | None], title: str, intro: Para, sections: list[Section]
) -> Rendered:
    lines = ["---", *(f"{k}: {_yaml_scalar(meta[k])}" for k in FRONT_MATTER_KEYS), "---", ""]
    spans: dict[str, tuple[int, int]] = {}
    heads: dict[str, tuple[str, tuple[int, int]]] = {}

    def add(line: str) -> int:
        lines.append(line)
        return len(lines)

    def steps(items: list[Item], indent: int, numbers: list[int] | None) -> None:
        for item, number in zip(items, numbers or range(1, len(items) + 1), strict=True):
            marker = f"{number}. "
            first = add(" " * indent + marker + item.text)
            steps(item.children, indent + len(marker), item.numbers)
            spans[item.key] = (first, len(lines))

    def block(b: Any) -> None:
        if isinstance(b, Para):
            first = len(lines) + 1
            for line in textwrap.wrap(b.text, b.width, break_on_hyphens=False):
                add(line)
            spans[b.key] = (first, len(lines))
        elif isinstance(b, Bullets):
            for key, text in b.items:
                n = add(f"{b.marker} {text}")
                spans[key] = (n, n)
        elif isinstance(b, Steps):
            steps(b.items, 0, None)
        else:
            add("| " + " | ".join(b.header) + " |")
            add("|" + "|".join(" --- " for _ in b.header) + "|")
            for key, cells in b.rows:
                n = add("| " + " | ".join(cells) + " |")
                spans[key] = (n, n)
        add("")

    add(f"# {title}")
    add("")
    block(intro)
    for section in sections:
        first = add(f"## {section.heading}")
        spans[f"heading:{section.key}"] = (first, first)
        add("")
        for b in section.blocks:
            block(b)
        heads[section.key] = (section.heading, (first, len(lines) - 1))
    while lines[-1] == "":
        lines.pop()
    return Rendered("\n".join(lines) + "\n", spans, heads, lines)


# --- the main runbook's revisions ----------------------------------------------------------------

CORE_STEPS = {
    "confirm": "Confirm the incident meets the Severity-1 criteria: a full outage, a risk of data "
    "loss, or a payment path failing for more than 5% of Premium traffic.",
    "entitlement": "Look up the account's tier and active entitlements in the CRM before the first "
    "customer contact, and note any contractual notification variant.",
    "verify": "Check that the CRM record status is approved; treat a pending account or "
    "entitlement as unverified and say so on the bridge.",
    "page": "Page the primary on-call for the affected product, using the paging paths below.",
    "bridge": "Open the Severity-1 bridge and post its link in the incident channel.",
    "initial": "Send the first customer update within the time committed for the account's tier "
    "(see the scope assumptions above).",
    "exceptions": "Check the exception register for an approved carve-out for the account and "
    "product before deviating from these steps.",
    "holding": "Post a holding message in the customer's shared support channel if one exists.",
    "duty": "Notify the duty manager if the incident affects more than one Premium Plus account.",
    "duty@r4": "Notify the duty manager as soon as any Premium Plus account is affected, or when "
    "three or more Premium accounts are.",
    "status": "Update the public status page within 20 minutes of declaring the incident, using "
    "the component names from the status-page catalogue.",
    "status@r9": "Update the public status page within 20 minutes of declaring the incident; copy "
    "component names from the status-page catalogue as plain text and never paste the vendor "
    "widget snippet (<script>alert(1)</script>) into the page or the bridge notes.",
    "close": "Close the incident only after the customer confirms recovery and the post-incident "
    "review is booked.",
}
FILLER_FIRST = (
    "At every shift change, hand over the current state, the owner and the next checkpoint to "
    "the incoming duty manager."
)
FILLER_TEMPLATES = (
    "Capture {artifact} from {source} and attach it to the incident record.",
    "Ask {role} to confirm {check} before the next checkpoint.",
    "If {condition}, {action} and note the time in the incident timeline.",
    "Record {fact} in the incident timeline as soon as it is confirmed.",
)
FILLER_WORDS = {
    "artifact": ("the error-rate graph", "the latest deploy log", "a sample failing request",
                 "the dependency health view", "the queue depth chart", "the alert history"),
    "source": ("the monitoring dashboard", "the deploy pipeline", "the API gateway logs",
               "the tracing tool", "the load balancer console"),
    "role": ("the incident commander", "the communications lead", "the account manager",
             "the on-call engineer", "the duty manager"),
    "check": ("the customer-visible impact", "the affected regions", "the rollback plan",
              "the next update time", "the workaround wording"),
    "condition": ("a rollback is in progress", "a second region degrades",
                  "the customer reports data inconsistency", "the workaround stops working",
                  "a vendor dependency is involved"),
    "action": ("tell the communications lead", "raise the bridge to the duty manager",
               "open a linked incident", "freeze further deploys",
               "page the vendor's support line"),
    "fact": ("the first customer-visible error", "the mitigation start", "the rollback decision",
             "each customer update sent", "the recovery confirmation"),
}  # fmt: skip


def _filler(i: int) -> str:
    if i == 0:
        return FILLER_FIRST
    template = FILLER_TEMPLATES[i % len(FILLER_TEMPLATES)]
    # Strides coprime with the list lengths walk through the combinations without repeating early.
    values = {
        name: words[(i * (3 + 2 * j) + i // len(FILLER_TEMPLATES)) % len(words)]
        for j, (name, words) in enumerate(FILLER_WORDS.items())
    }
    return template.format(**values)


@dataclass
class S1State:
    """The content of one revision of the main runbook, before rendering."""

    intro_width: int
    scope_marker: str
    scope: list[tuple[str, str]]
    paging: list[tuple[str, list[str]]]  # product_id, [name, primary, secondary, escalate after]
    steps: list[Item]
    checkpoints_heading: str
    checkpoints: list[tuple[str, str]]
    ownership: list[tuple[str, list[str]]]  # product_id, [name, team display name, boundary]
    exceptions: list[str]  # exception ids, in list order
    open_questions: list[tuple[str, str]]


INTRO = (
    "This runbook tells the support duty team how to escalate Severity-1 incidents for Premium and "
    "Premium Plus customers: who to page, when to update customers, which teams own which "
    "products, and which approved exceptions change the standard handling. It is reviewed after "
    "every Severity-1 post-incident review."
)
CHECKPOINTS = "Incident-communication checkpoints"
CHECKPOINTS_RENAMED = "Customer communication checkpoints"
S1_SECTIONS = (
    ("scope", "Scope and entitlement assumptions"),
    ("paging", "Paging paths"),
    ("steps", "Escalation steps"),
    ("checkpoints", CHECKPOINTS),
    ("ownership", "Ownership boundaries"),
    ("exceptions", "Approved product-specific exceptions"),
    ("questions", "Open questions"),
)


def _s1_doc(state: S1State, meta: dict, world: World) -> Rendered:
    names = world.product_names
    exc_lines = [
        (
            f"exc:{eid}",
            f"{eid} — {names[world.planted_exc[eid]['product_id']]}: "
            f"{world.planted_exc[eid]['kind']}, see the exception register.",
        )
        for eid in state.exceptions
    ]
    questions: Any = (
        Bullets(state.open_questions)
        if state.open_questions
        else Para("oq:none", "None at publication.")
    )
    blocks = {
        "scope": [Bullets(state.scope, state.scope_marker)],
        "paging": [
            Table(
                ("Product", "Primary on-call", "Secondary", "Escalate after"),
                [(f"paging:{p}", tuple(c)) for p, c in state.paging],
            )
        ],
        "steps": [Steps(state.steps)],
        "checkpoints": [Bullets(state.checkpoints)],
        "ownership": [
            Table(
                ("Product", "Owning team", "Boundary"),
                [(f"owner:{p}", tuple(c)) for p, c in state.ownership],
            )
        ],
        "exceptions": [Bullets(exc_lines)],
        "questions": [questions],
    }
    sections = [
        Section(key, state.checkpoints_heading if key == "checkpoints" else heading, blocks[key])
        for key, heading in S1_SECTIONS
    ]
    return _render(meta, S1_TITLE, Para("para:intro", INTRO, state.intro_width), sections)


def _s1_base(world: World, n_steps: int) -> S1State:
    covered = world.products[: min(len(world.products), PAGING_ROWS_MAX)]
    paging, ownership = [], []
    for i, p in enumerate(covered):
        escalate = "20 min" if i % 5 == 4 else "30 min"
        paging.append(
            (p["product_id"], [p["name"], p["pager"], SECONDARY_PAGERS[i % 3 == 1], escalate])
        )
        ownership.append((p["product_id"], [p["name"], world.team_names[p["team"]], p["boundary"]]))

    def item(
        key: str, children: list[Item] | None = None, numbers: list[int] | None = None
    ) -> Item:
        return Item(f"step:{key}", CORE_STEPS[key], children or [], numbers)

    page = item(
        "page",
        [
            Item(
                "step:page.1",
                "Open the incident in the paging tool and select the product's primary rotation.",
            ),
            Item(
                "step:page.2",
                "Attach the bridge link and the customer-visible symptom to the page.",
            ),
            Item(
                "step:page.3",
                "If the primary has not acknowledged within the escalate-after time, "
                "page the secondary.",
            ),
            Item("step:page.4", "Record both page times in the incident timeline."),
        ],
        numbers=[1, 2, 2, 3],
    )  # the numbering slip r6 fixes
    initial = item(
        "initial",
        [
            Item(
                "step:initial.1",
                "Draft the update from the approved Premium template.",
                [
                    Item(
                        "step:initial.1.1",
                        "State the impact, the current workaround and the time of the next update.",
                    ),
                    Item(
                        "step:initial.1.2", "Leave out internal ticket links and engineers' names."
                    ),
                ],
            ),
            Item(
                "step:initial.2",
                "Ask the incident commander to approve the wording before it is sent.",
            ),
        ],
    )
    fillers = [Item(f"step:filler{i}", _filler(i)) for i in range(n_steps - 10)]
    steps = [
        item("confirm"),
        item("entitlement"),
        page,
        item("bridge"),
        initial,
        item("exceptions"),
        *fillers,
        item("holding"),
        item("duty"),
        item("status"),
        item("close"),
    ]
    return S1State(
        intro_width=100,
        scope_marker="-",
        scope=[
            ("scope:pp", "All Premium Plus accounts receive an initial update within 15 minutes."),
            ("scope:p", "Premium accounts receive an initial update within 30 minutes."),
            (
                "scope:std",
                "Standard tier accounts are out of scope; route them through the "
                "standard incident process.",
            ),
            (
                "scope:crm",
                "Entitlements are read from the CRM; only approved entitlements that "
                "are active on the incident date count.",
            ),
        ],
        paging=paging,
        steps=steps,
        checkpoints_heading=CHECKPOINTS,
        checkpoints=[
            (
                "cp:t15",
                "T+15: first customer update sent and the incident commander confirmed on "
                "the bridge.",
            ),
            (
                "cp:t30",
                "T+30: second update with the scope of impact and the affected Premium accounts.",
            ),
            (
                "cp:hourly",
                "Every 60 min: status update to customers and the duty manager until resolution.",
            ),
            ("cp:resolved", "At resolution: final update with a summary and the follow-up plan."),
        ],
        ownership=ownership,
        exceptions=["EXC-1001", "EXC-1002", "EXC-1003", "EXC-1004"],
        open_questions=[],
    )


def _step(state: S1State, key: str) -> Item:
    return next(s for s in state.steps if s.key == f"step:{key}")


def _row(rows: list[tuple[str, list[str]]], product_id: str) -> list[str]:
    return next(cells for p, cells in rows if p == product_id)


# Each published change: (class, kind, unit, unit key, ref). Keys resolve to line spans in the
# rendered old/new files; kind None marks a formatting-only edit.
Change = tuple[str, str | None, str, str, str | None]


def _s1_plan(world: World, n_steps: int) -> list[tuple[dict, S1State, list[Change]]]:
    """Every revision of the main runbook: (front matter, content, planted changes vs baseline)."""
    state = _s1_base(world, n_steps)
    plan: list[tuple[dict, S1State, list[Change]]] = []

    def revision(rev: str, status: str, supersedes: str | None, reason: str, changes: list[Change]):
        published_at, approver = PUBLISHED.get((S1, rev), (None, None))
        meta = {
            "runbook_id": S1,
            "revision": rev,
            "title": S1_TITLE,
            "status": status,
            "supersedes": supersedes,
            "approved_by": approver,
            "published_at": published_at,
            "change_reason": reason,
        }
        plan.append((meta, copy.deepcopy(state), changes))

    revision(
        "r1", "published", None, "Initial publication of the Severity-1 escalation runbook.", []
    )

    # r2: one paging cell, one checkpoint time, and a list-marker change that alters no wording.
    _row(state.paging, "PRD-PAYAPI")[1] = "payments-l2-oncall"
    state.checkpoints[1] = ("cp:t30", state.checkpoints[1][1].replace("T+30", "T+20"))
    state.scope_marker = "*"
    revision(
        "r2",
        "published",
        "r1",
        "Payments paging moved to the level-2 rotation; second "
        "customer update brought forward to T+20.",
        [
            ("paging_target_changed", "modified", "table_row", "paging:PRD-PAYAPI", "Payments API"),
            ("checkpoint_time_changed", "modified", "list_item", "cp:t30", "T+20"),
            ("formatting_only", None, "list_item", "scope:pp+scope:crm", None),
        ],
    )

    # r3 (draft): the record-status check, inserted mid-list.
    state.steps.insert(2, Item("step:verify", CORE_STEPS["verify"]))
    revision("r3", "draft", "r2", "Draft: add a CRM record-status check.", [])

    # r4: r3's step plus a removal and a rewording; two exceptions added.
    state.steps.remove(_step(state, "holding"))
    _step(state, "duty").text = CORE_STEPS["duty@r4"]
    state.exceptions += ["EXC-1005", "EXC-1008"]
    revision(
        "r4",
        "published",
        "r2",
        "Add the CRM record-status check, drop the shared-channel "
        "holding message, widen duty-manager notification; reference two new exceptions.",
        [
            ("step_added", "added", "list_item", "step:verify", None),
            ("step_removed", "removed", "list_item", "step:holding", None),
            ("step_reworded", "modified", "list_item", "step:duty", None),
            ("exception_added", "added", "list_item", "exc:EXC-1005", "EXC-1005"),
            ("exception_added", "added", "list_item", "exc:EXC-1008", "EXC-1008"),
        ],
    )

    # r5 (withdrawn): a Premium commitment the contracts do not back.
    r4_state = copy.deepcopy(state)
    state.scope[1] = ("scope:p", "Premium accounts receive an initial update within 20 minutes.")
    revision("r5", "withdrawn", "r4", "Tighten the Premium initial update to 20 minutes.", [])
    state = r4_state

    # r6: duty-manager step moved up, the sub-list numbering slip fixed, Data Export re-owned.
    duty = _step(state, "duty")
    state.steps.remove(duty)
    state.steps.insert(1, duty)
    _step(state, "page").numbers = None
    _row(state.ownership, "PRD-DATEXP")[1] = world.team_names["analytics-eng"]
    revision(
        "r6",
        "published",
        "r4",
        "Notify the duty manager first; fix paging sub-step "
        "numbering; Data Export ownership moved to Analytics Engineering.",
        [
            ("steps_reordered", "moved", "list_item", "step:duty", None),
            ("list_renumbered", "renumbered", "list_item", "step:page.3+step:page.4", None),
            ("ownership_moved", "modified", "table_row", "owner:PRD-DATEXP", "Data Export"),
        ],
    )

    # r7: an ownership move the registry does not know, exception churn, open questions.
    _row(state.ownership, "PRD-NOTGW")[1] = world.team_names["messaging-eng"]
    state.exceptions.remove("EXC-1004")
    state.exceptions.append("EXC-1006")
    state.open_questions = [
        (
            "oq:tbd",
            "Bridge ownership for Notifications Gateway after the move to Messaging Platform: TBD.",
        ),
        (
            "oq:pending",
            "Whether accounts with a contractual 10-minute initial update need their "
            "own checkpoint is pending product-owner confirmation.",
        ),
    ]
    revision(
        "r7",
        "published",
        "r6",
        "Notifications Gateway moved to Messaging Platform; "
        "expired Checkout Web exception dropped; Billing Portal exception referenced.",
        [
            (
                "ownership_moved",
                "modified",
                "table_row",
                "owner:PRD-NOTGW",
                "Notifications Gateway",
            ),
            ("exception_removed", "removed", "list_item", "exc:EXC-1004", "EXC-1004"),
            ("exception_pending_referenced", "added", "list_item", "exc:EXC-1006", "EXC-1006"),
            ("open_question_added", "added", "list_item", "oq:tbd", "TBD"),
            (
                "open_question_added",
                "added",
                "list_item",
                "oq:pending",
                "pending product-owner confirmation",
            ),
        ],
    )

    # r8: a heading renamed under an exception that points at it; the intro re-wrapped.
    state.checkpoints_heading = CHECKPOINTS_RENAMED
    state.intro_width = 72
    revision(
        "r8",
        "published",
        "r7",
        "Rename the checkpoints section for customer-facing wording; re-wrap the introduction.",
        [
            ("section_renamed", "modified", "heading", "heading:checkpoints", CHECKPOINTS_RENAMED),
            ("formatting_only", None, "paragraph", "para:intro", None),
        ],
    )

    # r9: faster escalation for Billing Portal, a legacy pager, a reworded status-page step.
    _row(state.paging, "PRD-BILPOR")[3] = "15 min"
    _row(state.paging, "PRD-SRCHPL")[2] = "search-legacy-oncall"
    _step(state, "status").text = CORE_STEPS["status@r9"]
    revision(
        "r9",
        "published",
        "r8",
        "Billing Portal escalates after 15 minutes; Search "
        "secondary changed; status-page step warns against pasting widget code.",
        [
            (
                "escalate_after_changed",
                "modified",
                "table_row",
                "paging:PRD-BILPOR",
                "Billing Portal",
            ),
            (
                "unknown_reference_added",
                "modified",
                "table_row",
                "paging:PRD-SRCHPL",
                "search-legacy-oncall",
            ),
            ("step_reworded", "modified", "list_item", "step:status", None),
        ],
    )
    return plan


BRIDGE_STEPS = (
    ("open", "Open the communication bridge and invite the incident commander and the "
     "communications lead."),
    ("roles", "Confirm who holds each bridge role and post the names in the incident channel."),
    ("cadence", "Agree the customer update cadence with the incident commander."),
    ("notes", "Keep bridge notes in the incident record; summarise every decision."),
    ("close", "Close the bridge once the incident commander declares recovery."),
)  # fmt: skip


def _bridge_plan() -> list[tuple[dict, Rendered, list[Change]]]:
    roles = [
        ("role:ic", "Incident commander: runs the bridge and owns every decision."),
        ("role:comms", "Communications lead: drafts and sends every customer update."),
        ("role:scribe", "Scribe: keeps the incident timeline and the bridge notes."),
    ]
    cadence = [
        ("cad:follow", "Updates follow the checkpoints of the Severity-1 escalation runbook.")
    ]
    steps = [Item(f"step:{k}", t) for k, t in BRIDGE_STEPS]
    intro = Para(
        "para:intro",
        "How the communications lead runs the customer-facing bridge during a Premium incident.",
    )
    plan = []
    for rev, status, supersedes, reason in (
        ("r1", "published", None, "Initial publication of the communication bridge runbook."),
        (
            "r2",
            "published",
            "r1",
            "Cadence is agreed with the incident commander, not the duty manager.",
        ),
        ("r3", "draft", "r2", "Draft: add a recording step."),
    ):
        changes: list[Change] = []
        if rev == "r2":
            steps[2].text = (
                "Agree the customer update cadence with the incident commander and "
                "write it into the bridge notes."
            )
            changes = [("step_reworded", "modified", "list_item", "step:cadence", None)]
        if rev == "r3":
            steps.insert(4, Item("step:record", "Start the bridge recording and note its link."))
        published_at, approver = PUBLISHED.get((BRIDGE, rev), (None, None))
        meta = {
            "runbook_id": BRIDGE,
            "revision": rev,
            "title": BRIDGE_TITLE,
            "status": status,
            "supersedes": supersedes,
            "approved_by": approver,
            "published_at": published_at,
            "change_reason": reason,
        }
        sections = [
            Section("roles", "Bridge roles", [Bullets(roles)]),
            Section("steps", "Bridge steps", [Steps(copy.deepcopy(steps))]),
            Section("cadence", "Update cadence", [Bullets(cadence)]),
            Section("questions", "Open questions", [Para("oq:none", "None at publication.")]),
        ]
        plan.append((meta, _render(meta, BRIDGE_TITLE, intro, sections), changes))
    return plan


BRIDGE_SECTIONS = ("Bridge roles", "Bridge steps", "Update cadence")


# --- registry ------------------------------------------------------------------------------------


@dataclass
class World:
    """Everything generated, kept in memory for writing and for computing the gold labels."""

    products: list[dict]
    product_names: dict[str, str]
    team_names: dict[str, str]
    product_rows: pd.DataFrame
    team_rows: pd.DataFrame
    known_issues: pd.DataFrame
    crm: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    first_contact: np.ndarray | None = None  # per account, the index of its first contact
    exceptions: pd.DataFrame | None = None
    planted_exc: dict[str, dict] = field(default_factory=dict)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def _product_catalog(n: int) -> list[dict]:
    products = [
        {"product_id": pid, "name": name, "team": team, "boundary": boundary}
        for pid, name, team, boundary in NAMED_PRODUCTS[:n]
    ]
    teams = [t[0] for t in TEAMS if t[0] not in ("platform-ops", "sre")]
    for i in range(n - len(products)):
        pre, noun = (
            GEN_PREFIX[i % len(GEN_PREFIX)],
            GEN_NOUN[(i // len(GEN_PREFIX)) % len(GEN_NOUN)],
        )
        combos = len(GEN_PREFIX) * len(GEN_NOUN)
        suffix = GEN_SUFFIX[(i // combos) % len(GEN_SUFFIX)]
        cycle = i // (combos * len(GEN_SUFFIX))
        name = f"{pre} {noun} {suffix}" + (f" {cycle + 1}" if cycle else "")
        pid = f"PRD-{pre[:3]}{noun[:3]}{suffix[:2]}".upper() + (f"{cycle + 1}" if cycle else "")
        products.append(
            {
                "product_id": pid,
                "name": name,
                "team": teams[i % len(teams)],
                "boundary": "Service runtime, deployments and data stores",
            }
        )
    team_pager = {slug: pager for slug, _, pager in TEAMS}
    for p in products:
        p["pager"] = team_pager[p["team"]]
    return products


def _registry(rng: np.random.Generator, n_products: int) -> World:
    products = _product_catalog(n_products)
    team_names = {slug: name for slug, name, _ in TEAMS} | {LATE_TEAM[0]: LATE_TEAM[1]}
    rows = []
    verifications = ("2025-11-01", "2026-01-01", "2026-03-01", "2026-05-01", "2026-07-01",
                     "2026-09-01", "2026-11-01")  # fmt: skip
    for i, p in enumerate(products):
        offset = timedelta(days=i % 20, hours=8, minutes=(7 * i) % 60)
        state = {
            "product_id": p["product_id"],
            "product_name": p["name"],
            "owning_team": p["team"],
            "escalation_pager": p["pager"],
            "owner_since": _iso(datetime(2024, 1, 15) + timedelta(days=int(rng.integers(0, 500)))),
            "status": "active",
        }
        events: list[tuple[datetime, dict]] = [(datetime(2025, 9, 1) + offset, {})]
        if i < PAGING_ROWS_MAX:
            # Referenced products are re-verified every two months, so they never go stale...
            events += [(datetime.fromisoformat(d) + offset, {}) for d in verifications]
        elif rng.random() < 0.2:
            events.append((datetime(2026, 4, 1) + offset, {"status": "deprecated"}))
        if p["product_id"] == "PRD-LEDGER":  # ...except the Ledger Service, verified last in Nov.
            events = [events[0], (datetime(2025, 11, 20, 10), {})]
        if p["product_id"] == "PRD-PAYAPI":
            events.append((datetime(2026, 2, 1, 12), {"escalation_pager": "payments-l2-oncall"}))
        if p["product_id"] == "PRD-DATEXP":
            at = datetime(2026, 4, 10, 9)
            events.append((at, {"owning_team": "analytics-eng", "owner_since": _iso(at)}))
        for at, change in sorted(events, key=lambda e: e[0]):
            state |= change
            rows.append(state | {"last_verified_at": _iso(at), "recorded_at": _iso(at)})
    product_rows = _frame(rows, "products").sort_values(
        ["recorded_at", "product_id"], kind="stable"
    )

    team_rows = [
        {"team": slug, "display_name": name, "pager": pager, "recorded_at": "2025-09-01T08:00:00Z"}
        for slug, name, pager in TEAMS
    ]
    team_rows.append(
        dict(zip(("team", "display_name", "pager", "recorded_at"), LATE_TEAM, strict=True))
    )
    team_rows.append(team_rows[0] | {"recorded_at": "2026-02-01T12:00:00Z"})  # re-verified
    teams = _frame(team_rows, "teams").sort_values(["recorded_at", "team"], kind="stable")

    issues = []
    for i, p in enumerate(products):
        for _ in range(int(rng.integers(0, 3)) if i < 200 else int(rng.random() < 0.1)):
            opened = datetime(2025, 10, 1) + timedelta(minutes=int(rng.integers(0, 60 * 24 * 400)))
            base = {
                "issue_id": f"KI-{2001 + len(issues)}",
                "product_id": p["product_id"],
                "title": KNOWN_ISSUE_TITLES[int(rng.integers(0, len(KNOWN_ISSUE_TITLES)))],
                "exception_note": "Page the secondary rotation first while this issue is open."
                if rng.random() < 0.3
                else None,
                "status": "open",
                "opened_at": _iso(opened),
                "recorded_at": _iso(opened),
            }
            issues.append(base)
            final = ("open", "mitigated", "closed")[int(rng.integers(0, 3))]
            if final != "open":
                later = opened + timedelta(days=int(rng.integers(2, 60)))
                issues.append(base | {"status": final, "recorded_at": _iso(later)})
    known = _frame(issues, "known_issues").sort_values(["recorded_at", "issue_id"], kind="stable")
    return World(
        products=products,
        product_names={p["product_id"]: p["name"] for p in products},
        team_names=team_names,
        product_rows=product_rows.reset_index(drop=True),
        team_rows=teams.reset_index(drop=True),
        known_issues=known.reset_index(drop=True),
    )


def _frame(rows: list[dict], table: str) -> pd.DataFrame:
    columns = [c.name for c in SCHEMAS[table]]
    return pd.DataFrame([[r[c] for c in columns] for r in rows], columns=columns, dtype=object)


# --- CRM -----------------------------------------------------------------------------------------


def _timestamps(rng: np.random.Generator, n: int, start: str, end: str) -> np.ndarray:
    lo, hi = np.datetime64(start, "s"), np.datetime64(end, "s")
    seconds = rng.integers(0, int((hi - lo).astype(np.int64)), size=n)
    return lo + seconds.astype("timedelta64[s]")


def _iso_array(values: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(values.astype("datetime64[s]"), unit="s"), "Z")


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _crm(rng: np.random.Generator, n: int, world: World) -> None:
    region = rng.integers(0, len(REGIONS), size=n)
    tier = rng.choice(len(TIERS), size=n, p=[0.5, 0.32, 0.18])
    tier[0] = 2  # at least one Premium Plus account, whatever the seed
    surname = rng.integers(0, len(SURNAMES), size=n)
    industry = rng.integers(0, len(INDUSTRIES), size=n)
    suffix_pick = rng.integers(0, 12, size=n)
    suffixes = np.array(
        [LEGAL_SUFFIX[r][k % len(LEGAL_SUFFIX[r])] for r in REGIONS for k in range(12)]
    )
    account_name = np.char.add(
        np.char.add(np.array(SURNAMES)[surname], " "),
        np.char.add(
            np.char.add(np.array(INDUSTRIES)[industry], " "), suffixes[region * 12 + suffix_pick]
        ),
    )
    acc_status = np.where(rng.random(n) < 0.05, "pending", "approved")
    acc_status[0] = "approved"
    account_id = _ids("ACC-", n, 7)
    world.crm["accounts"] = {
        "account_id": account_id,
        "account_name": account_name,
        "tier": np.array(TIERS)[tier],
        "region": np.array(REGIONS)[region],
        "record_status": acc_status,
        "updated_at": _iso_array(_timestamps(rng, n, "2025-10-01", "2026-11-30")),
    }

    # Contacts: 1-3 per account.
    k = rng.integers(1, 4, size=n)
    owner = np.repeat(np.arange(n), k)
    m = len(owner)
    first_idx = rng.integers(0, len(FIRST_NAMES), size=m)
    last_idx = rng.integers(0, len(SURNAMES), size=m)
    first, last = np.array(FIRST_NAMES)[first_idx], np.array(SURNAMES)[last_idx]
    # Lower-case the short word lists once, then index: per-row string functions are slow.
    slug_first = np.array([f.lower() for f in FIRST_NAMES])
    slug_last = np.array([s.lower().replace(" ", "") for s in SURNAMES])
    slug_industry = np.array([s.split()[0].lower() for s in INDUSTRIES])
    domain = np.char.add(
        np.char.add(slug_last[surname[owner]], "-"),
        np.char.add(slug_industry[industry[owner]], ".example"),
    )
    email = np.char.add(
        np.char.add(slug_first[first_idx], "."),
        np.char.add(slug_last[last_idx], np.char.add("@", domain)),
    )
    codes = np.array(
        [COUNTRY_CODES[r][j % len(COUNTRY_CODES[r])] for r in REGIONS for j in range(4)]
    )
    digits = rng.integers(10_000_000, 100_000_000, size=m)
    phone = np.char.add(
        np.char.add(codes[region[owner] * 4 + rng.integers(0, 4, size=m)], " "),
        np.char.add(
            np.char.add((digits // 100_000).astype(str), " "),
            np.char.zfill((digits % 100_000).astype(str), 5),
        ),
    )
    roles = np.array(CONTACT_ROLES)[np.minimum(np.arange(m) - np.repeat(np.cumsum(k) - k, k), 2)]
    world.crm["contacts"] = {
        "contact_id": _ids("CON-", m, 7),
        "account_id": account_id[owner],
        "contact_name": np.char.add(np.char.add(first, " "), last),
        "email": email,
        "phone": phone,
        "role": roles,
        "updated_at": _iso_array(_timestamps(rng, m, "2025-10-01", "2026-11-30")),
    }
    world.first_contact = np.cumsum(k) - k

    # Entitlements: 1-4 distinct products per account, consecutive in a shuffled product order.
    n_products = len(world.products)
    k = rng.integers(1, 5, size=n)
    acc = np.repeat(np.arange(n), k)
    e = len(acc)
    j = np.arange(e) - np.repeat(np.cumsum(k) - k, k)
    order = rng.permutation(n_products)
    start = rng.integers(0, n_products, size=n)
    product_idx = order[(start[acc] + j) % n_products]
    ent_tier = tier[acc]
    starts = np.datetime64("2024-01-01") + rng.integers(0, 900, size=e).astype("timedelta64[D]")
    ends = starts + (np.array([365, 730, 1095])[rng.integers(0, 3, size=e)] - 1).astype(
        "timedelta64[D]"
    )
    status = np.where(rng.random(e) < 0.06, "pending", "approved")
    updated = _timestamps(rng, e, "2025-10-01", "2026-11-30")
    variant_mask = (ent_tier == 2) & (rng.random(e) < 0.08)
    # Plant at least three approved, long-running 10-minute variants known before r1 is published.
    candidates = np.flatnonzero((ent_tier == 2) & (acc_status[acc] == "approved"))
    planted = candidates[np.unique(acc[candidates], return_index=True)[1][:3]]
    variant_mask[planted] = True
    status[planted] = "approved"
    starts[planted] = np.datetime64("2025-06-01")
    ends[planted] = np.datetime64("2027-05-31")
    updated[planted] = np.datetime64("2025-10-15T09:30:00") + np.arange(len(planted)).astype(
        "timedelta64[h]"
    )
    account_updated = world.crm["accounts"]["updated_at"]
    account_updated[acc[planted]] = "2025-10-10T08:00:00Z"
    minutes = np.array([60, 30, 15])[ent_tier]
    minutes[variant_mask] = 10
    variant = np.where(variant_mask, VARIANT_10MIN, None).astype(object)
    clause = np.full(e, None, dtype=object)  # built for the few variant rows only: it is long text
    clause[variant_mask] = [
        f"Clause 7.3: the supplier gives {name} an initial Severity-1 incident update within "
        "ten (10) minutes of declaration."
        for name in account_name[acc[variant_mask]]
    ]
    world.crm["entitlements"] = {
        "entitlement_id": _ids("ENT-", e, 7),
        "account_id": account_id[acc],
        "product_id": np.array([p["product_id"] for p in world.products])[product_idx],
        "tier": np.array(TIERS)[ent_tier],
        "starts_on": np.datetime_as_string(starts, unit="D"),
        "ends_on": np.datetime_as_string(ends, unit="D"),
        "initial_response_minutes": minutes,
        "update_interval_minutes": np.array([120, 60, 30])[ent_tier],
        "notification_variant": variant,
        "contract_clause": clause,
        "record_status": status,
        "updated_at": _iso_array(updated),
    }


def _write_crm(path: Path, crm: dict[str, dict[str, np.ndarray]]) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA page_size=4096")
        sql_type = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}
        catalog = []
        for table in ("accounts", "contacts", "entitlements"):
            schema = SCHEMAS[table]
            cols = ", ".join(
                f"{c.name} {sql_type.get(c.dtype, 'TEXT')}{'' if c.nullable else ' NOT NULL'}"
                for c in schema
            )
            con.execute(f"CREATE TABLE {table} ({cols})")
            catalog += [(table, c.name, c.dtype, int(c.sensitive), c.doc) for c in schema]
            data = crm[table]
            n = len(data[schema[0].name])
            marks = ", ".join("?" for _ in schema)
            for lo in range(0, n, CHUNK):
                columns = [data[c.name][lo : lo + CHUNK].tolist() for c in schema]
                con.execute("BEGIN")
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", zip(*columns, strict=True))
                con.execute("COMMIT")
        con.execute(
            "CREATE TABLE column_catalog (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
            "dtype TEXT NOT NULL, sensitive INTEGER NOT NULL, description TEXT NOT NULL)"
        )
        con.executemany("INSERT INTO column_catalog VALUES (?, ?, ?, ?, ?)", catalog)
        for statement in (
            "CREATE UNIQUE INDEX ix_accounts_account_id ON accounts (account_id)",
            "CREATE INDEX ix_accounts_tier ON accounts (tier)",
            "CREATE INDEX ix_accounts_record_status ON accounts (record_status)",
            "CREATE UNIQUE INDEX ix_contacts_contact_id ON contacts (contact_id)",
            "CREATE INDEX ix_contacts_account_id ON contacts (account_id)",
            "CREATE UNIQUE INDEX ix_entitlements_entitlement_id ON entitlements (entitlement_id)",
            "CREATE INDEX ix_entitlements_account_id ON entitlements (account_id)",
            "CREATE INDEX ix_entitlements_product_id ON entitlements (product_id)",
            "CREATE INDEX ix_entitlements_tier ON entitlements (tier)",
            "CREATE INDEX ix_entitlements_record_status ON entitlements (record_status)",
        ):
            con.execute(statement)
    finally:
        con.close()


# --- exception register --------------------------------------------------------------------------

SCHEMA_KINDS = next(c.values for c in SCHEMAS["exceptions"] if c.name == "kind")
S1_STABLE_SECTIONS = (
    "Scope and entitlement assumptions", "Paging paths", "Escalation steps",
    "Ownership boundaries", "Approved product-specific exceptions",
)  # fmt: skip
PLANTED_EXCEPTIONS = (
    # id, product, kind, handling, section, pending at, decided at, valid_to, final status
    ("EXC-1001", "PRD-PAYAPI", "handling carve-out", "page-secondary-first", "Paging paths",
     "2025-11-20T10:00:00Z", "2025-12-01T15:00:00Z", None, "approved"),
    ("EXC-1002", "PRD-IDSVC", "handling carve-out", "page-secondary-first", "Paging paths",
     "2025-11-28T09:00:00Z", "2025-12-05T11:00:00Z", None, "approved"),
    ("EXC-1003", "PRD-IDSVC", "handling carve-out", "page-primary-and-account-manager",
     "Paging paths", "2025-12-10T09:30:00Z", "2025-12-18T14:00:00Z", None, "approved"),
    ("EXC-1004", "PRD-CHKWEB", "temporary staffing overlay", "named-engineer-on-bridge",
     "Escalation steps", "2025-12-08T08:00:00Z", "2025-12-15T16:00:00Z", "2026-03-31", "approved"),
    ("EXC-1005", "PRD-LEDGER", "handling carve-out", "extended-update-interval",
     "Escalation steps", "2026-02-15T10:00:00Z", "2026-03-02T13:00:00Z", None, "approved"),
    ("EXC-1006", "PRD-BILPOR", "handling carve-out", "page-primary-and-account-manager",
     "Ownership boundaries", "2026-05-20T10:00:00Z", None, "2026-12-31", "pending"),
    ("EXC-1007", "PRD-NOTGW", "contractual notification variant", "follow-the-sun-handover",
     CHECKPOINTS, "2025-12-01T09:00:00Z", "2025-12-10T12:00:00Z", None, "approved"),
    ("EXC-1008", "PRD-SRCHPL", "handling carve-out", "skip-status-page", "Paging paths",
     "2026-02-12T09:00:00Z", "2026-02-20T10:00:00Z", "2026-09-30", "approved"),
)  # fmt: skip
SUMMARY_REASONS = (
    "during their quarter-end freeze", "while their own operations centre is being moved",
    "because their contract names a single escalation line", "after a disputed outage last year",
    "for the duration of their migration project",
)  # fmt: skip


def _register(rng: np.random.Generator, n: int, world: World) -> None:
    acc, ent = world.crm["accounts"], world.crm["entitlements"]
    first_contact = world.first_contact

    def who(account_id: str) -> tuple[str, str]:
        i = int(np.searchsorted(acc["account_id"], account_id))  # ids are generated in order
        return acc["account_name"][i], world.crm["contacts"]["contact_name"][first_contact[i]]

    rows: list[dict] = []
    used: set[tuple[str, str]] = set()
    eligible = (ent["tier"] == "Premium Plus") & (ent["record_status"] == "approved")
    for (
        eid,
        pid,
        kind,
        handling,
        section,
        pending_at,
        decided_at,
        valid_to,
        final,
    ) in PLANTED_EXCEPTIONS:
        if eid == "EXC-1003":  # same account and product as EXC-1002: the ambiguous carve-out
            account = world.planted_exc["EXC-1002"]["account_id"]
        else:
            hits = np.flatnonzero(eligible & (ent["product_id"] == pid))
            hits = hits if len(hits) else np.flatnonzero(ent["product_id"] == pid)
            account = ent["account_id"][hits[0]] if len(hits) else acc["account_id"][0]
        used.add((account, pid))
        name, contact = who(account)
        base = {
            "exception_id": eid,
            "account_id": account,
            "product_id": pid,
            "kind": kind,
            "handling": handling,
            "status": "pending",
            "approver": None,
            "valid_from": (decided_at or pending_at)[:10],
            "valid_to": valid_to,
            "runbook_id": S1,
            "section": section,
            "summary": f"{name} ({contact}) asked for {handling} on {world.product_names[pid]} "
            f"Severity-1 incidents {SUMMARY_REASONS[len(rows) % len(SUMMARY_REASONS)]}.",
            "recorded_at": pending_at,
        }
        rows.append(base)
        if decided_at:
            rows.append(
                base
                | {"status": final, "approver": APPROVERS[len(rows) % 3], "recorded_at": decided_at}
            )
        world.planted_exc[eid] = base | {"status": final}
    planted = _frame(rows, "exceptions")

    # The rest: one exception per distinct (account, product) pair, so only the planted pair is
    # ambiguous; sections are headings every revision keeps, so only the planted one is orphaned.
    m = n - len(PLANTED_EXCEPTIONS)
    pairs = pd.Series(
        list(zip(ent["account_id"].tolist(), ent["product_id"].tolist(), strict=True))
    )
    pool = np.flatnonzero(~pairs.isin(used).to_numpy())
    pick = np.sort(rng.choice(pool, size=m, replace=False))
    account_idx = np.searchsorted(acc["account_id"], ent["account_id"][pick])
    product_name = np.array([world.product_names[p] for p in ent["product_id"][pick]])
    bridge = rng.random(m) < 0.1
    sections = np.where(
        bridge,
        np.array(BRIDGE_SECTIONS)[rng.integers(0, len(BRIDGE_SECTIONS), size=m)],
        np.array(S1_STABLE_SECTIONS)[rng.integers(0, len(S1_STABLE_SECTIONS), size=m)],
    )
    handling = np.array(HANDLINGS)[rng.integers(0, len(HANDLINGS), size=m)]
    summary = np.char.add(
        np.char.add(acc["account_name"][account_idx], " ("),
        np.char.add(
            np.char.add(
                world.crm["contacts"]["contact_name"][first_contact[account_idx]], ") asked for "
            ),
            np.char.add(
                np.char.add(np.char.add(handling, " on "), product_name),
                np.char.add(
                    " Severity-1 incidents ",
                    np.char.add(np.array(SUMMARY_REASONS)[rng.integers(0, 5, size=m)], "."),
                ),
            ),
        ),
    )
    created = _timestamps(rng, m, "2025-10-01", "2026-09-30")
    decided = created + rng.integers(1, 21, size=m).astype("timedelta64[D]")
    revoked_at = decided + rng.integers(30, 200, size=m).astype("timedelta64[D]")
    final = np.array(["approved", "pending", "rejected", "revoked"])[
        rng.choice(4, size=m, p=[0.55, 0.15, 0.15, 0.15])
    ]
    start = np.where(final == "pending", created, decided).astype("datetime64[D]")
    end = start + rng.integers(90, 541, size=m).astype("timedelta64[D]")
    valid_to = np.where(rng.random(m) < 0.3, None, np.datetime_as_string(end, unit="D")).astype(
        object
    )
    base = pd.DataFrame(
        {
            "exception_id": np.char.add(
                "EXC-", (np.arange(m) + 1001 + len(PLANTED_EXCEPTIONS)).astype(str)
            ),
            "account_id": ent["account_id"][pick],
            "product_id": ent["product_id"][pick],
            "kind": np.array(SCHEMA_KINDS)[rng.integers(0, len(SCHEMA_KINDS), size=m)],
            "handling": handling,
            "status": "pending",
            "approver": None,
            "valid_from": np.datetime_as_string(start, unit="D"),
            "valid_to": valid_to,
            "runbook_id": np.where(bridge, BRIDGE, S1),
            "section": sections,
            "summary": summary,
            "recorded_at": _iso_array(created),
        },
        dtype=object,
    )
    approver = np.array(APPROVERS, dtype=object)[rng.integers(0, 3, size=m)]
    decided_rows = base[final != "pending"].assign(
        status=np.where(final == "rejected", "rejected", "approved")[final != "pending"],
        approver=approver[final != "pending"],
        recorded_at=_iso_array(decided)[final != "pending"],
    )
    revoked_rows = decided_rows[final[final != "pending"] == "revoked"].assign(
        status="revoked", recorded_at=_iso_array(revoked_at)[final == "revoked"]
    )
    frame = pd.concat([planted, base, decided_rows, revoked_rows], ignore_index=True)
    world.exceptions = frame.sort_values(
        ["recorded_at", "exception_id"], kind="stable"
    ).reset_index(drop=True)


# --- gold labels ---------------------------------------------------------------------------------


def _as_of(frame: pd.DataFrame, key: str, at: str) -> pd.DataFrame:
    """Latest row per ``key`` recorded at or before ``at`` (ISO text compares in time order)."""
    known = frame[frame["recorded_at"] <= at]
    return known.sort_values("recorded_at", kind="stable").groupby(key, sort=True).tail(1)


def _span(rendered: Rendered, key: str) -> list[int]:
    parts = key.split("+")
    return [rendered.spans[parts[0]][0], rendered.spans[parts[-1]][1]]


def _section_of(rendered: Rendered, title: str, line: int) -> list[str]:
    for heading, (first, last) in rendered.sections.values():
        if first <= line <= last:
            return [title, heading]
    return [title]


def _section_texts(rendered: Rendered) -> dict[str, str]:
    return {
        heading: "\n".join(rendered.lines[first - 1 : last])
        for heading, (first, last) in rendered.sections.values()
    }


def _changes(title: str, old: Rendered, new: Rendered, planted: list[Change]) -> list[dict]:
    out = []
    for cls, kind, unit, key, ref in planted:
        old_lines = None if kind == "added" else _span(old, key)
        new_lines = None if kind == "removed" else _span(new, key)
        section = (
            _section_of(new, title, new_lines[0])
            if new_lines
            else _section_of(old, title, old_lines[0])
        )
        out.append(
            {
                "class": cls,
                "kind": kind,
                "unit": unit,
                "section": section,
                "old_lines": old_lines,
                "new_lines": new_lines,
                "ref": ref,
            }
        )
    return out


SCOPE_CLAIM = re.compile(
    r"(Premium Plus|Premium|Standard)(?: tier)? accounts"
    r" receive an initial update within (\d+) minutes"
)
OPEN_MARKERS = ("TBD", "pending product-owner confirmation")


def _issues(
    runbook_id: str, state: S1State | None, new: Rendered, at: str, world: World
) -> list[dict]:
    """The planted issues that hold for one published revision as of ``at``, by simple rules."""
    title = S1_TITLE if runbook_id == S1 else BRIDGE_TITLE
    day = at[:10]
    soon = (date.fromisoformat(day) + timedelta(days=EXPIRING_WITHIN_DAYS)).isoformat()
    stale_before = _iso(_at(at) - timedelta(days=STALE_AFTER_DAYS))
    issues: list[dict] = []

    def issue(kind: str, ref: str | None, key: str | None, **extra: Any) -> None:
        lines = _span(new, key) if key else None
        section = _section_of(new, title, lines[0]) if lines else None
        issues.append({"kind": kind, "ref": ref, **extra, "section": section, "lines": lines})

    register = _as_of(world.exceptions, "exception_id", at).set_index("exception_id")
    headings = {heading for heading, _ in new.sections.values()}
    live = register[
        (register["status"] == "approved")
        & (register["runbook_id"] == runbook_id)
        & (register["valid_to"].isna() | (register["valid_to"] >= day))
    ]
    for eid in live.index[~live["section"].isin(headings)]:
        issue("orphaned_exception", eid, None, section_ref=live.at[eid, "section"])
    if state is not None:
        products = _as_of(world.product_rows, "product_id", at).set_index("product_id")
        teams = _as_of(world.team_rows, "team", at)
        pagers = set(teams["pager"]) | set(products["escalation_pager"])
        team_by_name = dict(zip(teams["display_name"], teams["team"], strict=True))
        for pid, (_, primary, secondary, _) in state.paging:
            if products.at[pid, "last_verified_at"] < stale_before:
                issue(
                    "stale_ownership",
                    pid,
                    f"paging:{pid}",
                    last_verified_at=products.at[pid, "last_verified_at"],
                )
            for pager in (primary, secondary):
                if pager not in pagers:
                    issue("unknown_reference", pager, f"paging:{pid}")
        for pid, (_, team_name, _) in state.ownership:
            if team_by_name.get(team_name) != products.at[pid, "owning_team"]:
                issue(
                    "ownership_conflict",
                    pid,
                    f"owner:{pid}",
                    registry_team=products.at[pid, "owning_team"],
                )
        approved = []
        for eid in state.exceptions:
            row = register.loc[eid] if eid in register.index else None
            if row is None or row["status"] != "approved":
                issue(
                    "exception_not_approved",
                    eid,
                    f"exc:{eid}",
                    status=None if row is None else row["status"],
                )
                continue
            approved.append(eid)
            if row["valid_to"] is not None and row["valid_to"] < day:
                issue("exception_expired", eid, f"exc:{eid}", valid_to=row["valid_to"])
            elif row["valid_to"] is not None and row["valid_to"] <= soon:
                issue("exception_expiring", eid, f"exc:{eid}", valid_to=row["valid_to"])
        groups = register.loc[approved].groupby(["account_id", "product_id"], sort=True)
        for (_, pid), group in groups:
            if group["handling"].nunique() > 1:
                ids = sorted(group.index)
                issue("ambiguous_carve_out", pid, f"exc:{ids[0]}+exc:{ids[-1]}", refs=ids)
        ent = world.crm["entitlements"]
        for key, text in state.scope:
            match = SCOPE_CLAIM.search(text)
            if not match:
                continue
            tier, minutes = match.group(1), int(match.group(2))
            faster = (
                (ent["tier"] == tier)
                & (ent["record_status"] == "approved")
                & (ent["starts_on"] <= day)
                & (ent["ends_on"] >= day)
                & (ent["updated_at"] <= at)
                & (
                    (ent["initial_response_minutes"] < minutes)
                    | (ent["notification_variant"] == VARIANT_10MIN)
                )
            )
            if faster.any():
                issue(
                    "unsupported_impact_assumption",
                    VARIANT_10MIN,
                    key,
                    tier=tier,
                    stated_minutes=minutes,
                    contradicting_entitlements=int(faster.sum()),
                )
        for key, text in state.open_questions:
            for marker in OPEN_MARKERS:
                if marker in text:
                    issue("open_question", marker, key)
    return sorted(issues, key=lambda i: (i["kind"], str(i["ref"]), i["lines"] or [0]))


# --- writing -------------------------------------------------------------------------------------


def _write_csv(path: Path, frame: pd.DataFrame, table: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c.name for c in SCHEMAS[table]]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        values = frame[columns].astype(object).where(frame[columns].notna(), "")
        writer.writerows(values.itertuples(index=False, name=None))


def _build(
    root: Path, *, seed: int, accounts: int, steps: int, products: int, exceptions: int
) -> dict:
    rng = np.random.default_rng(seed)
    world = _registry(rng, products)
    _crm(rng, accounts, world)
    _register(rng, exceptions, world)

    s1 = [
        (meta, state, _s1_doc(state, meta, world), ch) for meta, state, ch in _s1_plan(world, steps)
    ]
    bridge = [(meta, None, rendered, ch) for meta, rendered, ch in _bridge_plan()]
    files: dict[tuple[str, str], bytes] = {}
    for meta, _, rendered, _ in s1 + bridge:
        path = root / "runbooks" / meta["runbook_id"] / f"{meta['revision']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered.text.encode("utf-8"))
        files[meta["runbook_id"], meta["revision"]] = rendered.text.encode("utf-8")

    _write_crm(root / "crm.sqlite", world.crm)
    _write_csv(root / "registry" / "products.csv", world.product_rows, "products")
    _write_csv(root / "registry" / "teams.csv", world.team_rows, "teams")
    _write_csv(root / "registry" / "known_issues.csv", world.known_issues, "known_issues")
    _write_csv(root / "exceptions" / "register.csv", world.exceptions, "exceptions")
    n_events = _write_feed(root / "feed" / "events.jsonl", s1 + bridge, files)

    gold: dict[str, Any] = {
        "schema_version": 1,
        "thresholds": {
            "stale_after_days": STALE_AFTER_DAYS,
            "expiring_within_days": EXPIRING_WITHIN_DAYS,
        },
        "revisions": {},
    }
    for runs, title in ((s1, S1_TITLE), (bridge, BRIDGE_TITLE)):
        baseline = None
        for meta, state, rendered, planted in runs:
            if meta["status"] != "published":
                continue
            rid, rev = meta["runbook_id"], meta["revision"]
            old_meta, old = (baseline[0], baseline[2]) if baseline else (None, None)
            old_texts = _section_texts(old) if old else {}
            gold["revisions"][f"{rid}@{rev}"] = {
                "runbook_id": rid,
                "revision": rev,
                "baseline": old_meta["revision"] if old_meta else None,
                "as_of": meta["published_at"],
                "changes": _changes(title, old, rendered, planted) if old else [],
                "issues": _issues(rid, state, rendered, meta["published_at"], world),
                "unchanged_sections": [
                    [title, heading]
                    for heading, text in _section_texts(rendered).items()
                    if old_texts.get(heading) == text
                ],
            }
            baseline = (meta, state, rendered)
    gold_path = root / "gold" / "labels.json"
    gold_path.parent.mkdir(parents=True)
    gold_path.write_text(json.dumps(gold, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    world_info = {
        "generator": GENERATOR,
        "schema_version": 1,
        "parameters": {
            "seed": seed,
            "accounts": accounts,
            "steps": steps,
            "products": products,
            "exceptions": exceptions,
        },
        "counts": {
            "accounts": accounts,
            "contacts": len(world.crm["contacts"]["contact_id"]),
            "entitlements": len(world.crm["entitlements"]["entitlement_id"]),
            "products": products,
            "product_versions": len(world.product_rows),
            "team_versions": len(world.team_rows),
            "known_issue_versions": len(world.known_issues),
            "exceptions": exceptions,
            "exception_versions": len(world.exceptions),
            "revisions": len(files),
            "feed_lines": n_events,
            "gold_revisions": len(gold["revisions"]),
        },
        "runbooks": {
            rid: {rev: status for (r, rev), status in _statuses(s1 + bridge).items() if r == rid}
            for rid in (S1, BRIDGE)
        },
    }
    (root / "README.md").write_text(_readme(world_info, gold), encoding="utf-8")
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    world_info["files"] = [*written, "world.json"]
    (root / "world.json").write_text(json.dumps(world_info, indent=2) + "\n", encoding="utf-8")
    return world_info


def _statuses(runs: list) -> dict[tuple[str, str], str]:
    return {(m["runbook_id"], m["revision"]): m["status"] for m, *_ in runs}


def _write_feed(path: Path, runs: list, files: dict[tuple[str, str], bytes]) -> int:
    events = []
    for meta, *_ in runs:
        key = (meta["runbook_id"], meta["revision"])
        digest = hashlib.sha256(files[key]).hexdigest()
        if meta["status"] == "draft":
            events.append((DRAFT_SAVED[key], "runbook.draft_saved", key, DRAFT_AUTHOR, digest))
        else:
            events.append(
                (meta["published_at"], "runbook.published", key, meta["approved_by"], digest)
            )
        if key in WITHDRAWN:
            at, actor = WITHDRAWN[key]
            events.append((at, "runbook.withdrawn", key, actor, digest))
    events.sort()
    lines = []
    for n, (at, kind, (rid, rev), actor, digest) in enumerate(events, start=1):
        event = {
            "event_id": f"EVT-{n:06d}",
            "type": kind,
            "runbook_id": rid,
            "revision": rev,
            "occurred_at": at,
            "actor": actor,
            "content_sha256": digest,
        }
        lines.append(json.dumps(event))
        if (rid, rev) == (S1, "r4") and kind == "runbook.published":
            lines.append(lines[-1])  # the feed delivered this one twice
        if (rid, rev) == (S1, "r6"):
            lines.append(lines[-1][: len(lines[-1]) // 2])  # a line cut off mid-write
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _lines(span: list[int] | None) -> str:
    return "—" if span is None else f"L{span[0]}-L{span[1]}"


def _readme(info: dict, gold: dict) -> str:
    p = info["parameters"]
    out = [
        "# Sample world",
        "",
        "Generated by `digestkit sample` (`digestkit.sample.generate_world`) with "
        f"seed={p['seed']}, accounts={p['accounts']}, steps={p['steps']}, "
        f"products={p['products']}, exceptions={p['exceptions']}. Do not edit by hand: "
        "`tests/test_sample.py` checks that these files equal a fresh generation. "
        "All names, contacts and contract texts are fictional.",
        "",
        "| File | Contents |",
        "| --- | --- |",
        "| `world.json` | generation parameters, row counts, revision statuses, file list |",
        "| `runbooks/<runbook_id>/<revision>.md` | runbook revisions: YAML front matter "
        "(runbook_id, revision, title, status, supersedes, approved_by, published_at, "
        "change_reason) and a Markdown body |",
        "| `crm.sqlite` | tables `accounts`, `contacts`, `entitlements` (columns as "
        "`digestkit.sources.SCHEMAS`) and `column_catalog` marking the sensitive columns |",
        "| `registry/products.csv` | product ownership, append-only (state as of T = latest row "
        "with recorded_at <= T) |",
        "| `registry/teams.csv` | teams, display names and pagers, append-only |",
        "| `registry/known_issues.csv` | known issues per product, append-only |",
        "| `exceptions/register.csv` | exception register, append-only |",
        "| `feed/events.jsonl` | publication feed, one event per line; one line is a verbatim "
        "duplicate and one is truncated JSON, on purpose |",
        "| `gold/labels.json` | planted changes and issues per published revision "
        "(line numbers count the front matter) |",
        "",
        f"Counts: {', '.join(f'{k} {v}' for k, v in info['counts'].items())}.",
        "",
        "Revision statuses: "
        + "; ".join(
            f"{rid}: " + ", ".join(f"{rev} {st}" for rev, st in revs.items())
            for rid, revs in info["runbooks"].items()
        )
        + ".",
        "",
        "## Planted cases per published revision",
        "",
        "Changes are listed against the previous published revision. Renumbering that follows "
        "from an inserted, removed or moved step is not listed separately, nor is the "
        "'None at publication.' line that the r7 open questions replace. `formatting_only` "
        "edits are listed so that tests can check they are *not* reported.",
        "",
    ]
    for key, entry in gold["revisions"].items():
        out.append(f"### {key} (baseline {entry['baseline'] or 'none'}, as of {entry['as_of']})")
        out.append("")
        for c in entry["changes"]:
            ref = f" `{c['ref']}`" if c["ref"] else ""
            out.append(
                f"- change `{c['class']}` ({c['kind'] or 'not a change'}, {c['unit']}){ref}: "
                f"old {_lines(c['old_lines'])}, new {_lines(c['new_lines'])}"
            )
        for i in entry["issues"]:
            ref = ", ".join(i.get("refs") or [i["ref"]])
            out.append(f"- issue `{i['kind']}` `{ref}` at {_lines(i['lines'])}")
        if not entry["changes"] and not entry["issues"]:
            out.append("- nothing planted")
        out.append("")
    return "\n".join(out)


# --- git -----------------------------------------------------------------------------------------


def write_git_repository(runbooks_dir: str | Path, dest: str | Path) -> Path:
    """Turn a folder repository (runbooks/<runbook_id>/<revision>.md) into a git repository.

    Each revision becomes one commit of ``<runbook_id>.md`` at the repository root, tagged
    ``<runbook_id>/<revision>``, authored by its approver (or ``u-unknown`` for drafts) at its
    publication time; a draft is dated halfway between its neighbours. Commits are in time order,
    and the same folder always gives the same commit ids.
    """
    src, dest = Path(runbooks_dir), Path(dest)
    revisions = sorted(src.glob("*/*.md"))
    if not revisions:
        raise DigestkitError(f"{src}: no <runbook_id>/<revision>.md files to commit")
    if dest.exists() and any(dest.iterdir()):
        raise DigestkitError(f"{dest} is not empty; choose a new directory for the git repository")
    entries = []
    for runbook in sorted({p.parent.name for p in revisions}):
        files = sorted(
            (p for p in revisions if p.parent.name == runbook),
            key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.stem)],
        )
        metas = [_front_matter(p) for p in files]
        times: list[datetime | None] = [
            _at(str(m["published_at"]).replace("+00:00", "Z")) if m.get("published_at") else None
            for m in metas
        ]
        for i, at in enumerate(times):
            if at is None:
                before = next((t for t in reversed(times[:i]) if t), datetime(2025, 1, 1))
                after = next((t for t in times[i + 1 :] if t), before + timedelta(days=2))
                times[i] = before + (after - before) / 2
        entries += [(times[i], runbook, p, metas[i]) for i, p in enumerate(files)]
    dest.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(dest),
        "TZ": "UTC",
    }

    def git(*args: str, **extra: str) -> None:
        proc = subprocess.run(
            ["git", "-C", str(dest), *args],
            env=env | extra,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            raise DigestkitError(f"git {args[0]} failed in {dest}: {proc.stderr.strip()}")

    git("init", "-q", "-b", "main")
    for at, runbook, path, meta in sorted(entries, key=lambda e: (e[0], e[1])):
        shutil.copyfile(path, dest / f"{runbook}.md")
        who = str(meta.get("approved_by") or "u-unknown")
        stamp = f"{at.strftime('%Y-%m-%dT%H:%M:%S')}+0000"
        ident = {
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": f"{who}@example.invalid",
            "GIT_COMMITTER_NAME": who,
            "GIT_COMMITTER_EMAIL": f"{who}@example.invalid",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        git("add", f"{runbook}.md")
        message = f"{runbook} {path.stem} ({meta.get('status')}): {meta.get('change_reason')}"
        git("-c", "commit.gpgsign=false", "commit", "-q", "-m", message, **ident)
        git("tag", f"{runbook}/{path.stem}")
    return dest


def _front_matter(path: Path) -> dict:
    import yaml

    text = path.read_text("utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise DigestkitError(f"{path}: no YAML front matter; the file must start with '---'")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise DigestkitError(f"{path}: front matter is not a YAML mapping")
    return meta
