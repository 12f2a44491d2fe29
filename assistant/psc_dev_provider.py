"""`orient psc-dev-provider`: a local OpenID Connect provider for trying the Pro Santé Connect
sign-in without PSC (oidc-provider-mock, a test dependency: `pip install oidc-provider-mock`).
Its users carry PSC-shaped claims; the demo doctor (RPPS 10003456786, national identifier
810003456786) is one click away. Development only: it accepts any client id and secret."""

from __future__ import annotations

import sys
import warnings
from typing import Any

from orient.assistant.demo_accounts import DEMO_DOCTOR


def psc_claims(national_id: str, given: str, family: str, profession: str = "10") -> dict[str, Any]:
    """Claims shaped as PSC's userinfo (SubjectNameID, SubjectRefPro.exercices[].activities[])."""
    return {
        "SubjectNameID": national_id, "given_name": given, "family_name": family,
        "SubjectRefPro": {"codeCivilite": "DR", "exercices": [{
            "codeProfession": profession, "codeCategorieProfessionnelle": "C",
            "nomDexercice": family.upper(), "prenomDexercice": given,
            "activities": [{"numeroFinessSite": "310783048", "raisonSocialeSite": "CHU DE TOULOUSE"}],
        }]},
    }


def run(port: int) -> int:
    try:
        with warnings.catch_warnings():  # the mock's own deprecation notices, not the user's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            import werkzeug.serving
            from oidc_provider_mock import User, app
    except ImportError:
        sys.stderr.write("orient psc-dev-provider : installez d'abord oidc-provider-mock "
                         "(pip install oidc-provider-mock, ou pip install '.[test]').\n")
        return 2
    doctor = User(sub="demo-psc-doctor", claims=psc_claims("8" + (DEMO_DOCTOR.rpps or ""), "Claire", "Martin"))
    provider = app(user_claims=[doctor])
    base = f"http://127.0.0.1:{port}"
    sys.stderr.write(
        f"Fournisseur OpenID Connect de développement sur {base} (pas Pro Santé Connect).\n"
        f"Hub : ORIENT_PSC_DISCOVERY_URL={base}/.well-known/openid-configuration "
        "ORIENT_PSC_CLIENT_ID=orient-dev ORIENT_PSC_CLIENT_SECRET=dev "
        "ORIENT_PSC_REDIRECT_URL=http://127.0.0.1:8000/auth/psc/callback orient serve\n")
    werkzeug.serving.run_simple("127.0.0.1", port, provider, threaded=True)
    return 0
