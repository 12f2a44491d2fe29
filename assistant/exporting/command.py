"""`orient export REFERRAL [-o FILE]`: a sent referral as a FHIR R4 Bundle, written to a file
readable by its owner only (or to stdout with `-o -`), through the hub like every other reader:
the embedded hub as a demo user (`--as`), or a remote hub (`--hub` and a token). The referral is
named by its id or by the start of it (the 8 characters shown in the dashboards), among those the
caller may see."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.exporting.files import export_file_name, write_private

PROG = "orient export"
MIN_PREFIX = 4
_ID = re.compile(r"^[0-9a-fA-F-]+$")


class ExportError(Exception):
    """What went wrong, in French; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_command(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="exporter une demande envoyée en Bundle FHIR R4 (pour le logiciel de l'hôpital)",
        description="Écrit la demande en Bundle FHIR R4 (ServiceRequest, patient FR Core, volet "
                    "médical, unité receveuse) : ce que vous pouvez lire, le matricule INS seulement "
                    "pour une identité qualifiée. Chaque export est tracé dans le journal d'audit.")
    export.add_argument("referral", metavar="DEMANDE",
                        help="identifiant de la demande, ou son début (au moins 4 caractères, par exemple "
                             "les 8 affichés dans le tableau de bord)")
    export.add_argument("-o", "--output", metavar="FICHIER",
                        help="fichier à écrire (lisible par vous seul) ; « - » pour la sortie standard ; "
                             "par défaut demande-<identifiant>.fhir.json dans le dossier courant")
    export.add_argument("--as", dest="role", choices=["doctor", "secretary", "receiver"], default="doctor",
                        help="utilisateur de démonstration du hub intégré : doctor (par défaut), "
                             "secretary ou receiver")
    export.add_argument("--db", help="base de données du hub intégré (URL SQLAlchemy ou fichier)")


async def _visible_ids(client: Any) -> list[str]:
    me = await client.me()
    rows = await (client.inbox() if me.get("role") == "receiver" else client.referrals())
    return [str(r["id"]) for r in rows]


async def resolve(client: Any, given: str) -> str:
    """The full id of the referral the caller named (its id, or a unique start of it)."""
    wanted = given.strip().casefold()
    if not wanted or not _ID.match(wanted):
        raise ExportError(f"« {given} » n'est pas un identifiant de demande (chiffres et lettres a à f, "
                          "tels qu'affichés dans le tableau de bord).", 2)
    if len(wanted) == 36:
        return wanted
    if len(wanted) < MIN_PREFIX:
        raise ExportError(f"« {given} » est trop court : donnez au moins {MIN_PREFIX} caractères de "
                          "l'identifiant de la demande.", 2)
    found = [i for i in await _visible_ids(client) if i.casefold().startswith(wanted)]
    if not found:
        raise ExportError(f"Aucune demande visible ne commence par « {given} ».")
    if len(found) > 1:
        raise ExportError(f"« {given} » désigne plusieurs demandes ({', '.join(i[:12] for i in found[:5])}) : "
                          "donnez plus de caractères.")
    return found[0]


async def fetch(client: Any, given: str) -> tuple[str, bytes]:
    referral_id = await resolve(client, given)
    try:
        return referral_id, bytes(await client.export_fhir(referral_id))
    except HubError as exc:
        raise ExportError(str(exc)) from None


def _target(args: argparse.Namespace) -> Path | None:
    """The file to write (None: the default name, known once the referral is), checked before
    anything is asked of the hub."""
    path = Path(args.output).expanduser() if args.output else None
    if path is not None:
        if path.is_dir():
            raise ExportError(f"« {args.output} » est un dossier : donnez le nom du fichier à écrire.", 2)
        if not path.parent.is_dir():
            raise ExportError(f"Le dossier « {path.parent} » n'existe pas : le fichier ne peut pas y être "
                              "écrit.", 2)
    return path


def run(args: argparse.Namespace, hub_token: Any) -> int:
    """The command; `hub_token` gives the token of a remote hub (cli._hub_token)."""
    from orient.assistant.client import HubClient

    try:
        target = _target(args)
    except ExportError as exc:
        sys.stderr.write(f"{PROG} : {exc}\n")
        return exc.code

    async def remote(token: str) -> tuple[str, bytes]:
        client = HubClient(base_url=args.hub, token=token)
        try:
            return await fetch(client, args.referral)
        finally:
            await client.close()

    try:
        if args.hub:
            token = hub_token(args, PROG)
            if token is None:
                return 2
            referral_id, data = asyncio.run(remote(token))
        else:
            referral_id, data = _embedded(args)
    except ExportError as exc:
        sys.stderr.write(f"{PROG} : {exc}\n")
        return exc.code
    except HubUnavailable as exc:
        sys.stderr.write(f"{PROG} : {exc}\n")
        return 1
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    path = target or Path(export_file_name(referral_id))
    try:
        write_private(path, data)
    except OSError as exc:
        sys.stderr.write(f"{PROG} : impossible d'écrire « {path} » : {exc.strerror}.\n")
        return 2
    sys.stderr.write(f"{PROG} : demande {referral_id[:8]} exportée dans {path} (Bundle FHIR R4, "
                     "lisible par vous seul).\n")
    return 0


def _embedded(args: argparse.Namespace) -> tuple[str, bytes]:
    from orient.assistant.embedded import Embedded
    from orient.assistant.store.db import DatabaseError

    try:
        embedded = Embedded(args.db or args.main_db)
    except DatabaseError as exc:
        raise ExportError(str(exc), 2) from None

    async def go() -> tuple[str, bytes]:
        client = embedded.client(args.role, label="export")
        try:
            return await fetch(client, args.referral)
        finally:
            await client.close()

    try:
        return asyncio.run(go())
    finally:
        embedded.close()
