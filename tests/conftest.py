"""Shared fixtures: a real PostgreSQL server for the tests that need one.

`ORIENT_TEST_PG_URL` names a running server (`.ci/run` starts one). Without it, the fixture starts a
throw-away cluster itself when the PostgreSQL binaries are here and it may (as root, through the
`postgres` user), and removes it afterwards. Otherwise the tests that need it are skipped with the
reason, unless `ORIENT_REQUIRE_SERVICES=1` (set by `.ci/run`), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_databases import fresh_database
from service_skips import unavailable

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server (without database name), e.g. postgresql+psycopg://orient@host:port."""
    url = os.environ.get("ORIENT_TEST_PG_URL")
    if url:
        yield url.rstrip("/")
        return
    if not (PG_BIN / "initdb").exists():
        unavailable("PostgreSQL 15 is not installed (set ORIENT_TEST_PG_URL to use a running server)")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        unavailable("starting a throw-away PostgreSQL needs root (or set ORIENT_TEST_PG_URL)")
    folder = Path(tempfile.mkdtemp(prefix="orient-pg-"))
    shutil.chown(folder, "postgres")
    port = _free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "orient"], check=True, capture_output=True)
    subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "-l", str(folder / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://orient@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast",
                        "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new, empty database on the server for one test, dropped afterwards."""
    with fresh_database(pg_server) as url:
        yield url
