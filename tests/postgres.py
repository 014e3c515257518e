"""The databases the suite runs stores on, and a throw-away PostgreSQL cluster for it: the
server binaries of Debian's `postgresql` package (or `initdb` on the PATH), a fresh data folder,
127.0.0.1 on a free port, no durability (fsync off: the data dies with the suite), stopped and
removed at the end.

initdb refuses to run as root: as root the cluster belongs to the `postgres` user the package
creates, and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

DATABASES = ("sqlite", "postgresql")
"""The databases the store's tests run on: parameters of the fixtures that make stores."""
NewDatabase = Callable[[str], "str | None"]
"""A new empty database named after its argument: its URL, or None for the store's own SQLite
file."""
USER = "brainmap"
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
}
LOCALE = ("--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
"""Databases sort text in English dictionary order by default (as many servers do), unlike
SQLite's code-point order: brainmap must ask for the order it means."""
STARTS = 3  # a free port can be taken between finding it and the server binding it


class ClusterUnavailable(Exception):
    """PostgreSQL cannot run here; the message says why."""


class Cluster:
    """A running cluster: a superuser `brainmap`, trusted on loopback; `database` makes one."""

    def __init__(self, folder: Path, binaries: Path, owner: str | None, port: int) -> None:
        self.folder = folder
        self.binaries = binaries
        self.owner = owner
        self.port = port
        self._names = itertools.count(1)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self, stem: str) -> str:
        """The URL of a new, empty database called after `stem`."""
        import psycopg

        name = f"{stem}_{next(self._names)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        data = str(self.folder / "data")
        _run(self.owner, self.binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def databases(request: pytest.FixtureRequest) -> NewDatabase:
    """New databases of the kind `request.param` names (the session's cluster for PostgreSQL,
    from the `postgres` fixture)."""
    if request.param == "sqlite":
        return lambda _stem: None
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.database


def start_cluster() -> Cluster:
    """A new cluster, started; `ClusterUnavailable` says why when PostgreSQL cannot run here."""
    binaries = _binaries()
    owner = _owner()
    folder = Path(tempfile.mkdtemp(prefix="brainmap-postgres-"))
    try:
        if owner is not None:
            account = pwd.getpwnam(owner)
            os.chown(folder, account.pw_uid, account.pw_gid)
        initdb = ["-D", str(folder / "data"), "-U", USER, "-A", "trust", "-E", "UTF8"]
        _run(owner, binaries / "initdb", *initdb, *LOCALE, "--no-sync")
        return _start(folder, binaries, owner)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _start(folder: Path, binaries: Path, owner: str | None) -> Cluster:
    """Start the server on a free port, trying another port if the first was taken."""
    failure = ""
    for _attempt in range(STARTS):
        port = _free_port()
        options = " ".join(f"-c {name}={value}" for name, value in SETTINGS.items())
        options += f" -p {port} -k {folder}"
        try:
            _run(
                owner,
                binaries / "pg_ctl",
                *("-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-o", options),
                "start",
            )
        except ClusterUnavailable as error:
            failure = str(error)
            continue
        return Cluster(folder, binaries, owner, port)
    log = folder / "log"
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    raise ClusterUnavailable(f"{failure} {' '.join(tail)}".strip())


def _binaries() -> Path:
    """The folder of the newest PostgreSQL server binaries installed."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        raise ClusterUnavailable("not installed (no initdb; apt-get install postgresql)")
    return Path(initdb).resolve().parent


def _owner() -> str | None:
    """The user the cluster runs as: `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable("running as root and there is no postgres user") from None
    if shutil.which("runuser") is None:
        raise ClusterUnavailable("running as root and there is no runuser to drop to postgres")
    return "postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(owner: str | None, program: Path, *arguments: str) -> None:
    """Run a PostgreSQL command (as `owner` when given); its last error line on failure."""
    command = [str(program), *arguments]
    if owner is not None:
        command = ["runuser", "-u", owner, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        last = lines[-1] if lines else f"exit status {done.returncode}"
        raise ClusterUnavailable(f"{program.name} failed: {last}")
