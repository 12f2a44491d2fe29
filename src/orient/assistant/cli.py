"""The `orient` command."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"orient : erreur : {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="orient", description="Orient : demandes d'hospitalisation non programmée (HNP).")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    replay = sub.add_parser("replay", help="rejouer une conversation écrite dans un fichier JSON")
    replay.add_argument("scenario", help="fichier de scénario (voir spec/replay.md)")
    replay.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier) ; jetable par défaut")
    replay.add_argument("--dossier", help="poursuivre ce dossier au lieu d'en créer un")

    audit = sub.add_parser("audit", help="journal d'audit")
    audit_sub = audit.add_subparsers(dest="audit_command", parser_class=_Parser, required=True)
    verify = audit_sub.add_parser("verify", help="vérifier la chaîne d'empreintes du journal")
    verify.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    return parser


def cmd_replay(args: argparse.Namespace) -> int:
    from orient.assistant import replay
    from orient.assistant.service import DossierService
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        scenario = replay.load_scenario(args.scenario)
    except replay.ScenarioError as exc:
        sys.stderr.write(f"orient replay : scénario inutilisable : {exc}\n")
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="orient-replay-") as tmp:
        db = args.db or str(Path(tmp) / "replay.db")
        try:
            engine = open_engine(db)
        except DatabaseError as exc:
            sys.stderr.write(f"orient replay : {exc}\n")
            return EXIT_USAGE
        try:
            service = DossierService(engine)
            try:
                report = replay.run(scenario, service, args.dossier)
            except LookupError as exc:
                sys.stderr.write(f"orient replay : {exc}\n")
                return EXIT_USAGE
        finally:
            engine.dispose()
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
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
        sys.stdout.write(result.message + "\n")
        return 0
    sys.stdout.write(f"Journal d'audit altéré : {result.message}\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "replay":
        return cmd_replay(args)
    if args.command == "audit":
        return cmd_audit_verify(args)
    parser.print_help(sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
