"""The kiosk in a real headless Chromium: the page loads with a title and the terminal focused (no
click needed), the first question appears, typing an answer brings the next one. The screenshots are kept in test-artifacts/ at the project's root."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_skips import unavailable

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def orient_command() -> list[str]:
    found = shutil.which("orient")
    return [found] if found else [sys.executable, "-m", "orient.assistant.cli"]


@pytest.fixture
def kiosk(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        unavailable("playwright (Python) is not installed")
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.Popen([*orient_command(), "kiosk", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}/", tmp_path
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(10)


def kiosk_db(folder: Path) -> Path | None:
    found = sorted(folder.glob("orient-kiosk-*/kiosk.db"))
    return found[0] if found else None


def rows(db: Path, sql: str) -> list[str]:
    """Read the kiosk session's database (empty while it is being created)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return [row[0] for row in conn.execute(sql)]
    except sqlite3.OperationalError:
        return []


def dossiers(db: Path) -> set[str]:
    return set(rows(db, "SELECT id FROM dossier"))


def asked(db: Path, dossier_id: str) -> list[str]:
    return rows(db, "SELECT field_id FROM audit_entry WHERE event = 'question_asked' "
                    f"AND dossier_id = '{dossier_id}' ORDER BY seq")


def signed_in(db: Path) -> bool:
    return bool(rows(db, "SELECT id FROM access_token WHERE label = 'démo'"))


async def until(check, seconds: float, page) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await page.wait_for_timeout(250)
    raise AssertionError("condition not met in time")


async def until_async(check, seconds: float, page) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await page.wait_for_timeout(100)
    raise AssertionError("condition not met in time")


def test_kiosk_first_question_then_the_next(kiosk: tuple[str, Path]) -> None:
    from playwright.async_api import async_playwright

    url, folder = kiosk
    ARTIFACTS.mkdir(exist_ok=True)

    async def visit() -> None:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1200, "height": 800})
            await page.goto(url)
            await page.wait_for_selector("#terminal canvas, #terminal .xterm", timeout=20_000)
            await until(lambda: kiosk_db(folder) is not None, 30, page)
            db = kiosk_db(folder)
            assert db is not None
            # no click anywhere: the keys must reach the terminal as soon as the page shows
            assert await page.title() == "Orient — démonstration (hospitalisation non programmée)"
            focused = "document.activeElement && document.activeElement.closest('#terminal') !== null"
            await until_async(lambda: page.evaluate(focused), 20, page)
            await page.wait_for_selector("body.-first-byte", timeout=30_000)  # the app has drawn
            await page.screenshot(path=str(ARTIFACTS / "kiosk-1-who.png"))
            await page.keyboard.press("1")  # the demo doctor (once the throw-away world is ready)
            await until(lambda: signed_in(db), 60, page)
            await page.wait_for_timeout(500)
            before = dossiers(db)
            await page.keyboard.press("n")  # a new dossier: its first question is the red flags
            await until(lambda: len(dossiers(db) - before) == 1, 30, page)
            [new] = dossiers(db) - before
            await until(lambda: asked(db, new) == ["request.red_flags"], 30, page)
            await page.screenshot(path=str(ARTIFACTS / "kiosk-2-first-question.png"))
            await page.keyboard.type("aucun")
            await page.keyboard.press("Enter")
            # the next question: the demo doctor's profile to confirm (the synthetic patients gave
            # it a callback phone), else the callback phone itself
            await until(lambda: asked(db, new)[1:2] in (["dossier.confirm"], ["requester.callback_phone"]),
                        20, page)
            await page.wait_for_timeout(500)
            await page.screenshot(path=str(ARTIFACTS / "kiosk-3-next-question.png"))
            await browser.close()

    asyncio.run(visit())
    assert (ARTIFACTS / "kiosk-3-next-question.png").stat().st_size > 5_000
