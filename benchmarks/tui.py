"""The terminal assistant: cold start to the first screen against a bare Textual app with the same
widgets (ratio, same run), keypress-to-next-question latency through Pilot, peak memory.

Peak memory is the max RSS of the benchmark's process (the app with its in-process hub, driven by
Pilot) after the questions, then after the rest of a referral: proposals (the directory's first
use on a new database), two units chosen, signature and sending.

Usage: python benchmarks/tui.py [--starts N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "scenarios" / "doctor_full.json"
DOCTOR_CODE = "1234"  # the demo doctor's signing code
FIRST: dict[str, list[float]] = {}  # seconds, on a first start (new database), one per run
PEAKS: dict[str, float] = {}  # max RSS (MiB) at the end of each phase of the referral

# Each snippet prints "shown" once its first screen has been drawn, then exits.
ORIENT_START = """
import sys
from orient.assistant.tui.app import OrientApp
def embedded():
    from orient.assistant.embedded import Embedded
    return Embedded(sys.argv[1])
class Probe(OrientApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(self.shown)
    def shown(self):
        print("shown", flush=True)
        self.exit()
Probe(embedded=embedded).run(headless=True)
"""
BARE_START = """
from textual.app import App
from textual.containers import Vertical
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option
class Bare(App):
    def compose(self):
        with Vertical():
            with Vertical():
                yield Label("Orient")
                yield Label("Qui utilise Orient ?")
                yield OptionList(Option("1"), Option("2"), Option("3"))
                yield Label("Touche 1, 2 ou 3")
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.shown)
    def shown(self):
        print("shown", flush=True)
        self.exit()
Bare().run(headless=True)
"""

# A first start in a new process, as `orient` is started: the person presses 1 (doctor) as soon as
# the first screen is drawn, while the local hub's layers import and its database is created in a
# thread, then n. A screen counts as seen when its first frame is painted (the refresh after its
# mounting). The keys go in as the terminal's driver sends them, and the loop polls with bare
# sleeps: Pilot's press() waits until the whole process is idle (CPU time, up to 1 s twice), and
# its pause() until every widget has emptied its queue, so with the hub preparing they measured
# that preparation rather than the screen.
FIRST_START = """
import asyncio, json, sys, time
from textual import events
from orient.assistant.tui.app import OrientApp
def embedded():
    from orient.assistant.embedded import Embedded
    return Embedded(sys.argv[1])
def key(app, name):
    event = events.Key(name, name)
    event.set_sender(app)
    app._driver.send_message(event)
async def painted(app, name):
    while not (type(app.screen).__name__ == name and app.screen.is_mounted):
        await asyncio.sleep(0.005)
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await done.wait()
    return time.perf_counter()
async def main():
    app = OrientApp(embedded=embedded)
    async with app.run_test(size=(100, 40)):
        await painted(app, "WhoScreen")
        t0 = time.perf_counter()
        key(app, "1")
        t1 = await painted(app, "HomeScreen")
        key(app, "n")
        while not (type(app.screen).__name__ == "ChatScreen" and app.screen.question):
            await asyncio.sleep(0.005)
        print(json.dumps({"1 to home": t1 - t0, "n to first question": app.screen.shown_at - t1}),
              flush=True)
asyncio.run(main())
"""


def first_start(db: Path) -> None:
    out = subprocess.run([sys.executable, "-c", FIRST_START, str(db)], capture_output=True, text=True,
                         check=False, timeout=120, env=dict(os.environ))
    line = next(x for x in out.stdout.splitlines() if x.startswith("{"))
    for step, seconds in json.loads(line).items():
        FIRST.setdefault(step, []).append(seconds)


def cold_start(snippet: str, db: Path) -> float:
    """Seconds from launching the command to its first screen drawn (interpreter start included)."""
    env = dict(os.environ)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", snippet, str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "shown":
            elapsed = time.perf_counter() - t0
            break
    else:
        raise RuntimeError("the app did not show its first screen")
    proc.wait(30)
    return elapsed


async def answer_latency(db: Path) -> list[float]:
    """Seconds from the last key of an answer (Enter) to the next question shown."""
    from textual.widgets import SelectionList

    from orient.assistant.embedded import Embedded
    from orient.assistant.tui.app import OrientApp
    from orient.assistant.tui.screens.chat import ChatScreen
    from orient.assistant.tui.screens.proposals import ProposalsScreen
    from orient.assistant.tui.screens.sign import SignScreen

    inputs = json.loads(SCENARIO.read_text(encoding="utf-8"))["answers"]
    queues = {k: deque(v) for k, v in inputs.items()}
    app = OrientApp(embedded=lambda: Embedded(db))  # as `orient` does: prepared after the first screen
    times = []
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("1")  # the doctor (the first start is measured in first_start())
        while not (type(app.screen).__name__ == "HomeScreen" and app.screen.is_mounted):
            await pilot.pause(0.01)
        await pilot.press("n")
        while not (isinstance(app.screen, ChatScreen) and app.screen.question):
            await pilot.pause(0.01)
        chat = app.screen
        answer = chat.query_one("#answer")
        while chat.question is not None:
            queue = queues.get(chat.question["field"])
            answer.value = queue.popleft() if queue else ""  # typed text; the measure starts at Enter
            answer.focus()
            question = chat.question
            t0 = time.perf_counter()
            await pilot.press("enter")
            while chat.shown_at < t0:
                await pilot.pause(0)
            if chat.question is not question:
                # the screen's own timestamp of the next question, not this loop's polling
                times.append(chat.shown_at - t0)
        PEAKS["questions answered"] = peak_mib()
        # the rest of a referral: F7 proposals (the directory's first use on this database),
        # the first two units checked, F9, F8 signature with the code, Enter: signed and sent
        await pilot.press("f7")
        while not isinstance(app.screen, ProposalsScreen):
            await pilot.pause(0.02)
        units = app.screen.query_one("#units", SelectionList)
        while units.option_count < 2:
            await pilot.pause(0.02)
        await pilot.press("space", "down", "space", "f9")
        while app.screen is not chat:
            await pilot.pause(0.02)
        await pilot.press("f8")
        while not isinstance(app.screen, SignScreen):
            await pilot.pause(0.02)
        await pilot.press(*DOCTOR_CODE, "enter")
        while app.screen is not chat:
            await pilot.pause(0.02)
        while (await app.client.dossier(chat.dossier_id))["status"] != "sent":
            await pilot.pause(0.02)
        PEAKS["referral sent"] = peak_mib()
    return times


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cold_start(ORIENT_START, folder / "warm.db")  # file-system caches, like a second start
        orient, bare = [], []
        for i in range(args.starts):  # interleaved: the machine's speed drifts during a run
            orient.append(cold_start(ORIENT_START, folder / f"s{i}.db"))
            bare.append(cold_start(BARE_START, folder / "bare.db"))
            first_start(folder / f"f{i}.db")
        latencies = asyncio.run(answer_latency(folder / "chat.db"))
    o, b = statistics.median(orient), statistics.median(bare)
    ms = sorted(x * 1000 for x in latencies)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(f"cold start to the first screen (new database each time, median of {args.starts}): "
          f"orient {o:.3f} s, bare Textual app {b:.3f} s, ratio {o / b:.2f}")
    print(f"first start, from the first screen (median of {args.starts}): " + ", ".join(
        f"{step} {statistics.median(seconds):.2f} s" for step, seconds in FIRST.items()))
    print(f"keypress to next question through Pilot ({len(ms)} answers): median "
          f"{statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms")
    print("peak memory (max RSS of this process, hub in-process): " + ", ".join(
        f"{phase} {mib:.0f} MiB" for phase, mib in PEAKS.items()))


if __name__ == "__main__":
    main()
