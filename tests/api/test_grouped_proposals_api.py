"""The hub's proposals for a dossier with a second acceptable specialty (SQLite only: matching reads
the directory in memory, whatever the database): both specialties, each proposal naming the one it
matches, the heading of each one's group and the ranking rule for the screens to show; and the
directory search's `specialty_alt`."""

from __future__ import annotations

from api_helpers import Env, Roles


def test_a_dossier_with_two_specialties_gets_grouped_proposals(sqlite_env: Env, sqlite_roles: Roles) -> None:
    env, r = sqlite_env, sqlite_roles
    answers = env.answers_for(**{"patient.commune": ["Saint-Laurent-de-Neste"],
                                 "request.specialty": ["médecine polyvalente"],
                                 "request.specialty_alt": ["pneumologie"]})
    step = env.fill(r.owner, answers=answers)
    assert step["status"] == "ready", step
    found = env.ok("GET", f"/dossiers/{step['dossier_id']}/proposals", r.owner)
    assert found["message"] is None and len(found["proposals"]) == 20
    assert {p["specialty"] for p in found["proposals"]} == {"general_medicine", "pulmonology"}
    groups = found["groups"]
    assert set(groups) == {p["unit_id"] for p in found["proposals"] + found["full"]}
    first = found["proposals"][0]
    assert groups[first["unit_id"]].startswith("moins de 10 km · Médecine polyvalente · ")
    assert all((" · Pneumologie · " in groups[p["unit_id"]]) == (p["specialty"] == "pulmonology")
               for p in found["proposals"])
    assert "spécialité souhaitée d'abord" in found["ranking"]


def test_the_directory_search_takes_a_second_specialty(sqlite_env: Env, sqlite_roles: Roles) -> None:
    env, r = sqlite_env, sqlite_roles
    found = env.ok("GET", "/directory/search", r.owner, params={
        "specialty": "general_medicine", "specialty_alt": "pulmonology", "commune": "Saint-Laurent-de-Neste",
        "age": "84", "limit": "30"})
    assert {p["specialty"] for p in found} == {"general_medicine", "pulmonology"}
    response = env.call("GET", "/directory/search", r.owner, params={
        "specialty": "general_medicine", "specialty_alt": "general_medicine", "commune": "Toulouse", "age": "84"})
    assert response.status_code == 422 and "specialty_alt" in response.text and "déjà" in response.text
