"""`orient stats`: the figures of GET /stats as a French table (or JSON), through the hub client:
a remote hub (`--hub URL` with the caller's token: what that caller may see), or the embedded
hub on `--db` as one of its demo accounts (`--as`, the admin by default: every unit, figures only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

AS_ROLES = ("admin", "doctor", "secretary", "receiver")


def add_command(sub: Any) -> None:
    stats = sub.add_parser("stats", help="statistiques : délais de réponse, acceptation, retards, par unité "
                                         "et par mois")
    stats.add_argument("--unit", metavar="UNITÉ", help="une unité (identifiant) ; sans : toutes")
    stats.add_argument("--since", dest="from_month", metavar="AAAA-MM", help="premier mois d'envoi compris")
    stats.add_argument("--until", dest="to_month", metavar="AAAA-MM", help="dernier mois d'envoi compris")
    stats.add_argument("--as", dest="as_role", choices=AS_ROLES, default="admin",
                       help="hub intégré : le compte de démonstration dont voir les chiffres (admin par défaut)")
    stats.add_argument("--json", action="store_true", help="la réponse du hub en JSON")


def run(args: argparse.Namespace, token: str | None) -> int:
    """Print the figures; 1 with a French message on stderr when the hub refuses or is away."""
    from orient.assistant import stats_text
    from orient.assistant.client import HubClient, HubError, HubUnavailable

    filters = {k: v for k, v in (("unit", args.unit), ("from", args.from_month), ("to", args.to_month)) if v}

    async def fetch() -> Any:
        if args.hub:
            client = HubClient(base_url=args.hub, token=token)
        else:
            from orient.assistant.embedded import Embedded

            embedded = Embedded(args.main_db)
            client = embedded.client(args.as_role, label="orient stats")
        try:
            return await client.stats(**filters)
        finally:
            await client.close()

    try:
        body = asyncio.run(fetch())
    except (HubError, HubUnavailable) as exc:
        detail = exc.detail if isinstance(exc, HubError) else str(exc)
        sys.stderr.write(f"orient stats : {detail}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(stats_text.text_table(body) + "\n")
    return 0
