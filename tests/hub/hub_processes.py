"""Running the `orient` command for real: `orient serve` as a process on a free port, and the
account commands. The installed `orient` script is used when there is one; otherwise
`python -m orient.assistant.cli` of the same interpreter (the installed package either way)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from orient.assistant import replay

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "doctor_full.json"
TOKEN = re.compile(r"Jeton d'accès \(affiché une seule fois, à conserver\) : (orient_[A-Za-z0-9_-]+)")
PATIENT = "ZORGLUBIENNE"  # a birth name that must never reach a log


def command() -> list[str]:
    script = Path(sys.executable).parent / "orient"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "orient.assistant.cli"]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ORIENT_HUB_DB", None)
    return env


def orient(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command(), *args], capture_output=True, text=True, cwd=ROOT,
                          env=environment(), timeout=timeout, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def luhn_complete(base: str) -> str:
    """`base` followed by its Luhn check digit."""
    for digit in "0123456789":
        candidate = base + digit
        total = 0
        for i, c in enumerate(reversed(candidate)):
            n = int(c) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return candidate
    raise AssertionError(base)


def new_rpps(n: int) -> str:
    return luhn_complete(f"1009{n:06d}")


def token_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    found = TOKEN.findall(result.stdout)
    assert len(found) == 1, result.stdout
    assert result.stdout.count(found[0]) == 1  # shown once
    return found[0]


def add_user(db: str, role: str, name: str, *extra: str) -> str:
    return token_of(orient("users", "add", "--role", role, "--name", name, *extra, "--db", db))


@dataclass
class Server:
    """`orient serve` on a free port; stdout and stderr go to a log file read by the tests."""

    db: str
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30, port: int | None = None) -> Server:
        return self.launch(port).wait_ready(timeout)

    def launch(self, port: int | None = None) -> Server:
        """Start `orient serve` on `port` (default: a free one)."""
        self.port = port or free_port()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command(), "serve", "--db", self.db, "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=environment())
        return self

    def wait_ready(self, timeout: float = 30) -> Server:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"orient serve exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"orient serve not ready after {timeout} s:\n{self.logs()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind, as after a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)

    def logs(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""


def scenario(birth_name: str = PATIENT, *, choose: list[int] | None = None, send: bool = False,
             sign: bool = True) -> replay.Scenario:
    data: dict[str, Any] = json.loads(SCENARIO.read_text(encoding="utf-8"))
    data["answers"]["patient.birth_name"] = [birth_name]
    data.update(choose=choose, send=send, sign=sign)
    return replay.parse_scenario(data)
