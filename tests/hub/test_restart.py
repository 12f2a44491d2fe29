"""`orient serve` restarts at once on the same port after a kill -9 under load (issue 11,
finding 7): the connections the dead hub held are left in TIME-WAIT by the kernel, and a port
check that binds without SO_REUSEADDR refused to start for about a minute ("Address already in
use") although uvicorn itself could listen."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest
from hub_processes import Server

CLIENTS = 8


def _tcp_states(port: int) -> set[str]:
    """The TCP states of the sockets bound to local port `port` (Linux /proc/net/tcp)."""
    names = {"01": "ESTABLISHED", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
             "08": "CLOSE_WAIT", "0A": "LISTEN"}
    states = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                states.add(names.get(fields[3], fields[3]))
    return states


def test_serve_restarts_at_once_on_the_same_port_after_kill_9_under_load(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    first = Server(db, tmp_path / "first.log").start(timeout=60)
    port = first.port
    clients = [httpx.Client(base_url=first.url, timeout=5) for _ in range(CLIENTS)]
    answered = threading.Barrier(CLIENTS + 1)
    stop = threading.Event()

    def load(client: httpx.Client, busy: bool) -> None:
        # keep-alive connections, each answered 20 times before the kill; half of them idle at
        # the kill (their side of the connection then goes to TIME-WAIT), half with requests in
        # flight until it
        for _ in range(20):
            client.get("/version").raise_for_status()
        answered.wait()
        while busy and not stop.is_set():
            try:
                client.get("/version")
            except httpx.TransportError:
                return

    threads = [threading.Thread(target=load, args=(c, i % 2 == 0)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    answered.wait(timeout=60)
    first.kill()
    stop.set()
    for t in threads:
        t.join(30)
    for c in clients:
        c.close()  # the clients' FIN: the dead hub's side of each connection goes to TIME-WAIT
    if "TIME_WAIT" not in _tcp_states(port):
        pytest.skip("the kernel left no TIME-WAIT socket on the port: nothing to show")

    second = Server(db, tmp_path / "second.log")
    try:
        second.start(timeout=60, port=port)  # fails at once with the French refusal before the fix
        assert httpx.get(second.url + "/health", timeout=5).json() == {"status": "ok"}
        assert "impossible d'écouter" not in second.logs()
    finally:
        second.stop()


def test_serve_still_refuses_a_port_in_use(tmp_path: Path) -> None:
    """SO_REUSEADDR lets a port in TIME-WAIT be reused, never one another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = Server(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "busy.log").launch(port)
        assert server.proc is not None
        assert server.proc.wait(60) == 2
        assert "impossible d'écouter sur 127.0.0.1:" in server.logs()
