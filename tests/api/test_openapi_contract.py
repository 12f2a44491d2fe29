"""The OpenAPI document is the hub's contract (issue 11, finding 10): schemathesis generates
requests from it, sends each one to a real `orient serve` over HTTP with the token of every role,
and runs all its checks on every answer (no server error; status codes, content types, headers
and bodies as documented; schema-valid requests accepted, invalid ones refused; a 401 without a
token; 405 with `Allow`...). Zero failures.

Repeatable and bounded: a fixed seed, a few examples per operation (each sent as 7 callers), no
example database; the whole module takes about a minute on a 2-core machine.

The world: a doctor with a dossier sent to the units of a receiver, another doctor with one sent to
other units, delegated secretaries, a secretary without delegation, the admin. Path parameters are
drawn half of the time from the ids of that world (dossiers, referrals, units, users), so that
requests reach the hub's rules and not only its 404s; a token id is never drawn (the run would
revoke its own tokens).

Where the hub refuses schema-valid data for a reason the schema cannot express, the operation
lists 422 as an expected answer (CONFIG below): a feed cursor this caller was never given, search
criteria read like typed answers (an unknown commune), statistics filters (a month 2026-13, a
period ending before it starts, a unit not in the directory or not the caller's), an account or a delegation the rules
refuse (an RPPS with a wrong check digit, a past end date).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from api_helpers import CHU_UNITS, OTHER_UNITS, make_env, make_roles
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import CHECKS, load_all_checks

SEED = 20261203
EXAMPLES = 5
# the file's content (FHIR, a letter) and the profile's values go through rules no schema expresses
BUSINESS_422 = ["GET /feed", "GET /directory/search", "POST /users", "POST /delegations",
                "POST /dossiers/import", "PUT /me/profile", "GET /stats",
                # notification choices: an address read like the dossier's MSSanté field, events of
                # the caller's side only, a copy to the secretaries only for a doctor
                "PUT /me/notifications", "PUT /units/{unit_id}/notifications"]
# a list too long for the schema may also be a body over the hub's size limit: 413 is a refusal too
LARGE_BODIES = ["POST /dossiers/{dossier_id}/proposals"]
ROLES = ("owner", "other_doctor", "sec_deleg", "sec_medical", "sec_none", "recv_unit", "admin")


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _config(ids: dict[str, list[str]]) -> str:
    lines = [f"[dictionaries.{name}]\nvalues = {_toml_list(values)}\n" for name, values in ids.items()]
    lines.append("[parameters]")
    lines += [f'"path.{name}_id" = {{ dictionary = "{name}", probability = 0.5 }}' for name in ids]
    accepted = _toml_list(["2xx", "401", "403", "404", "409", "422"])
    for name in BUSINESS_422:
        lines.append(f'\n[[operations]]\ninclude-name = "{name}"\n'
                     f"checks.positive_data_acceptance.expected-statuses = {accepted}")
    refused = _toml_list(["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"])
    for name in LARGE_BODIES:
        lines.append(f'\n[[operations]]\ninclude-name = "{name}"\n'
                     f"checks.negative_data_rejection.expected-statuses = {refused}")
    # signing out revokes the caller's own token: the run would lose its tokens (tests/api/test_psc_signin.py)
    lines.append('\n[[operations]]\ninclude-name = "POST /auth/logout"\nenabled = false')
    return "\n".join(lines) + "\n"


def _orient() -> list[str]:
    script = Path(sys.executable).parent / "orient"
    return [str(script)] if script.exists() else [sys.executable, "-m", "orient.assistant.cli"]


@pytest.fixture(scope="module")
def hub(module_sqlite_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    env = make_env(module_sqlite_url)
    r = make_roles(env)
    sent, refs = env.sent(r.owner, units=CHU_UNITS[:2])
    draft = env.fill(r.owner, stop_before="medical.reason")["dossier_id"]
    other, other_refs = env.sent(r.other_doctor, units=OTHER_UNITS[:1])
    tokens = {name: getattr(r, name).token for name in ROLES}
    ids = {"dossier": [sent, draft, other], "referral": [x["id"] for x in refs + other_refs],
           "unit": list(CHU_UNITS + OTHER_UNITS), "user": [r.owner.id, r.sec_deleg.id]}
    env.close()

    folder = tmp_path_factory.mktemp("contract")
    (folder / "schemathesis.toml").write_text(_config(ids), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k != "ORIENT_HUB_DB"}
    with (folder / "hub.log").open("wb") as log:
        proc = subprocess.Popen([*_orient(), "serve", "--db", module_sqlite_url, "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (folder / "hub.log").read_text(errors="replace")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "orient serve did not start"
            time.sleep(0.2)
        yield {"url": url, "tokens": tokens, "config": folder / "schemathesis.toml",
               "log": folder / "hub.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def api(hub: dict[str, Any]) -> Any:
    config = schemathesis.Config.from_path(hub["config"])
    return schemathesis.openapi.from_url(hub["url"] + "/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_of_the_hub_is_documented(case: Any, hub: dict[str, Any]) -> None:
    load_all_checks()
    checks = CHECKS.get_all()
    for role in ROLES:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {hub['tokens'][role]}"},
                                   checks=checks, timeout=40)
        except Exception as exc:
            exc.add_note(f"as the caller « {role} »")
            raise


def test_the_document_declares_the_bearer_scheme_and_the_error_shapes(hub: dict[str, Any]) -> None:
    doc = httpx.get(hub["url"] + "/openapi.json", timeout=10).json()
    assert doc["components"]["securitySchemes"] == {"jeton": {
        "type": "http", "scheme": "bearer",
        "description": "Jeton d'accès Orient (affiché une fois par « orient users add »)."}}
    # no token: health, version, and what a person signing in with Pro Santé Connect calls
    public = {"/health", "/version", "/auth/psc", "/auth/psc/start", "/auth/psc/poll"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            names = [p["name"].lower() for p in op.get("parameters", [])]
            assert "authorization" not in names, (method, path)  # a scheme, not a parameter
            assert ("security" in op) == (path not in public), (method, path)
            if path not in public:
                assert "401" in op["responses"], (method, path)
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.rsplit("/", 1)[1] in {"ErrorOut", "ValidationErrorOut", "ConflictOut"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    export = doc["paths"]["/audit/export"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/x-ndjson"]
    assert set(doc["components"]["schemas"]["ValidationErrorOut"]["properties"]["detail"].items()) >= {
        ("type", "string")}


def test_a_wrong_method_names_every_method_of_the_path(hub: dict[str, Any]) -> None:
    answer = httpx.request("DELETE", hub["url"] + "/dossiers", timeout=10,
                           headers={"Authorization": f"Bearer {hub['tokens']['owner']}"})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.json()["detail"] == "Méthode DELETE non permise sur « /dossiers »."


def test_the_audit_export_is_served_as_documented(hub: dict[str, Any]) -> None:
    answer = httpx.get(hub["url"] + "/audit/export", timeout=30,
                       headers={"Authorization": f"Bearer {hub['tokens']['admin']}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert all(json.loads(line)["seq"] for line in answer.text.splitlines())
