"""`orient replay`: run the real conversation with answers read from a scenario file
(spec/replay.md) and report what happened as one JSON object."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orient.assistant import demo_accounts, demo_world
from orient.assistant.client import HubClient, HubError
from orient.assistant.engine import CONFIRM_FIELD, PROFILE_FIELD
from orient.assistant.french import json_error_fr, os_error_fr
from orient.assistant.service import DossierService
from orient.assistant.store import accounts
from orient.dialogs.hnp import HNP
from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus
from orient.models.users import Actor, Role

KEYS = {"role", "answers", "choose", "sign", "send", "import"}
ROLES = {"doctor": demo_accounts.DEMO_DOCTOR, "secretary": demo_accounts.DEMO_SECRETARY}


class ScenarioError(ValueError):
    """An unusable scenario file; the message (French) names what is wrong."""


@dataclass(frozen=True)
class Scenario:
    role: Role
    answers: dict[str, list[str]]
    choose: list[int] | None = None
    sign: bool = False
    send: bool = False
    imported: bytes | None = None  # the FHIR Bundle of the `import` key, as read from its file


def read_import(value: Any, base: Path) -> bytes:
    """The Bundle named by the `import` key (a path relative to the scenario's folder), checked
    as the hub will read it: a file that would be refused makes the scenario unusable."""
    from orient.assistant.importing import ImportRefused
    from orient.assistant.importing.fhir import read_bundle

    if not isinstance(value, str) or not value.strip():
        raise ScenarioError("« import » doit être le chemin d'un Bundle FHIR R4 (relatif au scénario).")
    path = base / value
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"fichier à importer illisible « {value} » : {exc.strerror}.") from exc
    try:
        read_bundle(data)
    except ImportRefused as exc:
        raise ScenarioError(f"fichier à importer « {value} » refusé : {exc}") from exc
    return data


def parse_scenario(data: Any, base: Path | None = None) -> Scenario:
    """A scenario from its JSON; `base` is the folder paths in it are relative to (the scenario
    file's folder; the current folder by default)."""
    if not isinstance(data, dict):
        raise ScenarioError("le scénario doit être un objet JSON ({...}).")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ScenarioError(f"clé(s) inconnue(s) dans le scénario : {', '.join(unknown)} "
                            f"(attendues : {', '.join(sorted(KEYS))}).")
    role = data.get("role")
    if role not in ROLES:
        raise ScenarioError(f"« role » doit valoir « doctor » ou « secretary » (reçu : {json.dumps(role)}).")
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise ScenarioError("« answers » doit être un objet : identifiant de champ → liste de saisies.")
    bad_ids = sorted(k for k in answers if k not in HNP.by_id and k not in (CONFIRM_FIELD, PROFILE_FIELD))
    if bad_ids:
        raise ScenarioError(f"identifiant(s) de champ inconnu(s) dans « answers » : {', '.join(bad_ids)}.")
    for field_id, inputs in answers.items():
        if not isinstance(inputs, list) or not all(isinstance(x, str) for x in inputs):
            raise ScenarioError(f"« answers.{field_id} » doit être une liste de textes saisis "
                                '(par exemple ["12/03/1938"]).')
    choose = data.get("choose")
    if choose is not None and (
        not isinstance(choose, list)
        or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in choose)
    ):
        raise ScenarioError("« choose » doit être une liste de positions (entiers à partir de 1).")
    for flag in ("sign", "send"):
        if not isinstance(data.get(flag, False), bool):
            raise ScenarioError(f"« {flag} » doit valoir true ou false.")
    imported = read_import(data["import"], base or Path.cwd()) if "import" in data else None
    return Scenario(Role(role), answers, choose, data.get("sign", False), data.get("send", False),
                    imported)


def load_scenario(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"fichier de scénario illisible « {path} » : {os_error_fr(exc)}.") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"le fichier « {path} » n'est pas en UTF-8.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"JSON invalide dans « {path} », {json_error_fr(exc)}.") from exc
    return parse_scenario(data, Path(path).resolve().parent)


def actor_for_role(service: DossierService, role: Role) -> Actor:
    """The demo doctor or the demo secretary (under her delegation) on the service's database."""
    with Session(service.db) as session:
        demo_world.ensure_demo_accounts(session)
        return accounts.actor_for(session, ROLES[role.value].user_id, demo_accounts.DEMO_DOCTOR.rpps)


def run(scenario: Scenario, service: DossierService, dossier_id: str | None = None) -> dict[str, Any]:
    """Replay a scenario on a new dossier (or continue `dossier_id`) and return the report."""
    return run_dossier(scenario, service, dossier_id)[1]


def run_dossier(scenario: Scenario, service: DossierService,
                dossier_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """Like `run`, also giving the id of the dossier replayed: through the hub client, with the
    hub in-process on the service's database."""
    from orient.assistant.embedded import Embedded

    embedded = Embedded.on_engine(service.db)
    client = embedded.client(scenario.role.value, label="replay")

    async def go() -> tuple[str, dict[str, Any]]:
        try:
            return await replay_with_client(scenario, client, dossier_id)
        finally:
            await client.close()

    return asyncio.run(go())


def _refusal(exc: HubError) -> str:
    return exc.detail


def _warning(w: dict[str, Any]) -> dict[str, Any]:
    """A warning as the replay reports it; a duplicate suspicion with the dossiers it offers to
    open (those the user may see)."""
    out: dict[str, Any] = {"field": w["field"], "code": w["code"], "message": w["message"]}
    if w.get("dossiers"):
        out["dossiers"] = list(w["dossiers"])
    return out


async def replay_with_client(scenario: Scenario, client: HubClient,
                             dossier_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """The replay itself, as a person would do it through the hub client."""
    rejected: list[dict[str, str]] = []
    imported: dict[str, Any] | None = None
    if dossier_id:
        if scenario.imported is not None:
            raise ScenarioError("« import » crée un nouveau dossier : il ne se combine pas avec --dossier.")
        view = await client.dossier(dossier_id)
        question, version = view["question"], view["version"]
    elif scenario.imported is not None:
        done = await client.import_dossier(scenario.imported)
        step = done["step"]
        dossier_id, question, version = step["dossier_id"], step["question"], step["version"]
        imported = {"origin": done["origin"], "notes": done["notes"]}
        rejected += [{"field": r["field"], "input": r["text"], "message": r["message"]} for r in step["refused"]]
    else:
        step = await client.create_dossier()
        dossier_id, question, version = step["dossier_id"], step["question"], step["version"]
    assert dossier_id is not None
    queues = {field_id: deque(inputs) for field_id, inputs in scenario.answers.items()}
    asked: list[str] = []
    warnings: list[dict[str, str]] = []
    while question is not None:
        field_id = question["field"]
        asked.append(field_id)
        accepted = False
        while not accepted:
            queue = queues.get(field_id)
            scripted = bool(queue)
            if queue:
                typed = queue.popleft()
            elif question["required"]:
                break  # a required field without inputs ends the questions here
            else:
                typed = ""  # an optional field is skipped
            step = await client.answer(dossier_id, typed, version)
            version, accepted = step["version"], step["ok"]
            if not accepted:
                rejected.append({"field": field_id, "input": typed, "message": step["message"] or ""})
                if not scripted:
                    break  # the empty answer of a field without inputs was refused: it is required
        if not accepted:
            break
        # the parts of an answer chained with « ; » (or of a line of signs) their rule refused:
        # their questions come back as usual
        rejected += [{"field": r["field"], "input": r["text"], "message": r["message"]}
                     for r in step.get("refused") or []]
        warnings += [_warning(w) for w in step["warnings"]]
        question = step["question"]

    errors: list[str] = []
    view = await client.dossier(dossier_id)
    done = view["status"] in (DossierStatus.READY.value, DossierStatus.SIGNED.value)
    proposals: list[dict[str, Any]] = (await client.proposals(dossier_id))["proposals"] if done else []
    if scenario.choose is not None:
        if not done:
            status = DOSSIER_STATUS_FR[DossierStatus(view["status"])]
            errors.append(f"Choix des unités impossible : le dossier n'est pas complet (statut « {status} »).")
        else:
            beyond = [p for p in scenario.choose if p > len(proposals)]
            if beyond:
                errors.append(f"Choix impossible : position(s) {', '.join(map(str, beyond))} au-delà des "
                              f"{len(proposals)} unité(s) proposée(s).")
            else:
                try:
                    await client.choose(dossier_id, [proposals[p - 1]["unit_id"] for p in scenario.choose])
                except HubError as exc:
                    errors.append(_refusal(exc))
    if scenario.sign:
        try:
            signed = await client.sign(dossier_id, demo_accounts.DEMO_DOCTOR.code or "", view["version"])
            if not signed["ok"]:
                errors.append(signed["message"] or "Signature impossible.")
        except HubError as exc:
            errors.append(_refusal(exc))
    referrals: list[dict[str, Any]] = []
    if scenario.send:
        try:
            sent = await client.send(dossier_id)
            referrals = [{"id": r["id"], "unit_id": r["unit_id"], "status": r["status"]}
                         for r in sent["referrals"]]
        except HubError as exc:
            errors.append(_refusal(exc))
    view = await client.dossier(dossier_id)
    answers = view["answers"]
    report: dict[str, Any] = {
        "status": view["status"],
        "asked": asked,
        "rejected": rejected,
        "warnings": warnings,
        "dossier": {f.id: answers[f.id] for f in HNP.fields if f.id in answers},
        "missing": view["missing"],
        "blocked_reason": view["blocked_reason"],
        "dossier_warnings": [_warning(w) for w in view.get("warnings", [])],
        "proposals": proposals,
        "referrals": referrals,
        "errors": errors,
        "audit_ok": (await client.audit_verify())["ok"],
    }
    if imported is not None:
        report["import"] = imported
    return dossier_id, report
