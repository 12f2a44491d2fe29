"""The `orient notify` commands (e-mail notifications, docs/notifications.md): a unit's address and
choices, a person's choices, the outbox (failures first) and a test message."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

EXIT_USAGE = 2

NOTIFY_HELP = """\
Notifications par courriel (SMTP, MSSanté), facultatives ; sans hôte, rien n'est envoyé :
  ORIENT_SMTP_HOST             serveur de messagerie (ex. smtp.hopital.mssante.fr)
  ORIENT_SMTP_PORT             587 (starttls), 465 (tls), 25 par défaut selon la sécurité
  ORIENT_SMTP_SECURITY         starttls (défaut), tls, ou none (essai local : localhost seulement)
  ORIENT_SMTP_USER             identifiant SMTP
  ORIENT_SMTP_PASSWORD_FILE    fichier du mot de passe (ou ORIENT_SMTP_PASSWORD ; jamais en argument)
  ORIENT_SMTP_CA_FILE          certificats d'une autorité privée à accepter
  ORIENT_SMTP_SENDER           adresse d'expédition (obligatoire)
  ORIENT_SMTP_MSSANTE_DOMAINS  domaines qui reçoivent les données du patient (.mssante.fr)
  ORIENT_SMTP_OPEN_HINT        comment ouvrir Orient (ex. https://orient.hopital.fr)
  ORIENT_SMTP_RETRY_SECONDS (30), ORIENT_SMTP_MAX_ATTEMPTS (12), ORIENT_SMTP_POLL_SECONDS (2)
  ORIENT_SMTP_CONFIG           fichier de ces variables (NOM=valeur), l'environnement prime
Voir docs/notifications.md.
"""


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    notify = sub.add_parser("notify", help="notifications par courriel : adresses, choix, envois en échec")
    nsub = notify.add_subparsers(dest="notify_command", required=True)
    unit = nsub.add_parser("unit", help="adresse et choix d'une unité (sans option : les afficher)")
    unit.add_argument("unit_id", help="identifiant de l'unité")
    user = nsub.add_parser("user", help="adresse et choix d'une personne (sans option : les afficher)")
    user.add_argument("user", help="identifiant ou nom du compte")
    for p in (unit, user):
        p.add_argument("--address", help="adresse de notification (vide : supprimée)")
        p.add_argument("--events", help="événements, séparés par des virgules, ou « aucun »")
        p.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    user.add_argument("--copy-secretary", choices=["oui", "non"],
                      help="un médecin : copie aux secrétaires déléguées")
    listing = nsub.add_parser("list", help="notifications (jamais leur texte), les plus récentes d'abord")
    listing.add_argument("--status", choices=["pending", "sending", "sent", "failed"])
    listing.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    again = nsub.add_parser("retry", help="renvoyer une notification en échec")
    again.add_argument("notification_id")
    again.add_argument("--db", help="base de données (URL SQLAlchemy ou fichier)")
    test = nsub.add_parser("test", help="envoyer un message d'essai (sans donnée de patient) avec les réglages")
    test.add_argument("address", help="adresse du destinataire")


def run(args: argparse.Namespace) -> int | None:
    if args.command != "notify":
        return None
    return {"unit": cmd_subject, "user": cmd_subject, "list": cmd_list, "retry": cmd_retry,
            "test": cmd_test}[args.notify_command](args)


def _fail(name: str, message: str) -> int:
    sys.stderr.write(f"orient notify {name} : {message}\n")
    return EXIT_USAGE


def _engine(db: str | None, name: str):  # type: ignore[no-untyped-def]
    from orient.assistant.store.db import DatabaseError, open_engine

    try:
        return open_engine(db)
    except DatabaseError as exc:
        _fail(name, str(exc))
        return None


def cmd_subject(args: argparse.Namespace) -> int:
    from sqlmodel import Session, select

    from orient.assistant.notify import preferences
    from orient.assistant.notify.events import KIND_FR, kinds_for
    from orient.assistant.store import outbox, profiles
    from orient.assistant.store.tables import UnitRow, UserRow

    name = args.notify_command
    engine = _engine(args.db, name)
    if engine is None:
        return EXIT_USAGE
    try:
        with Session(engine) as session:
            fallback = None
            if name == "unit":
                from orient.assistant.store.directory import ensure_directory

                ensure_directory(session)  # a new database: the shipped directory first
                if session.get(UnitRow, args.unit_id) is None:
                    return _fail(name, f"unité inconnue « {args.unit_id} » (voir orient directory search).")
                subject = f"unit:{args.unit_id}"
            else:
                found = session.get(UserRow, args.user) or session.exec(
                    select(UserRow).where(UserRow.name == args.user)).first()
                if found is None or found.role not in ("doctor", "secretary"):
                    return _fail(name, f"compte de médecin ou de secrétaire inconnu « {args.user} ».")
                subject = f"user:{found.id}"
                fallback = profiles.get(session, found.rpps).get(preferences.ADDRESS_FIELD) if found.rpps else None
            copy = getattr(args, "copy_secretary", None)
            if args.address is not None or args.events is not None or copy is not None:
                try:
                    preferences.update(session, subject, by="cli", role="admin", now=datetime.now(UTC),
                                       address=args.address, events=args.events,
                                       copy_secretary=None if copy is None else copy == "oui")
                except preferences.PreferenceError as exc:
                    return _fail(name, f"{exc} Rien n'a été enregistré.")
                session.commit()
            row = outbox.subscription(session, subject)
            events = (list(kinds_for(subject)) if row is None or row.events is None
                      else [e for e in row.events.split(",") if e])
            address = (row.address if row else None) or fallback
            shown = address or "aucune (rien n'est envoyé)"
            if address and row is not None and not row.address:
                shown += " (profil MSSanté du médecin)"
            lines = [f"{subject} : adresse {shown}",
                     "événements : " + (", ".join(f"{e} ({KIND_FR[e]})" for e in events) or "aucun")]
            if name == "user":
                lines.append(f"copie aux secrétaires : {'oui' if row is not None and row.copy_secretary else 'non'}")
    finally:
        engine.dispose()
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.notify.compose import local
    from orient.assistant.store import outbox

    engine = _engine(args.db, "list")
    if engine is None:
        return EXIT_USAGE
    try:
        with Session(engine) as session:
            rows = outbox.listing(session, args.status)
            counts = outbox.counts(session)
    finally:
        engine.dispose()
    summary = ", ".join(f"{status} {counts.get(status, 0)}" for status in outbox.STATUSES)
    out = [f"Notifications : {summary}."]
    for r in rows:
        error = f" – {r['last_error']}" if r["last_error"] else ""
        out.append(f"{r['id']}  {r['status']:<7} {r['kind']:<14} {r['recipient']} <{r['address']}> "
                   f"essais {r['attempts']}, créée {local(r['created_at'])}{error}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from orient.assistant.store import audit, outbox

    engine = _engine(args.db, "retry")
    if engine is None:
        return EXIT_USAGE
    try:
        with Session(engine) as session:
            if not outbox.retry(session, args.notification_id, datetime.now(UTC)):
                return _fail("retry", f"aucune notification en échec « {args.notification_id} ».")
            audit.append(session, [audit.AuditRecord(event="notification_retried", actor="cli", role="admin",
                                                     detail=args.notification_id)], at=datetime.now(UTC))
            session.commit()
    finally:
        engine.dispose()
    sys.stdout.write(f"Notification {args.notification_id} renvoyée au prochain passage du hub.\n")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """A message without patient data, sent at once with the settings (the outbox is not used)."""
    import smtplib
    import ssl
    from email.message import EmailMessage

    from orient.assistant.notify.settings import NotifySettingsError, load_settings
    from orient.assistant.notify.worker import Mailer, describe

    try:
        settings = load_settings()
    except NotifySettingsError as exc:
        return _fail("test", str(exc))
    if not settings.enabled:
        return _fail("test", "aucun serveur de messagerie : réglez ORIENT_SMTP_HOST (voir orient serve --help).")
    mailer = Mailer(None, settings)  # type: ignore[arg-type]
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.sender, args.address, "Orient : message d'essai"
    msg.set_content("Bonjour,\n\nCeci est un message d'essai des notifications d'Orient : la messagerie "
                    "est bien réglée.\n")
    try:
        smtp = mailer._connect()
        try:
            smtp.send_message(msg, from_addr=settings.sender, to_addrs=[args.address])
        finally:
            smtp.quit()
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return _fail("test", f"envoi impossible vers {settings.host}:{settings.smtp_port} : {describe(exc)}.")
    kind = "MSSanté (données du patient permises)" if settings.is_mssante(args.address) else \
        "hors MSSanté (jamais de donnée du patient)"
    sys.stdout.write(f"Message d'essai envoyé à {args.address}, adresse {kind}.\n")
    return 0
