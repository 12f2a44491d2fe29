"""Matching: search latency for the first 20 proposals over the national directory, the same at
10x the units (synthetic copies), peak memory, and the first-use load of the directory.

Usage: python benchmarks/matching.py [--queries N]
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from orient.assistant.directory.catalogue import catalogue
from orient.assistant.directory.communes import default_table
from orient.assistant.directory.establishments import read_establishments
from orient.assistant.directory.matching import Criteria, DirectoryIndex
from orient.assistant.store.db import open_engine
from orient.assistant.store.directory import ensure_directory, load_index
from orient.dialogs.hnp import SPECIALTIES

COMMUNES = ["31555", "34172", "75056", "13055", "69123", "76351", "29019", "15014", "97411", "2A004",
            "05061", "48095", "59350", "67482", "33063", "23096"]


def queries(n: int, seed: int = 7) -> list[Criteria]:
    rng = random.Random(seed)
    table = default_table()
    out = []
    for _ in range(n):
        commune = table.get(rng.choice(COMMUNES))
        assert commune is not None and commune.lat is not None and commune.lon is not None
        specialty = rng.choice(SPECIALTIES)[0]
        age = 70 if specialty in ("acute_geriatrics", "old_age_psychiatry") else rng.choice([35, 70, 88])
        needs = frozenset(rng.choice([(), ("oxygen",), ("bariatric_bed",)]))
        out.append(Criteria(specialty, commune.lat, commune.lon, age, needs, rng.choice([None, "mdro"])))
    return out


def measure(index: DirectoryIndex, qs: list[Criteria]) -> dict[str, float]:
    for q in qs[:20]:
        index.search(q)
    times = []
    for q in qs:
        t0 = time.perf_counter()
        index.search(q, limit=20)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = open_engine(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        with Session(db) as session:
            ensure_directory(session)
        t1 = time.perf_counter()
        with Session(db) as session:
            load_index(session)
        t2 = time.perf_counter()
        db.dispose()

    tracemalloc.start()
    establishments = list(read_establishments())
    units = catalogue(establishments, datetime.now().isoformat(timespec="seconds"))
    national = DirectoryIndex(establishments, units)
    _, peak_national = tracemalloc.get_traced_memory()
    copies = [replace(u, id=f"{u.id}-copy{k}") for k in range(10) for u in units]
    tenfold = DirectoryIndex(establishments, copies)
    _, peak_tenfold = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    qs = queries(args.queries)
    nat = measure(national, qs)
    ten = measure(tenfold, qs)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{datetime.now().isoformat(timespec='seconds')}")
    print(f"first use: load into the store {t1 - t0:.3f} s, build the index {t2 - t1:.3f} s, "
          f"total {t2 - t0:.3f} s")
    print(f"national ({len(units)} units, {args.queries} queries): {nat}")
    print(f"10x ({len(copies)} units): {ten}; p95 ratio 10x/national: {ten['p95_ms'] / nat['p95_ms']:.2f}")
    print(f"peak traced memory: national index {peak_national / 2**20:.1f} MiB, with the 10x index "
          f"{peak_tenfold / 2**20:.1f} MiB; process max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
