"""A throwaway PostgreSQL cluster for the tests, holding the sample CRM in native column types.

Debian's ``postgresql`` package (``.ci/run`` and ``make test`` install it) puts the server
binaries in /usr/lib/postgresql/<version>/bin, off PATH. PostgreSQL refuses to run as root, so
under root the cluster runs as the ``postgres`` user that package creates (else ``nobody``), in
a temporary folder handed to that user. The server listens on 127.0.0.1 only, on a free port,
with a random password; no Unix socket, so nothing outside the folder is touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

__all__ = [
    "INSTALL_HINT",
    "NATIVE_TYPES",
    "Cluster",
    "load_sqlite",
    "running_cluster",
    "server_bin",
]

INSTALL_HINT = "install Debian's PostgreSQL server: apt-get install postgresql (.ci/run does)"

#: column_catalog dtype -> the native PostgreSQL type a real CRM would use for it.
NATIVE_TYPES = {
    "string": "TEXT",
    "category": "TEXT",
    "int": "INTEGER",
    "float": "DOUBLE PRECISION",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
}
USER = "digestkit"


def server_bin() -> Path | None:
    """The bin folder of the newest PostgreSQL server installed (Debian layout, then PATH)."""
    debian = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if debian:
        return max(debian, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """One running PostgreSQL server (primary or streaming replica) in ``folder``."""

    bin: Path
    folder: Path
    port: int
    password: str
    run_as: str | None  # the unprivileged user the server runs as when the tests run as root

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "crm", *, driver: str = "psycopg") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+{driver}://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string (for psycopg itself)."""
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={USER} "
            f"password={self.password}"
        )

    def run(self, tool: str, *args: str) -> None:
        """Run a server tool as the cluster's user; raise with its output if it fails."""
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        env = {**os.environ, "PGPASSWORD": self.password, "LC_ALL": "C"}
        proc = subprocess.run(
            [*prefix, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.folder,
            check=False,
        )
        if proc.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed:\n{proc.stdout}{proc.stderr}{tail}")

    def configure(self, **settings: str) -> None:
        """Append settings to postgresql.conf (later lines win over earlier ones)."""
        with (self.data / "postgresql.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")

    def start(self) -> None:
        """Start on a free port; another port if a concurrent process took this one meanwhile."""
        for attempt in range(3):
            self.port = _free_port()
            self.configure(port=str(self.port))
            try:
                self.run("pg_ctl", "-D", str(self.data), "-l", "server.log", "-w", "start")
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        """Stop the server (fast: open sessions are disconnected); no error if it is not up."""
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def replica(self) -> Cluster:
        """A read-only hot standby of this server, streaming from it, in a sibling folder."""
        folder = _own_folder(self.run_as, prefix="digestkit-pg-replica-")
        standby = Cluster(self.bin, folder, 0, self.password, self.run_as)
        try:
            # -R writes standby.signal and primary_conninfo: the copy starts as a streaming
            # replica; a fast checkpoint, since the default spread one waits minutes when idle.
            self.run(
                "pg_basebackup",
                *("-h", "127.0.0.1", "-p", str(self.port), "-U", USER),
                *("-D", str(standby.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
            )
            standby.configure(hot_standby="on")
            standby.start()
        except BaseException:
            with contextlib.suppress(RuntimeError):
                standby.stop()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return standby


def _own_folder(run_as: str | None, *, prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and there is no 'postgres' or 'nobody' user to run as")


@contextlib.contextmanager
def running_cluster(bin: Path) -> Iterator[Cluster]:
    """A fresh cluster, started; stopped and deleted when the block ends, however it ends."""
    run_as = _unprivileged_user()
    folder = _own_folder(run_as, prefix="digestkit-pg-")
    password = secrets.token_hex(16)
    cluster = Cluster(bin, folder, 0, password, run_as)
    try:
        (folder / "password").write_text(password)
        if run_as:
            entry = pwd.getpwnam(run_as)
            os.chown(folder / "password", entry.pw_uid, entry.pw_gid)
        cluster.run(
            "initdb",
            *("-D", str(cluster.data), "-U", USER, "--pwfile", str(folder / "password")),
            *("--auth-host", "scram-sha-256", "--auth-local", "peer"),
            *("-E", "UTF8", "--no-locale", "--no-sync"),
        )
        # A throwaway server: durability is not wanted, speed is. No Unix socket, TCP on
        # 127.0.0.1 only. A time zone other than UTC catches naive timestamp handling.
        cluster.configure(
            listen_addresses="127.0.0.1",
            unix_socket_directories="",
            fsync="off",
            synchronous_commit="off",
            full_page_writes="off",
            timezone="America/New_York",
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _native(value: object, pg_type: str) -> object:
    if value is None:
        return None
    if pg_type == "DATE":
        return date.fromisoformat(str(value))
    if pg_type == "TIMESTAMPTZ":
        return datetime.fromisoformat(str(value))
    if pg_type == "BOOLEAN":
        return bool(value)
    return value


def load_sqlite(sqlite_path: Path, conninfo: str) -> dict[str, dict[str, str]]:
    """Copy every table and index of a SQLite CRM into an empty PostgreSQL database.

    Column types come from the CRM's ``column_catalog`` (``NATIVE_TYPES``); its own
    ``sensitive`` flag becomes BOOLEAN, other columns keep SQLite's INTEGER or TEXT.
    Returns the PostgreSQL type of every column, per table.
    """
    import psycopg
    from psycopg import sql

    from digestkit.sources.lookup import lookup_indexes

    name_keys = lookup_indexes("postgresql")
    lite = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        catalog = {
            (t, c): NATIVE_TYPES[d]
            for t, c, d in lite.execute("SELECT table_name, column_name, dtype FROM column_catalog")
        }
        tables = [
            r[0]
            for r in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        types: dict[str, dict[str, str]] = {}
        with psycopg.connect(conninfo) as pg:
            for table in tables:
                info = lite.execute(f'PRAGMA table_info("{table}")').fetchall()
                types[table] = {
                    name: catalog.get((table, name))
                    or ("BOOLEAN" if (table, name) == ("column_catalog", "sensitive") else None)
                    or ("INTEGER" if declared.upper() == "INTEGER" else "TEXT")
                    for _, name, declared, *_ in info
                }
                not_null = {name: bool(notnull) for _, name, _, notnull, *_ in info}
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}{}").format(
                        sql.Identifier(name),
                        sql.SQL(pg_type),
                        sql.SQL(" NOT NULL" if not_null[name] else ""),
                    )
                    for name, pg_type in types[table].items()
                )
                pg.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns))
                names = list(types[table])
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
                )
                with pg.cursor().copy(copy) as out:
                    for row in lite.execute(f'SELECT * FROM "{table}"'):
                        out.write_row(
                            [_native(v, types[table][n]) for v, n in zip(row, names, strict=True)]
                        )
                for _, index, unique, *_ in lite.execute(f'PRAGMA index_list("{table}")'):
                    cols = [r[2] for r in lite.execute(f'PRAGMA index_info("{index}")')]
                    if None in cols:  # an expression: the screen's name keys, PostgreSQL's own
                        pg.execute(name_keys[index])
                        continue
                    pg.execute(
                        sql.SQL("CREATE {}INDEX {} ON {} ({})").format(
                            sql.SQL("UNIQUE " if unique else ""),
                            sql.Identifier(index),
                            sql.Identifier(table),
                            sql.SQL(", ").join(map(sql.Identifier, cols)),
                        )
                    )
            pg.execute("ANALYZE")
    finally:
        lite.close()
    return types
