"""The sample CRM: accounts, contacts, entitlements and severity-one cases, written to SQLite.

Columns are numpy arrays built a table at a time, never row by row; names, e-mails, phones and
contract clauses are fictional but shaped like real ones, so minimisation tests have something
to find.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import numpy.typing as npt

from digestkit.sample.world import VARIANT_10MIN, Columns, Crm, Registry
from digestkit.sources import SCHEMAS, TIERS
from digestkit.sources.cases import CASES_COLUMNS, CASES_TABLE
from digestkit.sources.lookup import lookup_indexes
from digestkit.sources.schema import Column

__all__ = ["CASES", "generate_cases", "generate_crm", "iso_times", "random_times", "write_crm"]

#: Rows per INSERT transaction: bounded memory whatever the account count.
CHUNK = 100_000

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

Times = npt.NDArray[np.datetime64]


def random_times(rng: np.random.Generator, n: int, start: str, end: str) -> Times:
    """``n`` uniform random instants (second precision) from ``start`` up to ``end``."""
    lo, hi = np.datetime64(start, "s"), np.datetime64(end, "s")
    seconds = rng.integers(0, int((hi - lo).astype(np.int64)), size=n)
    return lo + seconds.astype("timedelta64[s]")


def iso_times(values: Times) -> npt.NDArray[np.str_]:
    """Each instant as ``2026-06-01T09:30:00Z`` text (the record format of digestkit.clock)."""
    return np.char.add(np.datetime_as_string(values.astype("datetime64[s]"), unit="s"), "Z")


def _ids(prefix: str, n: int, width: int) -> npt.NDArray[np.str_]:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def generate_crm(rng: np.random.Generator, n: int, registry: Registry) -> Crm:
    """``n`` accounts with their contacts and entitlements to ``registry``'s products."""
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
    accounts: Columns = {
        "account_id": account_id,
        "account_name": account_name,
        "tier": np.array(TIERS)[tier],
        "region": np.array(REGIONS)[region],
        "record_status": acc_status,
        "updated_at": iso_times(random_times(rng, n, "2025-10-01", "2026-11-30")),
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
    contacts: Columns = {
        "contact_id": _ids("CON-", m, 7),
        "account_id": account_id[owner],
        "contact_name": np.char.add(np.char.add(first, " "), last),
        "email": email,
        "phone": phone,
        "role": roles,
        "updated_at": iso_times(random_times(rng, m, "2025-10-01", "2026-11-30")),
    }
    first_contact = np.cumsum(k) - k

    # Entitlements: 1-4 distinct products per account, consecutive in a shuffled product order.
    n_products = len(registry.products)
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
    updated = random_times(rng, e, "2025-10-01", "2026-11-30")
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
    account_updated = accounts["updated_at"]
    account_updated[acc[planted]] = "2025-10-10T08:00:00Z"
    minutes = np.array([60, 30, 15])[ent_tier]
    minutes[variant_mask] = 10
    variant = np.full(e, None, dtype=object)
    variant[variant_mask] = VARIANT_10MIN
    clause = np.full(e, None, dtype=object)  # built for the few variant rows only: it is long text
    clause[variant_mask] = [
        f"Clause 7.3: the supplier gives {name} an initial Severity-1 incident update within "
        "ten (10) minutes of declaration."
        for name in account_name[acc[variant_mask]]
    ]
    entitlements: Columns = {
        "entitlement_id": _ids("ENT-", e, 7),
        "account_id": account_id[acc],
        "product_id": np.array([p.product_id for p in registry.products])[product_idx],
        "tier": np.array(TIERS)[ent_tier],
        "starts_on": np.datetime_as_string(starts, unit="D"),
        "ends_on": np.datetime_as_string(ends, unit="D"),
        "initial_response_minutes": minutes,
        "update_interval_minutes": np.array([120, 60, 30])[ent_tier],
        "notification_variant": variant,
        "contract_clause": clause,
        "record_status": status,
        "updated_at": iso_times(updated),
    }
    return Crm(accounts, contacts, entitlements, first_contact)


#: Severity-one cases in the sample, opened over the sample's year of publications.
CASES = 60
#: Seeds the cases' own random stream, so adding them left every other generated value as it was.
_CASES_STREAM = 1_000_003


def generate_cases(seed: int, crm: Crm, n: int = CASES) -> Columns:
    """``n`` severity-one cases on approved entitlements: account, one of its products, time."""
    rng = np.random.default_rng([seed, _CASES_STREAM])
    ent = crm.entitlements
    eligible = np.flatnonzero(ent["record_status"] == "approved")
    pick = eligible[rng.integers(0, len(eligible), size=n)]
    opened = np.sort(random_times(rng, n, "2026-01-05", "2026-10-31"))
    return {
        "case_id": _ids("CASE-", n, 6),
        "account_id": ent["account_id"][pick],
        "product_id": ent["product_id"][pick],
        "opened_at": iso_times(opened),
    }


def write_crm(path: Path, crm: Crm, cases: Columns | None = None) -> None:
    """Write the CRM tables (and ``cases``), the column catalog (sensitive columns) and indexes."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA page_size=4096")
        sql_type = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}
        catalog = []
        tables: dict[str, tuple[Columns, tuple[Column, ...]]] = {
            name: (data, SCHEMAS[name]) for name, data in crm.tables().items()
        }
        if cases is not None:
            tables[CASES_TABLE] = (cases, CASES_COLUMNS)
        for table, (data, schema) in tables.items():
            cols = ", ".join(
                f"{c.name} {sql_type.get(c.dtype, 'TEXT')}{'' if c.nullable else ' NOT NULL'}"
                for c in schema
            )
            con.execute(f"CREATE TABLE {table} ({cols})")
            catalog += [(table, c.name, c.dtype, int(c.sensitive), c.doc) for c in schema]
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
            *lookup_indexes("sqlite").values(),
        ):
            con.execute(statement)
        if cases is not None:
            con.execute("CREATE UNIQUE INDEX ix_cases_case_id ON cases (case_id)")
            con.execute("CREATE INDEX ix_cases_opened_at ON cases (opened_at)")
    finally:
        con.close()
