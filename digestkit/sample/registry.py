"""The sample product registry (products, teams, known issues) and the exception register.

Both are append-only tables: every change is a new row with its ``recorded_at``, so the state as
of a time is the latest row per key recorded at or before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from digestkit.clock import format_utc
from digestkit.sample.crm import iso_times, random_times
from digestkit.sample.world import (
    BRIDGE,
    BRIDGE_SECTIONS,
    CHECKPOINTS,
    PAGING_ROWS_MAX,
    S1,
    Crm,
    PlantedException,
    Product,
    Register,
    Registry,
)
from digestkit.sources import SCHEMAS

__all__ = ["generate_register", "generate_registry"]

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


#: One row of an append-only table, by column name.
Row = dict[str, Any]


def _product_catalog(n: int) -> list[Product]:
    products = list(NAMED_PRODUCTS[:n])
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
        boundary = "Service runtime, deployments and data stores"
        products.append((pid, name, teams[i % len(teams)], boundary))
    team_pager = {slug: pager for slug, _, pager in TEAMS}
    return [
        Product(pid, name, team, boundary, team_pager[team])
        for pid, name, team, boundary in products
    ]


def generate_registry(rng: np.random.Generator, n_products: int) -> Registry:
    """The product catalogue and the registry's products, teams and known-issues tables."""
    products = _product_catalog(n_products)
    team_names = {slug: name for slug, name, _ in TEAMS} | {LATE_TEAM[0]: LATE_TEAM[1]}
    rows: list[Row] = []
    verifications = ("2025-11-01", "2026-01-01", "2026-03-01", "2026-05-01", "2026-07-01",
                     "2026-09-01", "2026-11-01")  # fmt: skip
    for i, p in enumerate(products):
        offset = timedelta(days=i % 20, hours=8, minutes=(7 * i) % 60)
        state = {
            "product_id": p.product_id,
            "product_name": p.name,
            "owning_team": p.team,
            "escalation_pager": p.pager,
            "owner_since": format_utc(
                datetime(2024, 1, 15) + timedelta(days=int(rng.integers(0, 500)))
            ),
            "status": "active",
        }
        events: list[tuple[datetime, Row]] = [(datetime(2025, 9, 1) + offset, {})]
        if i < PAGING_ROWS_MAX:
            # Referenced products are re-verified every two months, so they never go stale...
            events += [(datetime.fromisoformat(d) + offset, {}) for d in verifications]
        elif rng.random() < 0.2:
            events.append((datetime(2026, 4, 1) + offset, {"status": "deprecated"}))
        if p.product_id == "PRD-LEDGER":  # ...except the Ledger Service, verified last in Nov.
            events = [events[0], (datetime(2025, 11, 20, 10), {})]
        if p.product_id == "PRD-PAYAPI":
            events.append((datetime(2026, 2, 1, 12), {"escalation_pager": "payments-l2-oncall"}))
        if p.product_id == "PRD-DATEXP":
            at = datetime(2026, 4, 10, 9)
            events.append((at, {"owning_team": "analytics-eng", "owner_since": format_utc(at)}))
        for at, change in sorted(events, key=lambda e: e[0]):
            state |= change
            rows.append(state | {"last_verified_at": format_utc(at), "recorded_at": format_utc(at)})
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

    issues: list[Row] = []
    for i, p in enumerate(products):
        for _ in range(int(rng.integers(0, 3)) if i < 200 else int(rng.random() < 0.1)):
            opened = datetime(2025, 10, 1) + timedelta(minutes=int(rng.integers(0, 60 * 24 * 400)))
            base = {
                "issue_id": f"KI-{2001 + len(issues)}",
                "product_id": p.product_id,
                "title": KNOWN_ISSUE_TITLES[int(rng.integers(0, len(KNOWN_ISSUE_TITLES)))],
                "exception_note": "Page the secondary rotation first while this issue is open."
                if rng.random() < 0.3
                else None,
                "status": "open",
                "opened_at": format_utc(opened),
                "recorded_at": format_utc(opened),
            }
            issues.append(base)
            final = ("open", "mitigated", "closed")[int(rng.integers(0, 3))]
            if final != "open":
                later = opened + timedelta(days=int(rng.integers(2, 60)))
                issues.append(base | {"status": final, "recorded_at": format_utc(later)})
    known = _frame(issues, "known_issues").sort_values(["recorded_at", "issue_id"], kind="stable")
    return Registry(
        products=products,
        product_names={p.product_id: p.name for p in products},
        team_names=team_names,
        product_rows=product_rows.reset_index(drop=True),
        team_rows=teams.reset_index(drop=True),
        known_issues=known.reset_index(drop=True),
    )


def _frame(rows: list[Row], table: str) -> pd.DataFrame:
    """``rows`` as a frame of ``table``'s columns in schema order, every value kept as is."""
    columns = [c.name for c in SCHEMAS[table]]
    return pd.DataFrame([[r[c] for c in columns] for r in rows], columns=columns, dtype=object)


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


def generate_register(rng: np.random.Generator, n: int, registry: Registry, crm: Crm) -> Register:
    """``n`` exceptions: the planted ones, then one per random unused (account, product) pair."""
    acc, ent, contact_names = crm.accounts, crm.entitlements, crm.contacts["contact_name"]
    first_contact = crm.first_contact
    planted_exc: dict[str, PlantedException] = {}

    def who(account_id: str) -> tuple[str, str]:
        i = int(np.searchsorted(acc["account_id"], account_id))  # ids are generated in order
        return acc["account_name"][i], contact_names[first_contact[i]]

    rows: list[Row] = []
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
            account = planted_exc["EXC-1002"].account_id
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
            "summary": f"{name} ({contact}) asked for {handling} on {registry.product_names[pid]} "
            f"Severity-1 incidents {SUMMARY_REASONS[len(rows) % len(SUMMARY_REASONS)]}.",
            "recorded_at": pending_at,
        }
        rows.append(base)
        if decided_at:
            rows.append(
                base
                | {"status": final, "approver": APPROVERS[len(rows) % 3], "recorded_at": decided_at}
            )
        planted_exc[eid] = PlantedException(str(account), pid, kind, final)
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
    product_name = np.array([registry.product_names[p] for p in ent["product_id"][pick]])
    bridge = rng.random(m) < 0.1
    sections = np.where(
        bridge,
        np.array(BRIDGE_SECTIONS)[rng.integers(0, len(BRIDGE_SECTIONS), size=m)],
        np.array(S1_STABLE_SECTIONS)[rng.integers(0, len(S1_STABLE_SECTIONS), size=m)],
    )
    handlings = np.array(HANDLINGS)[rng.integers(0, len(HANDLINGS), size=m)]
    summary = np.char.add(
        np.char.add(acc["account_name"][account_idx], " ("),
        np.char.add(
            np.char.add(contact_names[first_contact[account_idx]], ") asked for "),
            np.char.add(
                np.char.add(np.char.add(handlings, " on "), product_name),
                np.char.add(
                    " Severity-1 incidents ",
                    np.char.add(np.array(SUMMARY_REASONS)[rng.integers(0, 5, size=m)], "."),
                ),
            ),
        ),
    )
    created = random_times(rng, m, "2025-10-01", "2026-09-30")
    decided = created + rng.integers(1, 21, size=m).astype("timedelta64[D]")
    revoked_at = decided + rng.integers(30, 200, size=m).astype("timedelta64[D]")
    outcome = np.array(["approved", "pending", "rejected", "revoked"])[
        rng.choice(4, size=m, p=[0.55, 0.15, 0.15, 0.15])
    ]
    start = np.where(outcome == "pending", created, decided).astype("datetime64[D]")
    end = start + rng.integers(90, 541, size=m).astype("timedelta64[D]")
    valid_to = np.datetime_as_string(end, unit="D").astype(object)
    valid_to[rng.random(m) < 0.3] = None
    pending_rows = pd.DataFrame(
        {
            "exception_id": np.char.add(
                "EXC-", (np.arange(m) + 1001 + len(PLANTED_EXCEPTIONS)).astype(str)
            ),
            "account_id": ent["account_id"][pick],
            "product_id": ent["product_id"][pick],
            "kind": np.array(SCHEMA_KINDS)[rng.integers(0, len(SCHEMA_KINDS), size=m)],
            "handling": handlings,
            "status": "pending",
            "approver": None,
            "valid_from": np.datetime_as_string(start, unit="D"),
            "valid_to": valid_to,
            "runbook_id": np.where(bridge, BRIDGE, S1),
            "section": sections,
            "summary": summary,
            "recorded_at": iso_times(created),
        },
        dtype=object,
    )
    approver = np.array(APPROVERS, dtype=object)[rng.integers(0, 3, size=m)]
    decided_rows = pending_rows[outcome != "pending"].assign(
        status=np.where(outcome == "rejected", "rejected", "approved")[outcome != "pending"],
        approver=approver[outcome != "pending"],
        recorded_at=iso_times(decided)[outcome != "pending"],
    )
    revoked_rows = decided_rows[outcome[outcome != "pending"] == "revoked"].assign(
        status="revoked", recorded_at=iso_times(revoked_at)[outcome == "revoked"]
    )
    versions = pd.concat([planted, pending_rows, decided_rows, revoked_rows], ignore_index=True)
    ordered = versions.sort_values(["recorded_at", "exception_id"], kind="stable")
    return Register(ordered.reset_index(drop=True), planted_exc)
