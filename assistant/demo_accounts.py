"""The demo accounts of the embedded set-up (names and codes shown on the first screen). Kept free
of database imports so that the first screen appears without loading them."""

from __future__ import annotations

from dataclasses import dataclass

from orient.models.users import Role


@dataclass(frozen=True)
class DemoAccount:
    user_id: str
    role: Role
    name: str
    rpps: str | None = None
    code: str | None = None
    covers: str = ""  # what the account sees and does, as the first screen says it


# The demo doctor's RPPS passes the Luhn check; its personal code is shown where demo users pick.
DEMO_DOCTOR = DemoAccount("demo-doctor", Role.DOCTOR, "Dr Claire Martin", "10003456786", "1234",
                          covers="ses dossiers : les remplit, les signe, les envoie")
DEMO_SECRETARY = DemoAccount("demo-secretary", Role.SECRETARY, "Sophie Bernard",
                             covers="partie administrative des dossiers du Dr Martin (sans envoi)")
DEMO_RECEIVER = DemoAccount("demo-unit", Role.RECEIVER, "Accueil des admissions, CHU de Toulouse",
                            covers="services des sites Purpan, Rangueil et La Grave")
# The other units answer through an account of their own, picked on the first screen among the
# units that have received a referral (assistant/demo_units.py).
DEMO_OTHER_UNITS = "toute unité qui a reçu une demande, choisie dans une liste"
DEMO_ADMIN = DemoAccount("demo-admin", Role.ADMIN, "Administrateur (démo)")
DEMO_DELEGATION_ID = "demo-delegation"
# The demo unit user answers for the wards of the three Toulouse university hospital sites
# (La Grave, Purpan, Rangueil), where the demo doctor's Toulouse patients are proposed first.
DEMO_UNIT_SITES = ("310783063", "310783048", "310783055")
