"""Private MariaDB (in place of Aurora MySQL) and PostgreSQL (in place of Redshift) per home.

Everything lives under ``$RENTALS_HOME``: data directories, logs, pid files, the chosen
ports (``stack.json``) and generated passwords (``secrets.json``, mode 0600). Ports are
chosen per home when it is first started, so two homes run side by side.

One exception, for root: PostgreSQL refuses to run as root, so it runs as the ``postgres``
user, who cannot reach a home inside a private folder (``/root`` is mode 0700, and so is
every ``mktemp -d`` folder). Its cluster then lives in a folder of its own under
``/var/lib/rentals/postgres/`` (``RENTALS_PG_DATA_ROOT``), named by a digest of the home's
path, and the home holds a ``postgres`` link to it. The user's own folders keep their
permissions; ``rentals clean`` removes the cluster with the home, and a cluster whose home
is gone is removed by the next ``rentals up``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pymysql
from psycopg import sql

from rental_analytics.config import WAREHOUSE_IDENTITIES, DatabaseSettings, Settings
from rental_analytics.local import class_archive, postgres_compat
from rental_analytics.local.emulator import LocalEmulator
from rental_analytics.local.processes import pid_alive, stop_pid
from rental_analytics.warehouse import connect
from rental_analytics.warehouse.migrations import apply, code_version, warehouse_version

PG_BIN = Path(os.environ.get("RENTALS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_SERVICE_USER = "postgres"
PG_DATA_ROOT = Path(os.environ.get("RENTALS_PG_DATA_ROOT", "/var/lib/rentals/postgres"))
# In a cluster folder outside the home: the home it belongs to, for people and for clean-up.
_HOME_MARKER = "home"
_START_TIMEOUT_S = 60
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes with its NUL; kept with a margin


class StackError(RuntimeError):
    """The local stack could not be started or reached; the message says why."""


@dataclass(frozen=True)
class StackStatus:
    mariadb_port: int
    postgres_port: int
    mariadb_running: bool
    postgres_running: bool


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port(home: Path, salt: str, taken: set[int]) -> int:
    """A port derived from the home path (stable across restarts), probed until free."""
    seed = int(hashlib.sha256(f"{home}:{salt}".encode()).hexdigest(), 16)
    for i in range(200):
        port = 20000 + (seed + i * 7919) % 30000
        if port not in taken and _port_free(port):
            return port
    raise StackError("no free port found for the local stack")


def _wait_for(check, what: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            check()
            return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise StackError(f"{what} did not become ready: {last}\n--- {log} ---\n{tail}")


# What `rentals up` creates, and what external databases must offer (Settings.local uses them).
STACK_USER, SOURCE_DATABASE, WAREHOUSE_DATABASE = "rentals", "rental_db", "warehouse"


def database_from_url(url: str) -> DatabaseSettings:
    """A database URL (scheme, user, password, host, port, database) as DatabaseSettings,
    percent-encoding undone."""
    parts = urlsplit(url)
    if not (parts.hostname and parts.port and parts.username and parts.path.strip("/")):
        raise StackError("a database URL needs user, host, port and database")
    return DatabaseSettings(
        host=parts.hostname, port=parts.port, user=unquote(parts.username),
        password=unquote(parts.password or ""), database=parts.path.strip("/"),
    )  # fmt: skip


def _runs_as_service_user() -> bool:
    """PostgreSQL runs as the ``postgres`` user when we are root (it refuses root)."""
    return os.geteuid() == 0


_DIGEST = re.compile(r"[0-9a-f]{16}")


def home_digest(home: Path) -> str:
    return hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]


def postgres_dir_of(home: Path) -> Path:
    """Where the home's PostgreSQL cluster, its log and its pid live.

    In the home when PostgreSQL runs as the current user, and for a home that already has
    its cluster there (made before clusters moved out); otherwise a folder of its own that
    the ``postgres`` user owns, outside the home.
    """
    inside = home / "postgres"
    if not _runs_as_service_user() or (
        inside.is_dir() and not inside.is_symlink() and (inside / "data" / "PG_VERSION").exists()
    ):
        return inside
    return PG_DATA_ROOT / home_digest(home)


def remove_orphan_clusters() -> list[Path]:
    """Clusters under PG_DATA_ROOT whose home no longer exists (a deleted test or scratch
    home), stopped ones only: removed; returns what was removed."""
    removed = []
    for folder in sorted(PG_DATA_ROOT.glob("*")) if PG_DATA_ROOT.is_dir() else ():
        marker = folder / _HOME_MARKER
        if not (marker.is_file() and _DIGEST.fullmatch(folder.name)):
            continue  # not a cluster folder of ours
        if (Path(marker.read_text().strip()) / "stack.json").exists():
            continue
        if pid_alive(folder / "data" / "postmaster.pid"):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


class LocalStack:
    """Start, stop and describe the private databases of one home."""

    def __init__(self, home: Path):
        self.home = home
        self.stack_file = home / "stack.json"
        self.secrets_file = home / "secrets.json"
        self.mariadb_dir = home / "mariadb"
        self.postgres_dir = postgres_dir_of(home)

    # -- configuration -------------------------------------------------------------
    def _load_or_create_config(self) -> tuple[dict, dict]:
        self.home.mkdir(parents=True, exist_ok=True)
        stack = json.loads(self.stack_file.read_text()) if self.stack_file.exists() else {}
        wanted = ("mariadb_port", "postgres_port", "emulator_port")
        if any(k not in stack for k in wanted):  # a new home, or one from before the emulator
            for key in wanted:
                if key not in stack:
                    stack[key] = _pick_port(
                        self.home, key.removesuffix("_port"), set(stack.values())
                    )
            self.stack_file.write_text(json.dumps(stack, indent=2) + "\n")
        if self.secrets_file.exists():
            creds = json.loads(self.secrets_file.read_text())
        else:
            creds = {
                "mariadb_password": secrets.token_urlsafe(18),
                "postgres_password": secrets.token_urlsafe(18),
            }
            fd = os.open(self.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(creds, fh)
        return stack, creds

    # -- MariaDB -----------------------------------------------------------------------
    @property
    def _short_dir(self) -> Path:
        """A private folder under the temp dir, for what a long or spaced home path breaks."""
        return Path(tempfile.gettempdir()) / f"rentals-{home_digest(self.home)}"

    @property
    def _mariadb_socket(self) -> Path:
        """The server's unix socket (root's way in). A socket path holds at most 107 bytes,
        so a home deep in the tree has its socket in the short private folder."""
        inside = self.mariadb_dir / "mysqld.sock"
        if len(str(inside).encode()) <= _MAX_SOCKET_PATH:
            return inside
        return self._short_dir / "mysqld.sock"

    def _install_mariadb(self, data: Path, user: list[str]) -> None:
        """mariadb-install-db, a shell script, splits a data directory path at spaces: it
        is given a link without spaces to the real folder then."""
        data.mkdir(parents=True)
        target = data
        if any(c.isspace() for c in str(data)):
            self._short_dir.mkdir(mode=0o700, exist_ok=True)
            target = self._short_dir / "mariadb-data"
            target.unlink(missing_ok=True)
            target.symlink_to(data, target_is_directory=True)
        proc = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={target}", *user,
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            raise StackError(
                f"mariadb-install-db failed in {data}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )

    def _mariadb_root(self) -> pymysql.Connection:
        return pymysql.connect(
            unix_socket=str(self._mariadb_socket), user="root", connect_timeout=2
        )

    def _start_mariadb(self, port: int, password: str) -> None:
        data = self.mariadb_dir / "data"
        log = self.mariadb_dir / "mariadb.log"
        pid_file = self.mariadb_dir / "mariadb.pid"
        if pid_alive(pid_file):
            return
        self.mariadb_dir.mkdir(parents=True, exist_ok=True)
        self._mariadb_socket.parent.mkdir(mode=0o700, exist_ok=True)
        user = ["--user=root"] if os.geteuid() == 0 else []
        if not (data / "mysql").exists():
            shutil.rmtree(data, ignore_errors=True)
            self._install_mariadb(data, user)
        with open(log, "ab") as log_fh:
            subprocess.Popen(
                ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self._mariadb_socket}",
                 f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={pid_file}",
                 f"--log-error={log}", "--local-infile=1", "--skip-log-bin",
                 "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                 "--innodb-buffer-pool-size=256M", "--default-time-zone=+00:00", *user],
                stdout=log_fh, stderr=log_fh, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        _wait_for(lambda: self._mariadb_root().close(), "MariaDB", log)
        conn = self._mariadb_root()
        try:
            with conn.cursor() as cur:
                cur.execute("create database if not exists rental_db character set utf8mb4")
                for host in ("127.0.0.1", "localhost"):
                    cur.execute(
                        "create user if not exists 'rentals'@%s identified by %s", (host, password)
                    )
                    cur.execute("alter user 'rentals'@%s identified by %s", (host, password))
                    cur.execute("grant all privileges on rental_db.* to 'rentals'@%s", (host,))
            conn.commit()
        finally:
            conn.close()

    def _stop_mariadb(self) -> None:
        stop_pid(self.mariadb_dir / "mariadb.pid")

    # -- PostgreSQL --------------------------------------------------------------------
    def _pg_run(self, *args: str) -> subprocess.CompletedProcess:
        """A PostgreSQL program, as the service user when we are root (it refuses root),
        started in the cluster's folder: the caller's may be one it cannot enter."""
        command = list(args)
        if _runs_as_service_user():
            command = ["runuser", "-u", PG_SERVICE_USER, "--", *command]
        return subprocess.run(
            command, cwd=self.postgres_dir, capture_output=True, text=True,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def _pg_owner(self, path: Path) -> None:
        if _runs_as_service_user():
            pw = pwd.getpwnam(PG_SERVICE_USER)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _make_postgres_dir(self) -> None:
        inside = self.home / "postgres"
        if self.postgres_dir != inside:
            PG_DATA_ROOT.mkdir(parents=True, exist_ok=True, mode=0o755)
            self.postgres_dir.mkdir(mode=0o700, exist_ok=True)
            (self.postgres_dir / _HOME_MARKER).write_text(f"{self.home.resolve()}\n")
            if not inside.is_symlink():
                # What an initdb that could not reach the home left there, and no cluster
                # (postgres_dir_of keeps a cluster inside the home where there is one).
                shutil.rmtree(inside, ignore_errors=True)
                inside.symlink_to(self.postgres_dir, target_is_directory=True)
        self.postgres_dir.mkdir(parents=True, exist_ok=True)
        self._pg_owner(self.postgres_dir)

    def _start_postgres(self, port: int, password: str) -> None:
        data = self.postgres_dir / "data"
        log = self.postgres_dir / "postgres.log"
        self._make_postgres_dir()
        if pid_alive(data / "postmaster.pid"):
            return
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(data, ignore_errors=True)
            pwfile = self.postgres_dir / "pwfile"
            pwfile.write_text(password + "\n")
            self._pg_owner(pwfile)
            try:
                proc = self._pg_run(
                    str(PG_BIN / "initdb"), "-D", str(data), "-U", "rentals",
                    "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                    "--locale=C.UTF-8",
                )  # fmt: skip
            finally:
                pwfile.unlink(missing_ok=True)
            if proc.returncode != 0:
                raise StackError(f"initdb failed in {data}:\n{proc.stderr[-2000:]}")
        # No JIT: PostgreSQL compiles a statement's expressions with LLVM once its plan
        # costs more than jit_above_cost, anew for every statement; the merges' statements
        # over 10^5-10^6 rows spent more compiling than it saved. A first curate at scale 1,
        # A/B on the same warehouse: 5.79/5.75 s with it, 4.87/4.94 s without.
        # A random page read priced near a sequential one (1.1, not 4): the local warehouse
        # is read from the page cache, and at 4 the planner scanned a whole stg table and
        # filtered every row rather than look up an incremental merge's keys in its primary
        # key (fact_bookings' source at scale 4: 2 million rows read for 40,000 keys). The
        # merges of an incremental run at scale 4, each alone and rolled back: 3.43 s ->
        # 2.43 s in all (fact_bookings 1.22 -> 0.57 s); a first run's merges and the KPI
        # views took what they took before. Redshift has no indexes: local planning only.
        opts = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c timezone=UTC -c shared_buffers=256MB -c max_connections=50 "
            "-c work_mem=64MB -c maintenance_work_mem=128MB -c jit=off "
            "-c random_page_cost=1.1"
        )
        proc = self._pg_run(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
            "-w", "-t", str(_START_TIMEOUT_S), "start",
        )  # fmt: skip
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise StackError(f"PostgreSQL did not start: {proc.stderr}\n{tail}")

        def check() -> None:
            psycopg.connect(
                host="127.0.0.1", port=port, user="rentals", password=password,
                dbname="postgres", connect_timeout=2,
            ).close()  # fmt: skip

        _wait_for(check, "PostgreSQL", log)
        with psycopg.connect(
            host="127.0.0.1", port=port, user="rentals", password=password, dbname="postgres",
            autocommit=True,
        ) as conn:  # fmt: skip
            if not conn.execute("select 1 from pg_database where datname = 'warehouse'").fetchone():
                conn.execute("create database warehouse")
        # Redshift's DATEDIFF/DATEADD, created here as the owner: jobs never create objects.
        postgres_compat.install(
            DatabaseSettings("127.0.0.1", port, STACK_USER, password, WAREHOUSE_DATABASE)
        )

    def _stop_postgres(self) -> None:
        data = self.postgres_dir / "data"
        if not pid_alive(data / "postmaster.pid"):
            return
        self._pg_run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    # -- warehouse identities (SPEC 8) ------------------------------------------------------
    def _identity_passwords(self, creds: dict) -> dict:
        """The generated password of every warehouse identity, added to secrets.json."""
        missing = [
            f"warehouse_{i}_password"
            for i in WAREHOUSE_IDENTITIES
            if f"warehouse_{i}_password" not in creds
        ]
        if missing:
            creds = {**creds, **{k: secrets.token_urlsafe(18) for k in missing}}
            tmp = self.secrets_file.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(creds, fh)
            tmp.replace(self.secrets_file)
        return creds

    def prepare_warehouse(self):
        """As the admin: the login roles rentals_owner, rentals_job and rentals_analyst with
        their database privileges; then as rentals_owner: the migrations, views and grants.

        The owner alone creates objects. The job and the analyst get no CREATE anywhere
        (PostgreSQL 15 gives PUBLIC none on the public schema; it is revoked all the same);
        the job gets TEMP for its staging tables, the analyst does not.
        """
        _, creds = self._load_or_create_config()
        creds = self._identity_passwords(creds)
        admin = Settings.local(self.home).warehouse
        with psycopg.connect(
            host=admin.host, port=admin.port, user=admin.user, password=admin.password,
            dbname=admin.database, autocommit=True,
        ) as conn:  # fmt: skip
            for identity in WAREHOUSE_IDENTITIES:
                role = f"rentals_{identity}"
                exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,))
                conn.execute(
                    sql.SQL("{} role {} login password {}").format(
                        sql.SQL("alter" if exists.fetchone() else "create"),
                        sql.Identifier(role),
                        sql.Literal(creds[f"warehouse_{identity}_password"]),
                    )
                )
            db = sql.Identifier(admin.database)
            for statement in (
                "revoke all on database {} from public",
                "revoke create on schema public from public",
                "grant connect, create, temp on database {} to rentals_owner",
                "grant connect, temp on database {} to rentals_job",
                "grant connect on database {} to rentals_analyst",
            ):
                conn.execute(sql.SQL(statement).format(db))
        with connect(Settings.local(self.home, "owner")) as wh:
            return apply(wh)

    # -- public ------------------------------------------------------------------------
    def up(self) -> StackStatus:
        """Start the databases, then bring the warehouse to this code's version."""
        stack, creds = self._load_or_create_config()
        remove_orphan_clusters()
        if not stack.get("external"):  # attached databases run elsewhere: nothing to start
            self._start_mariadb(stack["mariadb_port"], creds["mariadb_password"])
            self._start_postgres(stack["postgres_port"], creds["postgres_password"])
        if not self._warehouse_ready():
            self.prepare_warehouse()
        # Once per machine (about 30 s): every local Spark job then starts seconds faster.
        class_archive.build(Settings.local(self.home).source_jdbc_jars)
        return self.status()

    def _warehouse_ready(self) -> bool:
        """The identities exist and the warehouse is at this code's version (checked as the
        admin): then `up` leaves the warehouse alone, and needs no owner login."""
        creds = json.loads(self.secrets_file.read_text())
        if any(f"warehouse_{i}_password" not in creds for i in WAREHOUSE_IDENTITIES):
            return False
        with connect(Settings.local(self.home)) as wh:
            _, roles = wh.query(
                "select count(*) from pg_roles where rolname = any(%(r)s)",
                {"r": [f"rentals_{i}" for i in WAREHOUSE_IDENTITIES]},
            )
            if roles[0][0] != len(WAREHOUSE_IDENTITIES):
                return False
            return warehouse_version(wh) == code_version()

    def attach(self, mariadb: DatabaseSettings, postgres: DatabaseSettings) -> None:
        """Use databases that run elsewhere (the containers of docker/compose.yaml) instead
        of private ones: their addresses go to ``stack.json`` (marked external, so `up` and
        `down` leave them alone), their passwords to ``secrets.json`` (mode 0600)."""
        expected = {
            "source": (mariadb, SOURCE_DATABASE),
            "warehouse": (postgres, WAREHOUSE_DATABASE),
        }
        for what, (db, name) in expected.items():
            if (db.user, db.database) != (STACK_USER, name):
                raise StackError(f"{what} database must be {STACK_USER}@.../{name}, got {db}")
        self.home.mkdir(parents=True, exist_ok=True)
        stack = {
            "external": True,
            "mariadb_host": mariadb.host, "mariadb_port": mariadb.port,
            "postgres_host": postgres.host, "postgres_port": postgres.port,
        }  # fmt: skip
        stack["emulator_port"] = _pick_port(self.home, "emulator", set())
        self.stack_file.write_text(json.dumps(stack, indent=2) + "\n")
        postgres_compat.install(postgres)
        fd = os.open(self.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(
                {"mariadb_password": mariadb.password, "postgres_password": postgres.password}, fh
            )

    def emulator(self):
        """The home's local AWS emulator (Step Functions, Glue, SNS); started on demand."""
        stack, _ = self._load_or_create_config()
        return LocalEmulator(self.home, stack["emulator_port"])

    def down(self) -> None:
        if self.stack_file.exists():
            self.emulator().stop()
        self._stop_mariadb()
        self._stop_postgres()

    def clean(self) -> list[Path]:
        """Stop everything and delete the home and its PostgreSQL cluster wherever it lives;
        returns the folders removed."""
        self.down()
        removed = []
        for folder in (self.postgres_dir, self._short_dir, self.home):
            if folder.exists() or folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed

    def status(self) -> StackStatus:
        stack = json.loads(self.stack_file.read_text()) if self.stack_file.exists() else {}
        return StackStatus(
            mariadb_port=stack.get("mariadb_port", 0),
            postgres_port=stack.get("postgres_port", 0),
            mariadb_running=pid_alive(self.mariadb_dir / "mariadb.pid") is not None,
            postgres_running=pid_alive(self.postgres_dir / "data" / "postmaster.pid") is not None,
        )
