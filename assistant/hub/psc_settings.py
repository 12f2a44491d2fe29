"""Pro Santé Connect (PSC) settings of the hub: environment variables prefixed `ORIENT_PSC_`, or a
file named by `ORIENT_PSC_CONFIG` (KEY=value lines, the same names). Without an issuer or a
discovery URL, PSC is off and the hub keeps its demo accounts and printed tokens.

The client secret never comes from the command line: `ORIENT_PSC_CLIENT_SECRET` or, better, a file
readable by the hub only, named by `ORIENT_PSC_CLIENT_SECRET_FILE`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_VARIABLE = "ORIENT_PSC_CONFIG"
PSC_DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"


class PscSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORIENT_PSC_", extra="ignore")

    issuer: str = ""  # e.g. https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet
    discovery_url: str = ""  # default: <issuer>/.well-known/wallet-openid-configuration
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    client_secret_file: Path | None = None
    redirect_url: str = ""  # the hub's callback as the browser reaches it: https://.../auth/psc/callback
    scope: str = "openid scope_all"
    acr_values: str = "eidas1"
    # codeProfession values whose unknown professionals get an account at their first sign-in
    # (10 = médecin); empty: only pre-registered accounts sign in
    allowed_professions: str = ""  # comma-separated, e.g. "10" or "10,21"
    admit_unknown: bool = False
    clock_skew_seconds: int = 60
    signin_minutes: int = 10  # how long a started sign-in waits for the browser
    session_hours: float = 12.0  # an Orient token from PSC expires with the session
    # signing: a fresh PSC authentication (prompt=login, max_age=0) instead of the signing code
    sign_with_psc: bool = False

    def professions(self) -> set[str]:
        return {v.strip() for v in self.allowed_professions.split(",") if v.strip()}

    @property
    def enabled(self) -> bool:
        return bool(self.discovery() and self.client_id)

    def discovery(self) -> str:
        if self.discovery_url:
            return self.discovery_url
        return self.issuer.rstrip("/") + PSC_DISCOVERY_PATH if self.issuer else ""

    def secret(self) -> str:
        if self.client_secret_file is not None:
            return self.client_secret_file.read_text(encoding="utf-8").strip()
        return self.client_secret.get_secret_value()


def load_settings() -> PscSettings:
    """The settings from the environment, over those of the file `ORIENT_PSC_CONFIG` names."""
    path = os.environ.get(CONFIG_VARIABLE)
    return PscSettings(_env_file=path) if path else PscSettings()  # type: ignore[call-arg]
