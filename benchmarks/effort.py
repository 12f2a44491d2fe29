"""How much a doctor types for one referral (issue 10): one fixed, realistic case
(benchmarks/effort_case.json: an elderly patient with pneumonia, history, three treatments, an
allergy, vital signs) driven through the terminal assistant with Pilot, by keys as a person would,
three ways:

1. typed: every answer typed by hand, with the blood pressure as `128/74`, the values the
   assistant proposes picked by their number (the MSSanté address from the doctor's name, the
   ICD-10 code, the anticoagulation from the treatments), and answers chained with « ; » at the
   questions the case names, over the fields the hint under that question shows;
2. profile + vital-signs line: the doctor's profile (callback phone, MSSanté) set on an earlier
   dossier and confirmed with Enter, the vital signs typed as one line, chains as in 1;
3. FHIR import: the same patient exported by the practice software (the synthetic Bundle shipped
   with Orient), imported from the home screen (f, 1, the file's path), its values confirmed with
   Enter; the profile as in 2; the rest typed as in 1.

A doctor who reads the screen: a chain is typed only over the fields the hint under the question
shows (the benchmark fails otherwise); a conditional field the hint shows « s'il y a lieu » gets a
part only when the case answers it; a proposed value is typed as the number shown beside it (the
benchmark fails when it is not proposed); the options of the lists are typed by their numbers,
including inside a chain (the lists are fixed: a doctor who has made a few referrals knows them).
Parts are separated by a bare « ; » (one key, as Enter would be).

For each: prompts answered (every question shown and answered, Enter alone included, the
confirmations and the import's path too), keystrokes (from the home screen's key to the last
question; Enter counted), characters of free text (names, reason, history, treatments, allergies,
address, e-mail), and the estimated time: keystrokes typed at 200 characters per minute plus 2 s of
reading per prompt. Choosing units, signing and sending are the same in the three ways and are not
counted.

What the product offers is detected, so that the benchmark runs on whatever main has: the
vital-signs line (the dialog's `split_answer`), the profile (`/me/profile`), the import (the
`import` screen), the chained answers (the question's `run` hint). A way whose feature is missing
is measured without it and says so.

Usage: python benchmarks/effort.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = json.loads((ROOT / "benchmarks" / "effort_case.json").read_text(encoding="utf-8"))
CHARS_PER_MINUTE = 200
READING_SECONDS = 2.0
TARGETS = {  # issue 10: (prompts, keystrokes, seconds) at most; None: no target
    "typed": (30, 500, None),
    "profile + vital-signs line": (26, None, None),
    "FHIR import": (12, 150, 90.0),
}


@dataclass
class Effort:
    way: str
    prompts: int = 0
    keystrokes: int = 0
    free_text: int = 0
    status: str = ""
    asked: list[str] = field(default_factory=list)
    missing_features: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.keystrokes / CHARS_PER_MINUTE * 60 + READING_SECONDS * self.prompts


def features() -> dict[str, bool]:
    from orient.assistant.engine import Question
    from orient.assistant.tui.screens import SCREENS
    from orient.dialogs.hnp import HNP

    split = getattr(HNP, "split_answer", None)
    multi = split is not None and split("medical.bp_systolic", "128/74") is not None
    line = multi and split("medical.bp_systolic", CASE["vitals_line"]["medical.bp_systolic"]) is not None
    runs = "run" in getattr(Question, "__dataclass_fields__", {})
    try:
        from orient.assistant.client import HubClient

        profile = hasattr(HubClient, "set_profile")
    except ImportError:  # pragma: no cover
        profile = False
    return {"multi_field": multi, "vitals_line": line, "profile": profile, "import": "import" in SCREENS,
            "runs": runs}


def free_text_field(field_id: str) -> bool:
    from orient.dialogs.hnp import HNP
    from orient.models.fields import FieldType

    spec = HNP.by_id.get(field_id)
    return spec is not None and spec.type in (FieldType.TEXT, FieldType.NAME, FieldType.EMAIL) \
        and not spec.identifier


async def drive(way: str, folder: Path, have: dict[str, bool]) -> Effort:
    from textual.widgets import Input, Static

    from orient.assistant.embedded import Embedded
    from orient.assistant.importing import example_bundle
    from orient.assistant.tui.app import OrientApp
    from orient.assistant.tui.screens.chat import ChatScreen

    effort = Effort(way)
    answers = dict(CASE["typed"])
    if not have["multi_field"]:
        effort.missing_features.append("réponses à plusieurs champs")
    chain = dict(CASE["chain"][way]) if have["runs"] else {}
    if not have["runs"]:
        effort.missing_features.append("réponses enchaînées")
    use_profile = way != "typed"
    if way == "profile + vital-signs line":
        if have["vitals_line"]:
            answers.update(CASE["vitals_line"])
        else:
            effort.missing_features.append("ligne de constantes")
    if use_profile and not have["profile"]:
        effort.missing_features.append("profil")
        use_profile = False
    if way == "FHIR import" and not have["import"]:
        effort.missing_features.append("import")
        return effort

    home = folder / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)  # the path typed is ~/export-lafargue.json
    bundle = Path(CASE["bundle_path"]).expanduser()
    bundle.write_bytes(example_bundle())

    embedded = Embedded(folder / "orient.db", outbox=folder / "outbox.json")
    app = OrientApp(embedded=embedded, letter_folder=folder / "letters", feed_wait=0.5)

    async with app.run_test(size=(100, 40)) as pilot:
        async def idle() -> None:
            await pilot.pause()
            while any(w.group != "feed" and not w.is_finished for w in app.workers):
                await pilot.pause(0.01)
            await pilot.pause()

        async def typed(text: str) -> None:
            for char in text:
                await pilot.press(char if char.isalnum() else _key(char))
            await pilot.press("enter")
            await idle()

        await idle()
        await pilot.press("1")  # the demo doctor (the person's account: not counted)
        await idle()
        if use_profile:  # set on an earlier dossier
            p = CASE["profile"]
            while app._client is None:
                await pilot.pause(0.01)
            await app.client.set_profile(p["callback_phone"], p["mssante"])
        if way == "FHIR import":
            await pilot.press("f", "1")
            await idle()
            effort.keystrokes += 2
            await typed(CASE["bundle_path"])
            effort.prompts += 1
            effort.keystrokes += len(CASE["bundle_path"]) + 1
        else:
            await pilot.press("n")
            effort.keystrokes += 1
            await idle()
        while not isinstance(app.screen, ChatScreen):
            await pilot.pause(0.01)
        screen = app.screen
        while screen.question is None and screen.status == "draft":
            await pilot.pause(0.01)
        for _ in range(120):
            q = screen.question
            if q is None:
                break
            field_id = q["field"]
            parts = [(field_id, _answer(q, answers, way))] if not field_id.startswith("dossier.") else []
            if field_id in chain:
                shown = q.get("run") or []
                wanted = chain.pop(field_id)
                if len(shown) < wanted:
                    raise SystemExit(f"{way}: the hint at {field_id} shows {len(shown)} fields, "
                                     f"the case chains {wanted}")
                for item in shown[:wanted]:
                    if item["conditional"] and item["field"] not in answers:
                        continue  # « s'il y a lieu »: not for this patient
                    parts.append((item["field"], answers.pop(item["field"], "")))
            text = ";".join(t for _, t in parts)
            effort.asked.append(field_id + (f"+{len(parts) - 1}" if len(parts) > 1 else ""))
            effort.prompts += 1
            effort.keystrokes += len(text) + 1
            effort.free_text += sum(len(t) for f, t in parts if free_text_field(f))
            version = screen.version
            await typed(text)
            error = str(screen.query_one("#error", Static).render())
            if screen.version == version and error:
                raise SystemExit(f"{way}: « {text} » refused at {field_id}: {error}")
            screen.query_one("#answer", Input).value = ""
        effort.status = screen.status
    embedded.close()
    return effort


def _answer(q: dict, answers: dict[str, str], way: str) -> str:
    """What the doctor types at the question: the case's answer, or the number shown beside the
    value the assistant proposes (for a list, the option's own number)."""
    field_id = q["field"]
    wanted = CASE["picks"].get(field_id)
    if wanted is None:
        return answers.pop(field_id, "")
    codes = [code for code, _ in q.get("suggestions") or []]
    if wanted not in codes:
        raise SystemExit(f"{way}: « {wanted} » is not proposed at {field_id} (proposed: {codes})")
    if q["type"] == "choice":
        return str([code for code, _ in q["options"]].index(wanted) + 1)
    return str(codes.index(wanted) + 1)


def _key(char: str) -> str:
    from textual.keys import _character_to_key

    return _character_to_key(char)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args()
    have = features()
    results = []
    home = os.environ.get("HOME")
    try:
        for way in TARGETS:
            with tempfile.TemporaryDirectory(prefix="orient-effort-") as tmp:
                results.append(asyncio.run(drive(way, Path(tmp), have)))
    finally:
        if home is not None:
            os.environ["HOME"] = home
    if args.json:
        print(json.dumps({"features": have, "ways": [{**asdict(r), "seconds": round(r.seconds, 1)}
                                                     for r in results]}, ensure_ascii=False, indent=1))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()}")
    print("features: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in have.items()))
    print(f"{'way':<30} {'prompts':>7} {'keys':>6} {'free text':>9} {'est. time':>9}  status  targets")
    for r in results:
        prompts_t, keys_t, secs_t = TARGETS[r.way]
        checks = []
        if prompts_t is not None:
            checks.append(f"prompts ≤ {prompts_t}: {'met' if r.prompts <= prompts_t else 'NOT met'}")
        if keys_t is not None:
            checks.append(f"keys ≤ {keys_t}: {'met' if r.keystrokes <= keys_t else 'NOT met'}")
        if secs_t is not None:
            checks.append(f"time < {secs_t:g} s: {'met' if r.seconds < secs_t else 'NOT met'}")
        missing = f" (without: {', '.join(r.missing_features)})" if r.missing_features else ""
        print(f"{r.way:<30} {r.prompts:>7} {r.keystrokes:>6} {r.free_text:>9} {r.seconds:>8.0f}s  "
              f"{r.status or '-':<6}  {'; '.join(checks)}{missing}")
    for r in results:
        print(f"\n{r.way}: asked {len(r.asked)}: {' '.join(r.asked)}")


if __name__ == "__main__":
    sys.exit(main())
