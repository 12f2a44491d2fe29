"""The `orient` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from orient.assistant.cli_notify import NOTIFY_HELP

if TYPE_CHECKING:
    from orient.assistant.directory.matching import Criteria

EXIT_USAGE = 2


class UsageError(ValueError):
    """A bad command-line argument; the message is French."""


PSC_HELP = """\
Pro Santé Connect (e-CPS / CPS), facultatif ; sans lui, jetons de `orient users add` :
  ORIENT_PSC_ISSUER            émetteur, ex. https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet
  ORIENT_PSC_DISCOVERY_URL     sinon <émetteur>/.well-known/wallet-openid-configuration
  ORIENT_PSC_CLIENT_ID         identifiant du client (enregistré auprès de l'ANS)
  ORIENT_PSC_CLIENT_SECRET_FILE  fichier du secret (ou ORIENT_PSC_CLIENT_SECRET ; jamais en argument)
  ORIENT_PSC_REDIRECT_URL      https://<hub>/auth/psc/callback
  ORIENT_PSC_ALLOWED_PROFESSIONS  codes profession admis sans inscription (ex. 10), avec
  ORIENT_PSC_ADMIT_UNKNOWN=true ; ORIENT_PSC_SESSION_HOURS (12)
  ORIENT_PSC_SIGN_WITH_PSC=true  le médecin signe par une nouvelle authentification PSC, pas par code
  ORIENT_PSC_CONFIG            fichier de ces variables (NOM=valeur), l'environnement prime
Voir docs/psc.md.
"""


def build_parser() -> argparse.ArgumentParser:
    from orient.assistant.french import FrenchParser, FrenchRawDescriptionHelpFormatter
    from orient.assistant.token_source import EPILOG, TOKEN_FILE_HELP, TOKEN_HELP

    parser = FrenchParser(prog="orient", description="Orient : demandes d'hospitalisation non programmée (HNP).",
                          epilog=EPILOG)
    parser.add_argument("--hub", help="adresse d'un hub distant (par défaut : hub intégré)")
    parser.add_argument("--token", metavar="JETON", help=TOKEN_HELP)
    parser.add_argument("--token-file", metavar="FICHIER", help=TOKEN_FILE_HELP)
    parser.add_argument("--db", dest="main_db", help="base de données du hub intégré")
    sub = parser.add_subparsers(dest="command")

    replay = sub.add_parser("replay", help="rejouer une conversation écrite dans un fichier JSON",
                            epilog=EPILOG)
    replay.add_argument("scenario", help="fichier de scénario (voir spec/replay.md)")
    replay.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier) ; jetable par défaut")
    replay.add_argument("--dossier", help="poursuivre ce dossier au lieu d'en créer un")
    replay.add_argument("--hub", help="adresse d'un hub distant (par défaut : hub intégré)")
    replay.add_argument("--token", metavar="JETON", help=TOKEN_HELP)
    replay.add_argument("--token-file", metavar="FICHIER", help=TOKEN_FILE_HELP)

    new = sub.add_parser("new", help="nouveau dossier, depuis un export du logiciel de cabinet ou une lettre")
    new.add_argument("--from", dest="source", required=True,
                     help="Bundle FHIR R4 exporté du logiciel de cabinet (.json), ou lettre (.txt)")
    new.add_argument("--as", dest="role", choices=["doctor", "secretary"], default="doctor",
                     help="utilisateur de démonstration du hub intégré (doctor par défaut)")

    serve = sub.add_parser(
        "serve", help="lancer le hub HTTP (uvicorn)", formatter_class=FrenchRawDescriptionHelpFormatter,
        epilog=PSC_HELP + "\n" + NOTIFY_HELP)
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1 par défaut)")
    serve.add_argument("--port", default="8000", help="port (8000 par défaut)")
    serve.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    serve.add_argument("--workers", default="1", help="processus du hub (1 par défaut)")
    serve.add_argument("--keys", help="dossier des clés d'audit de cette base (ou variable ORIENT_KEYS ; "
                       "par défaut à côté d'un fichier SQLite)")

    dev = sub.add_parser("psc-dev-provider",
                         help="fournisseur OpenID Connect local pour essayer Pro Santé Connect (développement)")
    dev.add_argument("--port", default="9400", help="port (9400 par défaut)")

    kiosk = sub.add_parser("kiosk", help="démonstration dans un navigateur (textual-serve)")
    kiosk.add_argument("--port", default="8080", help="port sur 127.0.0.1 (8080 par défaut)")

    users = sub.add_parser("users", help="comptes")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="créer un compte ; son jeton est affiché une seule fois")
    add.add_argument("--role", required=True, choices=["doctor", "secretary", "receiver", "admin"],
                     help="rôle du compte : doctor (médecin), secretary (secrétaire), receiver "
                          "(unité receveuse) ou admin")
    add.add_argument("--name", required=True, help="nom affiché")
    add.add_argument("--rpps", help="RPPS du médecin (11 chiffres)")
    add.add_argument("--code", help="code personnel de signature du médecin")
    add.add_argument("--unit", action="append", default=[], help="unité d'un utilisateur receveur")
    add.add_argument("--psc-id", help="identifiant national Pro Santé Connect (SubjectNameID)")
    add.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")

    delegate = sub.add_parser("delegate", help="déléguer à une secrétaire")
    delegate.add_argument("--doctor", required=True, help="RPPS du médecin")
    delegate.add_argument("--secretary", required=True, help="nom (ou identifiant) de la secrétaire")
    delegate.add_argument("--scopes", nargs="*", default=[], help="read_medical, send (fill_admin toujours)")
    delegate.add_argument("--until", required=True, help="fin de la délégation (jj/mm/aaaa ou aaaa-mm-jj)")
    delegate.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")

    directory = sub.add_parser("directory", help="répertoire des établissements et des unités")
    dir_sub = directory.add_subparsers(dest="directory_command", required=True)
    search = dir_sub.add_parser("search", help="unités proposées pour des critères")
    why = dir_sub.add_parser("why", help="pourquoi une unité n'est pas proposée")
    why.add_argument("unit_id", help="identifiant de l'unité")
    for p in (search, why):
        p.add_argument("--specialty", required=True, help="code de spécialité (ex. cardiology)")
        p.add_argument("--specialty-alt", help="autre spécialité acceptable, classée après la première "
                       "(ex. pulmonology)")
        p.add_argument("--commune", required=True, help="commune du patient (nom, code postal ou INSEE)")
        p.add_argument("--age", required=True, help="âge du patient en années")
        p.add_argument("--needs", nargs="*", default=[], help="besoins : oxygen, bariatric_bed...")
        p.add_argument("--isolation", help="portage : none_known, mdro, xdro, unknown")
        p.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    search.add_argument("--limit", default="20", help="nombre d'unités (20 par défaut)")
    search.add_argument("--json", action="store_true", help="liste JSON, comme « proposals » du replay")
    imp = dir_sub.add_parser("import-ror", help="importer un export FHIR du ROR")
    imp.add_argument("file", help="Bundle FHIR (JSON) de HealthcareService, Location, Organization")
    imp.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")

    from orient.assistant.exporting import command as export_command

    export_command.add_command(sub)

    audit = sub.add_parser("audit", help="journal d'audit")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="vérifier la chaîne d'empreintes du journal, ses points "
                                  "de contrôle et les réponses des dossiers signés")
    verify.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    from orient.assistant import cli_notify, cli_security, cli_stats

    cli_security.add_commands(users_sub, audit_sub)
    cli_stats.add_command(sub)
    cli_notify.add_commands(sub)
    return parser


def _hub_token(args: argparse.Namespace, prog: str, psc: bool = False) -> str | None:
    """The token for --hub (orient.assistant.token_source), or None after a French message (none
    when `psc` and the hub signs people in with Pro Santé Connect: the TUI does it)."""
    from orient.assistant.token_source import ENV_VARIABLE, TokenSourceError, find_token

    try:
        found = find_token(args.token, args.token_file)
    except TokenSourceError as exc:
        sys.stderr.write(f"{prog} : {exc}\n")
        return None
    if found.warning:
        sys.stderr.write(f"{prog} : {found.warning}\n")
    if not found.token:
        offers = _hub_has_psc(args.hub) if psc else False
        if offers:
            return None
        if offers is None:
            sys.stderr.write(f"{prog} : le hub {args.hub} ne répond pas : vérifiez qu'il est démarré "
                             "et son adresse (sans jeton, la connexion se fait par Pro Santé Connect "
                             "quand le hub la propose).\n")
            return None
        sys.stderr.write(f"{prog} : --hub demande un jeton : variable d'environnement {ENV_VARIABLE}, "
                         "--token-file FICHIER (droits 600) ou --token JETON.\n")
        return None
    return found.token


def cmd_replay(args: argparse.Namespace) -> int:
    import asyncio

    from orient.assistant import replay
    from orient.assistant.client import HubClient, HubError, HubUnavailable
    from orient.assistant.service import DossierService
    from orient.assistant.store.db import DatabaseError, close_engine, open_engine

    try:
        scenario = replay.load_scenario(args.scenario)
    except replay.ScenarioError as exc:
        sys.stderr.write(f"orient replay : scénario inutilisable : {exc}\n")
        return EXIT_USAGE
    if scenario.imported is not None and args.dossier:
        sys.stderr.write("orient replay : scénario inutilisable : « import » crée un nouveau dossier ; "
                         "il ne se combine pas avec --dossier.\n")
        return EXIT_USAGE
    if args.hub:
        token = _hub_token(args, "orient replay")
        if token is None:
            return EXIT_USAGE

        async def remote() -> tuple[str, dict[str, object]]:
            client = HubClient(base_url=args.hub, token=token)
            try:
                me = await client.me()
                if me["role"] != scenario.role.value:
                    raise HubError(400, f"le jeton est celui d'un compte « {me['role']} », le scénario "
                                        f"demande « {scenario.role.value} ».")
                return await replay.replay_with_client(scenario, client, args.dossier)
            finally:
                await client.close()

        try:
            report_id, report = asyncio.run(remote())
        except (HubError, HubUnavailable) as exc:
            sys.stderr.write(f"orient replay : {exc}\n")
            return EXIT_USAGE
    else:
        with tempfile.TemporaryDirectory(prefix="orient-replay-") as tmp:
            db = args.db or str(Path(tmp) / "replay.db")
            try:
                engine = open_engine(db)
            except DatabaseError as exc:
                sys.stderr.write(f"orient replay : {exc}\n")
                return EXIT_USAGE
            try:
                report_id, report = replay.run_dossier(scenario, DossierService(engine), args.dossier)
            except HubError as exc:
                sys.stderr.write(f"orient replay : {exc}\n")
                return EXIT_USAGE
            finally:
                close_engine(engine)
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    if args.db or args.hub:
        sys.stderr.write(f"orient replay : dossier {report_id} (à poursuivre avec --dossier)\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from orient.assistant.hub.server import DB_VARIABLE
    from orient.assistant.store.db import DatabaseError, open_engine, to_url

    if not args.port.isdigit() or not 1 <= int(args.port) <= 65535:
        sys.stderr.write(f"orient serve : --port « {args.port} » : un port entre 1 et 65535 est attendu.\n")
        return EXIT_USAGE
    if not args.workers.isdigit() or not 1 <= int(args.workers) <= 64:
        sys.stderr.write(f"orient serve : --workers « {args.workers} » : un nombre entre 1 et 64 est attendu.\n")
        return EXIT_USAGE
    if args.keys:
        from orient.assistant.store.keys import KEYS_VARIABLE

        os.environ[KEYS_VARIABLE] = str(Path(args.keys).expanduser().resolve())  # the workers' too
    from orient.assistant.notify.settings import NotifySettingsError, load_settings

    try:
        load_settings()  # e-mail notifications: a bad setting stops here, with its name
    except NotifySettingsError as exc:
        sys.stderr.write(f"orient serve : {exc}\n")
        return EXIT_USAGE
    try:
        open_engine(args.db).dispose()  # creates or upgrades the schema once, before the workers
    except DatabaseError as exc:
        sys.stderr.write(f"orient serve : {exc}\n")
        return EXIT_USAGE
    import socket

    with socket.socket() as probe:
        # as uvicorn binds (SO_REUSEADDR): a port whose last hub was killed keeps connections in
        # TIME-WAIT for a minute and must be reusable at once; one another program listens on
        # is still refused
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, int(args.port)))
        except OSError as exc:
            sys.stderr.write(f"orient serve : impossible d'écouter sur {args.host}:{args.port} "
                             f"(port déjà utilisé ou adresse indisponible : {exc.strerror}).\n")
            return EXIT_USAGE
    os.environ[DB_VARIABLE] = to_url(args.db)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run("orient.assistant.hub.server:app_from_env", factory=True, host=args.host,
                port=int(args.port), workers=int(args.workers), access_log=False, log_level="info")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.accounts_admin import AccountError, add_user
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        engine = open_engine(args.db)
        with Session(engine) as session:
            user_id, token = add_user(session, role=args.role, name=args.name, rpps=args.rpps,
                                      code=args.code, unit_ids=args.unit, psc_id=args.psc_id)
    except (AccountError, DatabaseError) as exc:
        sys.stderr.write(f"orient users add : {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"Compte créé : {user_id} ({args.role}).\n"
                     f"Jeton d'accès (affiché une seule fois, à conserver) : {token}\n"
                     "Ce jeton est remis hors ligne : transmettez-le à son titulaire seul.\n")
    return 0


def cmd_delegate(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.accounts_admin import AccountError, delegate
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        engine = open_engine(args.db)
        with Session(engine) as session:
            delegation_id, scopes, until = delegate(session, doctor_rpps=args.doctor,
                                                    secretary=args.secretary, scopes=args.scopes,
                                                    until_text=args.until, by="cli")
    except (AccountError, DatabaseError) as exc:
        sys.stderr.write(f"orient delegate : {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"Délégation {delegation_id} : {', '.join(scopes)} jusqu'au {until:%d/%m/%Y}.\n")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        engine = open_engine(args.db, readonly=True)
    except DatabaseError as exc:
        sys.stderr.write(f"orient audit verify : {exc}\n")
        return EXIT_USAGE
    from sqlalchemy import inspect
    from sqlmodel import Session

    from orient.assistant.store.audit import Verification, verify

    missing = {"audit_entry", "audit_head"} - set(inspect(engine).get_table_names())
    if missing:
        result = Verification(False, 0, f"table(s) du journal absente(s) : {', '.join(sorted(missing))}.")
    else:
        with Session(engine) as session:
            result = verify(session)
    engine.dispose()
    if result.ok:
        sys.stdout.write("\n".join([result.message, *result.notes]) + "\n")
        return 0
    sys.stdout.write(f"Journal d'audit altéré : {result.message}\n")
    return 1


def criteria_from_args(args: argparse.Namespace) -> Criteria:
    from orient.assistant.directory.criteria import criteria_from_text

    return criteria_from_text(args.specialty, args.commune, args.age, args.needs, args.isolation,
                              args.specialty_alt)


def _directory_index(db: str | None):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from orient.assistant.store.db import open_engine
    from orient.assistant.store.directory import load_index

    engine = open_engine(db)
    with Session(engine) as session:
        index = load_index(session)
    engine.dispose()
    return index


def cmd_directory(args: argparse.Namespace) -> int:
    from orient.assistant.directory.criteria import CriteriaError
    from orient.assistant.store.db import DatabaseError

    name = f"orient directory {args.directory_command}"
    try:
        if args.directory_command == "import-ror":
            return cmd_import_ror(args)
        criteria = criteria_from_args(args)
        limit = 20
        if args.directory_command == "search":
            if not args.limit.isdigit() or int(args.limit) < 1:
                raise UsageError(f"--limit « {args.limit} » : un nombre entier positif est attendu.")
            limit = int(args.limit)
        index = _directory_index(args.db)
    except (CriteriaError, UsageError, DatabaseError) as exc:
        sys.stderr.write(f"{name} : {exc}\n")
        return EXIT_USAGE
    if args.directory_command == "why":
        if args.unit_id not in index.units:
            sys.stderr.write(f"{name} : unité inconnue « {args.unit_id} » (identifiants : voir "
                             "orient directory search).\n")
            return EXIT_USAGE
        sys.stdout.write(index.why_not(args.unit_id, criteria) + "\n")
        return 0
    result = index.search(criteria, limit=limit)
    if args.json:
        sys.stdout.write(json.dumps([p.as_json() for p in result.proposals], ensure_ascii=False, indent=2) + "\n")
        return 0
    from orient.assistant.directory.listing import search_text

    sys.stdout.write(search_text(result))
    return 0


def cmd_import_ror(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.directory import ror_import
    from orient.assistant.store.db import open_engine
    from orient.assistant.store.directory import import_ror

    engine = open_engine(args.db)
    try:
        with Session(engine) as session:
            report = import_ror(session, args.file)
    except ror_import.RorImportError as exc:
        sys.stderr.write(f"orient directory import-ror : fichier refusé, rien n'a été importé : {exc}\n")
        return EXIT_USAGE
    finally:
        engine.dispose()
    sys.stdout.write(report.summary_fr() + "\n")
    return 0


KIOSK_SESSION = "kiosk-session"  # internal: one browser visitor's process, started by `orient kiosk`


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == [KIOSK_SESSION]:  # not a documented command: kept out of the parser
        from orient.assistant.kiosk_world import KioskWorld
        from orient.assistant.tui.kiosk import session

        return session(KioskWorld)
    parser = build_parser()
    args = parser.parse_args(args_list)
    from orient.assistant import cli_security

    done = cli_security.run(args)
    if done is None:
        from orient.assistant import cli_notify

        done = cli_notify.run(args)
    if done is not None:
        return done
    if args.command == "replay":
        return cmd_replay(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "kiosk":
        if not args.port.isdigit() or not 1 <= int(args.port) <= 65535:
            sys.stderr.write(f"orient kiosk : --port « {args.port} » : un port entre 1 et 65535 est attendu.\n")
            return EXIT_USAGE
        from orient.assistant.tui.kiosk import serve

        serve(int(args.port))
        return 0
    if args.command == "users":
        return cmd_users(args)
    if args.command == "psc-dev-provider":
        from orient.assistant.psc_dev_provider import run as run_provider

        return run_provider(int(args.port))
    if args.command == "delegate":
        return cmd_delegate(args)
    if args.command == "directory":
        return cmd_directory(args)
    if args.command == "audit":
        return cmd_audit_verify(args)
    if args.command == "new":
        return cmd_new(args)
    if args.command == "export":
        from orient.assistant.exporting import command as export_command

        return export_command.run(args, _hub_token)
    if args.command == "stats":
        from orient.assistant import cli_stats

        token = _hub_token(args, "orient stats") if args.hub else None
        return cli_stats.run(args, token) if token or not args.hub else EXIT_USAGE
    return cmd_tui(args)


def cmd_new(args: argparse.Namespace) -> int:
    """`orient new --from FILE`: the terminal assistant on a new dossier made from the file (a
    FHIR Bundle, or a letter as .txt), whose values wait for confirmation in the chat. A file
    that would be refused is refused here, before the screen opens: nothing is saved."""
    from orient.assistant.importing import MAX_BUNDLE_BYTES, ImportRefused
    from orient.assistant.importing.fhir import read_bundle
    from orient.assistant.importing.letter import read_letter

    path = Path(args.source).expanduser()
    letter = path.suffix.casefold() in (".txt", ".text")
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise ImportRefused(f"Fichier trop volumineux : au plus {MAX_BUNDLE_BYTES // (1024 * 1024)} Mio. "
                                "Rien n'a été importé.")
        data = path.read_bytes()
        if letter:
            read_letter(data.decode("utf-8-sig"))
        else:
            read_bundle(data)
    except OSError as exc:
        sys.stderr.write(f"orient new : fichier illisible « {args.source} » : {exc.strerror}.\n")
        return EXIT_USAGE
    except UnicodeDecodeError:
        sys.stderr.write(f"orient new : « {args.source} » n'est pas un texte UTF-8. Rien n'a été importé.\n")
        return EXIT_USAGE
    except ImportRefused as exc:
        sys.stderr.write(f"orient new : « {args.source} » : {exc}\n")
        return EXIT_USAGE
    if letter:
        start = ("import", {"letter": data.decode("utf-8-sig")})
    else:
        start = ("import", {"path": str(path)})
    return cmd_tui(args, start=start, role=args.role)


def _hub_has_psc(url: str) -> bool | None:
    """Whether the hub signs people in with Pro Santé Connect (GET /auth/psc); None when it does
    not answer at all."""
    import httpx

    try:
        answer = httpx.get(url.rstrip("/") + "/auth/psc", timeout=10.0)
        return answer.status_code == 200 and answer.json().get("enabled") is True
    except httpx.TransportError:
        return None
    except (httpx.HTTPError, ValueError):
        return False


def _browser_opener():  # type: ignore[no-untyped-def]
    """webbrowser.open when this session has a graphical browser, else None (the URL is shown)."""
    import os
    import webbrowser

    if sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return webbrowser.open
    return None


def cmd_tui(args: argparse.Namespace, start: tuple[str, dict[str, object]] | None = None,
            role: str | None = None) -> int:
    """`orient`: the terminal assistant. Nothing is printed on stdout (textual-serve uses it)."""
    from orient.assistant.tui.app import OrientApp

    if args.hub:
        token = _hub_token(args, "orient", psc=True)
        if token is None and not (args.token is None and args.token_file is None and _hub_has_psc(args.hub)):
            return EXIT_USAGE
        from orient.assistant.client import HubClient
        from orient.assistant.embedded import default_outbox_path

        # without a token: the first screen signs in with Pro Santé Connect (screens/psc_signin.py)
        app = OrientApp(client=HubClient(base_url=args.hub, token=token, outbox=default_outbox_path()),
                        start=start, open_browser=_browser_opener())
    else:
        from orient.assistant.notify import configured

        if configured():  # the embedded hub sends e-mail notifications: bad settings stop here
            from orient.assistant.notify.settings import NotifySettingsError, load_settings

            try:
                load_settings()
            except NotifySettingsError as exc:
                sys.stderr.write(f"orient : {exc}\n")
                return EXIT_USAGE

        def embedded():  # type: ignore[no-untyped-def]
            from orient.assistant.embedded import Embedded, default_outbox_path

            return Embedded(args.main_db, outbox=default_outbox_path())

        app = OrientApp(embedded=embedded, start=start, start_role=role)
    app.run()
    if app.return_code:
        return app.return_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
