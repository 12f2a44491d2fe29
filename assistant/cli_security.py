"""The security commands of `orient` (docs/security.md): the audit's checkpoints and keys, tokens
delivered out of band, locked signing codes."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

EXIT_USAGE = 2


def add_commands(users_sub: argparse._SubParsersAction, audit_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = users_sub.add_parser("token", help="nouveau jeton d'un compte, remis hors ligne (affiché une seule fois)")
    token.add_argument("user", help="identifiant ou nom du compte")
    token.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    locked = users_sub.add_parser("locked", help="comptes dont le code de signature est bloqué")
    locked.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    unlock = users_sub.add_parser("unlock", help="débloquer le code de signature d'un médecin")
    unlock.add_argument("user", help="identifiant du compte")
    unlock.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")

    checkpoint = audit_sub.add_parser(
        "checkpoint", help="vérifier le journal puis ancrer sa tête par un point de contrôle signé")
    checkpoint.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    rotate = audit_sub.add_parser(
        "rotate-keys", help="nouvelles clés d'audit et de points de contrôle (les anciennes restent)")
    rotate.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")


def run(args: argparse.Namespace) -> int | None:
    """The command, if it is one of these (None otherwise)."""
    if args.command == "users" and args.users_command in ("token", "locked", "unlock"):
        return {"token": cmd_token, "locked": cmd_locked, "unlock": cmd_unlock}[args.users_command](args)
    if args.command == "audit" and args.audit_command in ("checkpoint", "rotate-keys"):
        return cmd_checkpoint(args) if args.audit_command == "checkpoint" else cmd_rotate(args)
    return None


def _engine(db: str | None, name: str):  # type: ignore[no-untyped-def]
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        return open_engine(db, create=False)
    except DatabaseError as exc:
        sys.stderr.write(f"orient {name} : {exc}\n")
        return None


def cmd_token(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.accounts_admin import AccountError, new_token

    engine = _engine(args.db, "users token")
    if engine is None:
        return EXIT_USAGE
    try:
        with Session(engine) as session:
            user_id, token_id, token = new_token(session, args.user)
    except AccountError as exc:
        sys.stderr.write(f"orient users token : {exc}\n")
        return EXIT_USAGE
    finally:
        engine.dispose()
    sys.stdout.write(f"Jeton {token_id} du compte {user_id}, remis hors ligne (affiché une seule fois, "
                     f"à transmettre à son titulaire seul) : {token}\n")
    return 0


def cmd_locked(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.store.code_lock import locked_accounts, wait_text

    engine = _engine(args.db, "users locked")
    if engine is None:
        return EXIT_USAGE
    now = datetime.now(UTC)
    try:
        with Session(engine) as session:
            found = locked_accounts(session, now)
    finally:
        engine.dispose()
    if not found:
        sys.stdout.write("Aucun code de signature bloqué.\n")
        return 0
    for item in found:
        rpps = f", RPPS {item.rpps}" if item.rpps else ""
        sys.stdout.write(f"{item.name} ({item.user_id}{rpps}) : {item.failures} erreurs, bloqué encore "
                         f"{wait_text(item.locked_until - now)}.\n")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.store import audit
    from orient.assistant.store.code_lock import unlock

    engine = _engine(args.db, "users unlock")
    if engine is None:
        return EXIT_USAGE
    now = datetime.now(UTC)
    try:
        with Session(engine) as session:
            done = unlock(session, args.user, now)
            if done:
                audit.append(session, [audit.AuditRecord(event="signing_code_unlocked", actor="cli",
                                                         role="admin", detail=args.user)], at=now)
            session.commit()
    finally:
        engine.dispose()
    if not done:
        sys.stderr.write(f"orient users unlock : le code de « {args.user} » n'est pas bloqué.\n")
        return EXIT_USAGE
    sys.stdout.write(f"Code de signature de {args.user} débloqué.\n")
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    """Verify the chain (against the earlier checkpoints too), then anchor its head: a chain that
    fails is never anchored."""
    from sqlmodel import Session

    from orient.assistant.store import anchor, audit, keys
    from orient.assistant.store.tables import AuditHeadRow

    engine = _engine(args.db, "audit checkpoint")
    if engine is None:
        return EXIT_USAGE
    try:
        with Session(engine) as session:
            result = audit.verify(session)
            head = session.get(AuditHeadRow, 1)
        if not result.ok:
            sys.stdout.write(f"Journal d'audit altéré : {result.message}\nAucun point de contrôle écrit.\n")
            return 1
        assert head is not None
        try:
            written = anchor.write(keys.of(engine), head.seq, head.hash)
        except (OSError, keys.KeysError) as exc:
            sys.stderr.write(f"orient audit checkpoint : {exc}\n")
            return EXIT_USAGE
    finally:
        engine.dispose()
    sys.stdout.write(f"Point de contrôle signé : entrée n° {written.seq} ({written.hash[:16]}…).\n")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from orient.assistant.store import keys

    engine = _engine(args.db, "audit rotate-keys")
    if engine is None:
        return EXIT_USAGE
    ring = keys.of(engine)
    engine.dispose()
    try:
        audit_id, checkpoint_id = ring.rotate()
    except (OSError, keys.KeysError) as exc:
        sys.stderr.write(f"orient audit rotate-keys : {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(f"Nouvelles clés dans « {ring.folder} » : audit {audit_id}, points de contrôle "
                     f"{checkpoint_id}. Les anciennes restent pour vérifier les entrées passées. "
                     "Redémarrez le hub (et copiez le dossier sur chacune de ses machines) pour "
                     "qu'il les utilise.\n")
    return 0
