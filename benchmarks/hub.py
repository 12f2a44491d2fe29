"""The hub under load, against `orient serve` on this machine.

- sends per second and p50/p99 latency with 1, 10 and 50 concurrent clients, on SQLite and on
  PostgreSQL (a throw-away cluster, when the PostgreSQL 15 binaries are here and we are root);
- answers per second through the API (one conversation per client, 10 clients);
- the in-process client's overhead: one answer through the ASGI client against the same answer
  as a direct engine call (the baseline), in one run.

Preparation: one dossier is driven to signed with two chosen units through the real service, then
copied (rows with new ids: same answers, so the same signature hash) to have one per send.

Usage: python benchmarks/hub.py [--sends N] [--skip-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from sqlmodel import Session

from orient.assistant import demo_accounts, replay
from orient.assistant.embedded import Embedded
from orient.assistant.engine import Engine, Lookups
from orient.assistant.service import DossierService, paris_now
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import AnswerRow, ChosenUnitRow, DossierRow
from orient.assistant.store.tokens import issue_token
from orient.dialogs.hnp import HNP
from orient.models.users import Actor

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "scenarios" / "doctor_full.json"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str, copies: int) -> tuple[list[str], str]:
    """`copies` signed dossiers with chosen units, and a token of the demo doctor."""
    engine = open_engine(url)
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    data["send"] = False
    report_id, _ = replay.run_dossier(replay.parse_scenario(data), DossierService(engine))
    dossier_t = DossierRow.__table__  # type: ignore[attr-defined]
    answer_t = AnswerRow.__table__  # type: ignore[attr-defined]
    chosen_t = ChosenUnitRow.__table__  # type: ignore[attr-defined]
    ids = []
    with Session(engine) as session:
        conn = session.connection()
        row = dict(conn.execute(select(dossier_t).where(dossier_t.c.id == report_id)).first()._mapping)  # type: ignore[union-attr]
        answers = [dict(r._mapping) for r in conn.execute(select(answer_t).where(answer_t.c.dossier_id == report_id))]
        chosen = [dict(r._mapping) for r in conn.execute(select(chosen_t).where(chosen_t.c.dossier_id == report_id))]
        for _ in range(copies):
            new_id = str(uuid.uuid4())
            ids.append(new_id)
            conn.execute(insert(dossier_t).values({**row, "id": new_id}))
            conn.execute(insert(answer_t), [{**a, "dossier_id": new_id} for a in answers])
            conn.execute(insert(chosen_t), [{**c, "dossier_id": new_id} for c in chosen])
        _, token = issue_token(session, demo_accounts.DEMO_DOCTOR.user_id)
        session.commit()
    engine.dispose()
    return ids, token


WORKERS = "1"


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    command = [shutil.which("orient") or "", "serve"] if shutil.which("orient") else \
        [sys.executable, "-m", "orient.assistant.cli", "serve"]
    proc = subprocess.Popen([*command, "--db", url, "--port", str(port), "--workers", WORKERS], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("orient serve did not start")


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def send_load(base: str, token: str, ids: list[str], concurrency: int) -> dict[str, float]:
    queue = deque(ids)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30, limits=httpx.Limits(max_connections=concurrency)) as http:
        async def worker() -> None:
            while queue:
                dossier_id = queue.popleft()
                t0 = time.perf_counter()
                response = await http.post(f"/dossiers/{dossier_id}/send",
                                           json={"idempotency_key": str(uuid.uuid4())})
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    ms = [x * 1000 for x in latencies]
    # the load generator's own CPU per send (it shares the machine with the hub)
    return {"sends": len(ms), "per_s": round(len(ms) / elapsed, 1),
            "p50_ms": round(statistics.median(ms), 1), "p99_ms": round(pct(ms, 0.99), 1),
            "client_cpu_ms": round(cpu / len(ms) * 1000, 2)}


async def answer_load(base: str, token: str, clients: int) -> dict[str, float]:
    inputs = json.loads(SCENARIO.read_text(encoding="utf-8"))["answers"]
    count = 0
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as http:
        async def conversation() -> None:
            nonlocal count
            step = (await http.post("/dossiers", json={})).json()
            queues = {k: deque(v) for k, v in inputs.items()}
            while step["question"] is not None:
                queue = queues.get(step["question"]["field"])
                typed = queue.popleft() if queue else ""
                t0 = time.perf_counter()
                step = (await http.post(f"/dossiers/{step['dossier_id']}/answer",
                                        json={"text": typed, "version": step["version"]})).json()
                latencies.append(time.perf_counter() - t0)
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"answers": count, "per_s": round(count / elapsed, 1), "p50_ms": round(statistics.median(ms), 1),
            "p99_ms": round(pct(ms, 0.99), 1)}


def in_process_overhead(folder: Path, rounds: int = 200) -> dict[str, float]:
    """One answer (an optional field skipped and asked again) through the in-process client,
    against the same engine call."""
    embedded = Embedded(folder / "inproc.db")
    client = embedded.client("doctor")
    engine = Engine(HNP, Lookups(now=paris_now))
    doctor = Actor(demo_accounts.DEMO_DOCTOR.user_id, demo_accounts.DEMO_DOCTOR.role, demo_accounts.DEMO_DOCTOR.name,
                   rpps=demo_accounts.DEMO_DOCTOR.rpps)
    state = engine.new_dossier("bench", doctor.rpps or "", doctor.name).state

    direct = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        engine.answer(state, doctor, "aucun")
        direct.append(time.perf_counter() - t0)

    async def through_client() -> list[float]:
        step = await client.create_dossier()
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            out = await client.answer(step["dossier_id"], "", step["version"])  # refused: nothing stored
            times.append(time.perf_counter() - t0)
            assert out["ok"] is False
        await client.close()
        return times

    via = asyncio.run(through_client())
    embedded.close()
    d, v = statistics.median(direct) * 1000, statistics.median(via) * 1000
    return {"engine_ms": round(d, 3), "in_process_client_ms": round(v, 3), "ratio": round(v / d, 1)}


def pg_cluster(folder: Path) -> tuple[str, list[str]] | None:
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0:
        return None
    shutil.chown(folder, "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "orient"],
                   check=True, capture_output=True)
    ctl = [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(folder / "data")]
    subprocess.run([*ctl, "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "-l",
                    str(folder / "log"), "-w", "start"], check=True, capture_output=True)
    subprocess.run([*as_pg, str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "orient",
                    "bench"], check=True, capture_output=True)
    return f"postgresql+psycopg://orient@127.0.0.1:{port}/bench", [*ctl, "-m", "fast", "stop"]


def run_backend(name: str, url: str, sends: int) -> None:
    ids, token = prepare(url, sends * 3)
    proc, base = start_server(url)
    try:
        for concurrency, chunk in zip((1, 10, 50), (ids[:sends], ids[sends:2 * sends], ids[2 * sends:]),
                                      strict=True):
            before = process_cpu(proc.pid)
            result = asyncio.run(send_load(base, token, chunk, concurrency))
            after = process_cpu(proc.pid)
            if before is not None and after is not None and WORKERS == "1":  # one hub process
                result["hub_cpu_ms"] = round((after - before) / len(chunk) * 1000, 2)
            print(f"{name} sends, {concurrency:>2} clients: {result}")
        print(f"{name} answers through the API, 10 clients: {asyncio.run(answer_load(base, token, 10))}")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--workers", default="1", help="hub processes (orient serve --workers)")
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"in-process client overhead: {in_process_overhead(folder)}")
        print(f"orient serve --workers {WORKERS}")
        run_backend("SQLite", f"sqlite:///{folder / 'hub.db'}", args.sends)
        if not args.skip_pg:
            pg_folder = Path(tempfile.mkdtemp(prefix="orient-bench-pg-"))
            cluster = pg_cluster(pg_folder)
            if cluster is None:
                print("PostgreSQL: skipped (binaries missing or not root)")
            else:
                url, stop = cluster
                try:
                    run_backend("PostgreSQL", url, args.sends)
                finally:
                    subprocess.run(stop, check=False, capture_output=True)
                    shutil.rmtree(pg_folder, ignore_errors=True)


if __name__ == "__main__":
    main()
