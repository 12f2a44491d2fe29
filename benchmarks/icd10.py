"""ICD-10 proposals: the first-use load of the French table and its index, and the latency of a
proposal for a free-text diagnosis, against a baseline measured in the same run (a plain scan of
every label for the typed words), since these machines are noisy.

Usage: python benchmarks/icd10.py [--repeat N]

Targets: load under 0.5 s; a proposal under 20 ms (the conversation shows suggestions with the
question that follows the diagnosis).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from orient.assistant.directory.icd10 import Icd10

TEXTS = ["Insuffisance cardiaque gauche", "pneumopathie infectieuse", "AVC ischémique",
         "décompensation BPCO", "maladie tumeur lésion traumatique fracture syndrome trouble",
         "pzoeiruty qlskdjfab wxcvbnaze"]


def scan(rows: list[tuple[str, str]], text: str) -> list[str]:
    """The baseline: every label holding all the typed words, as a naive search would do."""
    words = text.lower().split()
    return [code for code, label in rows if all(w in label.lower() for w in words)][:10]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    icd = Icd10()
    icd.propose("insuffisance cardiaque")
    load = time.perf_counter() - started
    rows = list(icd)

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {platform.system()}")
    print(f"table: {len(icd)} codes; first proposal with load and index: {load * 1000:.0f} ms "
          "(target < 500 ms)")
    print(f"{'text':<40} {'propose ms':>10} {'scan ms':>9} {'ratio':>6}")
    ratios = []
    for text in TEXTS:
        timings = {}
        for name, run in (("propose", lambda t=text: icd.propose(t)), ("scan", lambda t=text: scan(rows, t))):
            samples = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                run()
                samples.append(time.perf_counter() - t0)
            timings[name] = statistics.median(samples)
        ratio = timings["propose"] / timings["scan"]
        ratios.append(ratio)
        print(f"{text[:40]:<40} {timings['propose'] * 1000:>10.2f} {timings['scan'] * 1000:>9.2f} "
              f"{ratio:>6.2f}")
    print(f"median ratio propose/scan: {statistics.median(ratios):.2f} (target: propose < 20 ms)")


if __name__ == "__main__":
    main()
