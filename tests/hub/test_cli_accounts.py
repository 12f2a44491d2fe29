"""`orient users add` and `orient delegate`: accounts made on the command line work against the
hub, and bad input exits 2 with a French message (nothing created).

The successful commands run as real processes; the refusals run `cli.main` in this process
(same code, same exit status, much faster).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hub_processes import add_user, new_rpps, orient, scenario
from sqlalchemy import func, select
from sqlmodel import Session

from orient.assistant import cli, replay
from orient.assistant.client import HubClient, HubError
from orient.assistant.hub.app import Hub, create_app
from orient.assistant.store.audit import verify
from orient.assistant.store.db import open_engine
from orient.assistant.store.tables import DelegationRow, TokenRow, UserRow

UNIT = "310783048-cardiology"  # a demo directory unit (CHU de Toulouse, Purpan)
ENGLISH = ("invalid choice", "required", "expected one argument", "unrecognized arguments",
           "usage:")


class Place:
    """A database file and an in-process hub on it."""

    def __init__(self, folder: Path) -> None:
        self.db = str(folder / "orient.db")
        self.engine = open_engine(self.db)
        self.app = create_app(Hub(self.engine))

    def client(self, token: str) -> HubClient:
        return HubClient.in_process(self.app, token)

    def count(self, table: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table.__table__)).scalar() or 0)


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    p = Place(tmp_path)
    yield p
    p.engine.dispose()


def call(coro: Any) -> Any:
    return asyncio.run(coro)


async def using(client: HubClient, work: Any) -> Any:
    try:
        return await work(client)
    finally:
        await client.close()


def main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# -- users add ------------------------------------------------------------------------------------
def test_users_add_gives_each_role_a_token_that_works(place: Place) -> None:
    rpps = new_rpps(11)
    doctor = add_user(place.db, "doctor", "Dr Émilie Durand", "--rpps", rpps, "--code", "4321")
    secretary = add_user(place.db, "secretary", "Léa Petit")
    receiver = add_user(place.db, "receiver", "Accueil cardiologie", "--unit", UNIT)
    admin = add_user(place.db, "admin", "Admin Orient")
    assert len({doctor, secretary, receiver, admin}) == 4

    async def who(token: str) -> Any:
        return await using(place.client(token), lambda c: c.me())

    me = {role: call(who(token)) for role, token in
          (("doctor", doctor), ("secretary", secretary), ("receiver", receiver), ("admin", admin))}
    assert me["doctor"]["role"] == "doctor" and me["doctor"]["rpps"] == rpps
    assert me["doctor"]["name"] == "Dr Émilie Durand"
    assert me["secretary"]["role"] == "secretary" and me["secretary"]["rpps"] is None
    assert me["receiver"]["role"] == "receiver" and me["receiver"]["unit_ids"] == [UNIT]
    assert me["admin"]["role"] == "admin"

    # each token does what its role may do, and no more
    async def rights() -> None:
        assert await using(place.client(receiver), lambda c: c.inbox()) == []
        assert await using(place.client(secretary), lambda c: c.dossiers()) == []  # no delegation yet
        step = await using(place.client(doctor), lambda c: c.create_dossier())
        assert step["status"] and step["question"]["field"]
        with pytest.raises(HubError) as refused:
            await using(place.client(receiver), lambda c: c.create_dossier())
        assert refused.value.status == 403 and "réservée" in refused.value.detail
        made = await using(place.client(admin), lambda c: c.call(
            "POST", "/users", json={"role": "admin", "name": "Second admin"}))
        assert made["token"].startswith("orient_")

    call(rights())

    # the token is shown once and only its hash is kept
    with place.engine.connect() as conn:
        hashes = {r.token_hash for r in conn.execute(select(TokenRow.__table__))}  # type: ignore[attr-defined]
        stored = " ".join(str(v) for row in conn.execute(select(TokenRow.__table__))  # type: ignore[attr-defined]
                          for v in row)
    for token in (doctor, secretary, receiver, admin):
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        assert token not in stored
    with Session(place.engine) as session:
        assert verify(session).ok


def test_a_doctor_made_on_the_command_line_signs_with_the_code_given(place: Place) -> None:
    doctor = add_user(place.db, "doctor", "Dr Jean Roux", "--rpps", new_rpps(12), "--code", "1234")

    async def go() -> dict[str, Any]:
        return (await using(place.client(doctor),
                            lambda c: replay.replay_with_client(scenario(choose=[1]), c)))[1]

    report = call(go())
    assert report["status"] == "signed" and report["errors"] == []


REFUSED_USERS = {
    "doctor_bad_luhn": (["--role", "doctor", "--name", "Dr A", "--rpps", "10003456787", "--code", "1234"],
                        "RPPS « 10003456787 » invalide"),
    "doctor_ten_digits": (["--role", "doctor", "--name", "Dr A", "--rpps", "1000345678", "--code", "1234"],
                          "invalide"),
    "doctor_letters": (["--role", "doctor", "--name", "Dr A", "--rpps", "1000345678A", "--code", "1234"],
                       "invalide"),
    "doctor_no_rpps": (["--role", "doctor", "--name", "Dr A", "--code", "1234"], "RPPS"),
    "doctor_no_code": (["--role", "doctor", "--name", "Dr A", "--rpps", new_rpps(13)], "code"),
    "doctor_short_code": (["--role", "doctor", "--name", "Dr A", "--rpps", new_rpps(13), "--code", "12"],
                          "4 caractères"),
    "doctor_twice": (["--role", "doctor", "--name", "Dr B", "--rpps", new_rpps(14), "--code", "1234"],
                     "existe déjà"),
    "secretary_with_rpps": (["--role", "secretary", "--name", "S", "--rpps", new_rpps(15)],
                            "Seul un médecin"),
    "receiver_without_unit": (["--role", "receiver", "--name", "R"], "au moins une unité"),
    "receiver_unknown_unit": (["--role", "receiver", "--name", "R", "--unit", "999999999-nope"],
                              "Unité(s) inconnue(s) : 999999999-nope"),
    "receiver_one_unknown_unit": (["--role", "receiver", "--name", "R", "--unit", UNIT, "--unit", "x"],
                                  "Unité(s) inconnue(s) : x"),
    "admin_with_unit": (["--role", "admin", "--name", "A", "--unit", UNIT], "Seul un utilisateur"),
    "blank_name": (["--role", "admin", "--name", "   "], "nom du compte est vide"),
}


@pytest.mark.parametrize("case", list(REFUSED_USERS))
def test_users_add_refuses_bad_input_with_exit_2_in_french(
        place: Place, capsys: pytest.CaptureFixture[str], case: str) -> None:
    argv, expected = REFUSED_USERS[case]
    if case == "doctor_twice":
        assert main(["users", "add", *argv, "--db", place.db], capsys)[0] == 0
    users, tokens = place.count(UserRow), place.count(TokenRow)
    code, out, err = main(["users", "add", *argv, "--db", place.db], capsys)
    assert code == 2, (out, err)
    assert err.startswith("orient users add : "), err
    assert expected in err, err
    assert "orient_" not in out + err  # no token
    assert (place.count(UserRow), place.count(TokenRow)) == (users, tokens)  # nothing created


def test_users_add_on_an_unusable_database_exits_2_in_french(tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_text("pas une base\n" * 100)
    result = orient("users", "add", "--role", "admin", "--name", "A", "--db", str(tmp_path / "garbage.db"))
    assert result.returncode == 2, result
    assert "Base de données inutilisable" in result.stderr and "orient_" not in result.stdout


ARGPARSE_CASES = {
    "unknown_role": ["users", "add", "--role", "nurse", "--name", "N"],
    "no_name": ["users", "add", "--role", "admin"],
    "no_role": ["users", "add", "--name", "N"],
    "delegate_no_until": ["delegate", "--doctor", "10003456786", "--secretary", "S"],
    "unknown_option": ["users", "add", "--role", "admin", "--name", "N", "--age", "3"],
}

# What the French message says for each case (argparse's own phrases, translated by the CLI).
ARGPARSE_FRENCH = {
    "unknown_role": ("choix invalide", "« nurse »", "possibles :"),
    "no_name": ("arguments obligatoires manquants", "--name"),
    "no_role": ("arguments obligatoires manquants", "--role"),
    "delegate_no_until": ("arguments obligatoires manquants", "--until"),
    "unknown_option": ("arguments inconnus", "--age 3"),
}


@pytest.mark.parametrize("case", list(ARGPARSE_CASES))
def test_argument_errors_are_french(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    code, _, err = main([*ARGPARSE_CASES[case], "--db", str(tmp_path / "x.db")], capsys)
    assert code == 2
    assert not any(word in err for word in ENGLISH), err
    assert "usage : orient" in err and " : erreur : " in err, err  # "orient users add : erreur : ..."
    assert all(phrase in err for phrase in ARGPARSE_FRENCH[case]), err


def test_argument_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ARGPARSE_CASES.values():
        code, out, err = main([*argv, "--db", str(tmp_path / "x.db")], capsys)
        assert code == 2 and " : erreur : " in err and "orient_" not in out


# -- delegate -------------------------------------------------------------------------------------
class Office:
    """A doctor with a signed dossier, made on the command line and through the hub."""

    def __init__(self, place: Place, n: int) -> None:
        self.rpps = new_rpps(20 + n)
        self.token = add_user(place.db, "doctor", f"Dr Office {n}", "--rpps", self.rpps, "--code", "1234")

        async def go() -> str:
            return (await using(place.client(self.token),
                                lambda c: replay.replay_with_client(scenario(choose=[1]), c)))[0]

        self.dossier_id = call(go())


def delegation_line(result: Any) -> re.Match[str]:
    assert result.returncode == 0, result.stderr
    found = re.fullmatch(r"Délégation (\S+) : ([a-z_, ]+) jusqu'au (\d\d/\d\d/\d{4})\.\n", result.stdout)
    assert found, result.stdout
    return found


def test_delegate_lets_the_secretary_reach_the_doctors_dossiers(place: Place) -> None:
    office, other = Office(place, 1), Office(place, 2)
    full = add_user(place.db, "secretary", "Nina Full")
    admin_only = add_user(place.db, "secretary", "Omar Admin")
    until = date.today() + timedelta(days=30)

    done = delegation_line(orient("delegate", "--doctor", office.rpps, "--secretary", "Nina Full",
                                  "--scopes", "read_medical", "send",
                                  "--until", until.strftime("%d/%m/%Y"), "--db", place.db))
    assert done.group(2) == "fill_admin, read_medical, send"
    assert done.group(3) == until.strftime("%d/%m/%Y")
    done = delegation_line(orient("delegate", "--doctor", office.rpps, "--secretary", "Omar Admin",
                                  "--until", until.isoformat(), "--db", place.db))
    assert done.group(2) == "fill_admin"

    async def secretary_side() -> None:
        nina, omar = place.client(full), place.client(admin_only)
        try:
            for who in (nina, omar):
                listed = [d["id"] for d in await who.dossiers()]
                assert listed == [office.dossier_id]  # the doctor's, not the other doctor's
                with pytest.raises(HubError) as hidden:
                    await who.dossier(other.dossier_id)
                assert hidden.value.status == 404
            seen = await nina.dossier(office.dossier_id)
            assert seen["medical_hidden"] is False and "medical.reason" in seen["answers"]
            masked = await omar.dossier(office.dossier_id)
            assert masked["medical_hidden"] is True
            assert not [k for k in masked["answers"] if k.startswith("medical.")]
            with pytest.raises(HubError) as no_send:
                await omar.send(office.dossier_id)
            assert no_send.value.status == 403 and "n'inclut pas l'envoi" in no_send.value.detail
            sent = await nina.send(office.dossier_id)
            assert len(sent["referrals"]) == 1 and sent["repeated"] is False
            assert len(await nina.referrals()) == 1  # the doctor's dashboard, for her
        finally:
            await nina.close()
            await omar.close()

    call(secretary_side())
    with place.engine.connect() as conn:
        rows = conn.execute(select(DelegationRow.__table__)).all()  # type: ignore[attr-defined]
    assert len(rows) == 2 and {r.doctor_rpps for r in rows} == {office.rpps}
    with Session(place.engine) as session:
        assert verify(session).ok


def test_delegate_by_secretary_id(place: Place, capsys: pytest.CaptureFixture[str]) -> None:
    add_user(place.db, "doctor", "Dr Id", "--rpps", new_rpps(30), "--code", "1234")
    with Session(place.engine) as session:
        session.add(UserRow(id="sec-42", role="secretary", name="Ida", created_at=datetime.now(UTC)))
        session.commit()
    code, out, err = main(["delegate", "--doctor", new_rpps(30), "--secretary", "sec-42",
                           "--scopes", "send", "--until", (date.today() + timedelta(days=1)).isoformat(),
                           "--db", place.db], capsys)
    assert code == 0, err
    assert "fill_admin, send" in out


def test_a_wider_delegation_takes_effect(place: Place) -> None:
    office = Office(place, 3)
    token = add_user(place.db, "secretary", "Paul Later")
    until = (date.today() + timedelta(days=10)).isoformat()
    delegation_line(orient("delegate", "--doctor", office.rpps, "--secretary", "Paul Later",
                           "--until", until, "--db", place.db))
    delegation_line(orient("delegate", "--doctor", office.rpps, "--secretary", "Paul Later",
                           "--scopes", "read_medical", "--until", until, "--db", place.db))

    async def go() -> Any:
        return await using(place.client(token), lambda c: c.dossier(office.dossier_id))

    assert call(go())["medical_hidden"] is False


REFUSED_DELEGATIONS = {
    "unknown_scope": (["--scopes", "read_medical", "write_all"], "Portée(s) inconnue(s) : write_all"),
    "past": (["--until", "01/01/2020"], "dans le futur"),
    "unreadable": (["--until", "31/02/2031"], "--until « 31/02/2031 »"),
    "not_a_date": (["--until", "bientôt"], "--until « bientôt »"),
    "unknown_doctor": (["--doctor", "10003456786"], "Aucun médecin avec le RPPS 10003456786"),
    "unknown_secretary": (["--secretary", "Personne"], "Secrétaire inconnue"),
    "doctor_as_secretary": (["--secretary", "Dr Deleg"], "Secrétaire inconnue"),
    "ambiguous_secretary": (["--secretary", "Twin"], "Plusieurs comptes"),
}


@pytest.fixture
def deleg_place(place: Place) -> Place:
    add_user(place.db, "doctor", "Dr Deleg", "--rpps", new_rpps(40), "--code", "1234")
    for name in ("Twin", "Twin", "Solo"):
        with Session(place.engine) as session:
            from uuid import uuid4

            session.add(UserRow(id=str(uuid4()), role="secretary", name=name,
                                created_at=datetime.now(UTC)))
            session.commit()
    return place


@pytest.mark.parametrize("case", list(REFUSED_DELEGATIONS))
def test_delegate_refuses_bad_input_with_exit_2_in_french(
        deleg_place: Place, capsys: pytest.CaptureFixture[str], case: str) -> None:
    changes, expected = REFUSED_DELEGATIONS[case]
    args = {"--doctor": [new_rpps(40)], "--secretary": ["Solo"], "--scopes": ["send"],
            "--until": [(date.today() + timedelta(days=5)).strftime("%d/%m/%Y")]}
    key = changes[0]
    args[key] = changes[1:]
    argv = ["delegate", *[x for k, v in args.items() for x in (k, *v)], "--db", deleg_place.db]
    before = deleg_place.count(DelegationRow)
    code, out, err = main(argv, capsys)
    assert code == 2, (out, err)
    assert "Délégation" not in out
    assert err.startswith("orient delegate : "), err
    assert expected in err, err
    assert deleg_place.count(DelegationRow) == before


def test_delegate_on_an_unusable_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(["delegate", "--doctor", "10003456786", "--secretary", "S", "--until",
                         "2099-01-01", "--db", "nosuchdb://x"], capsys)
    assert code == 2 and err.startswith("orient delegate : Base de données inutilisable")
