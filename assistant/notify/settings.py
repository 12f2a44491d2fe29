"""SMTP settings of the hub: environment variables prefixed `ORIENT_SMTP_`, or a file named by
`ORIENT_SMTP_CONFIG` (KEY=value lines, the same names; the environment wins), as for Pro Santé
Connect (hub/psc_settings.py). Without a host, notifications are off and nothing changes.

The password never comes from the command line: `ORIENT_SMTP_PASSWORD` or, better, a file
readable by the hub only, named by `ORIENT_SMTP_PASSWORD_FILE`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_VARIABLE = "ORIENT_SMTP_CONFIG"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class NotifySettingsError(ValueError):
    """Settings that cannot be used; the message is French and names the setting."""


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORIENT_SMTP_", extra="ignore")

    host: str = ""
    port: int = 0  # 0: 587 with STARTTLS, 465 with TLS, 25 without
    # "none" (no encryption) only for a local try-out: refused unless the host is this machine
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str = ""
    password: SecretStr = SecretStr("")
    password_file: Path | None = None
    ca_file: Path | None = None  # certificates to trust besides the system's (a private CA)
    sender: str = ""  # From: e.g. orient@hopital.mssante.fr
    # domains whose addresses may receive patient data: a name ending in one of them (a leading
    # dot matches sub-domains only, e.g. ".mssante.fr" for any MSSanté operator's domain)
    mssante_domains: str = ".mssante.fr"
    # how a recipient opens Orient: the hub's public address, or a sentence
    open_hint: str = ""
    timeout_seconds: float = 30.0
    retry_seconds: float = 30.0  # first delay after a failure, doubled each time
    retry_max_seconds: float = 3600.0
    max_attempts: int = 12  # then the message is marked failed (visible to the admin)
    poll_seconds: float = 2.0  # how often the worker looks for messages and overdue referrals
    lease_seconds: float = 120.0  # a message being sent by a worker that died is retried after it

    @property
    def enabled(self) -> bool:
        return bool(self.host.strip())

    @property
    def smtp_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def domains(self) -> list[str]:
        return [d.strip().casefold() for d in self.mssante_domains.split(",") if d.strip()]

    def is_mssante(self, address: str) -> bool:
        """Whether `address` is in the MSSanté domain list (patient data may go there)."""
        domain = address.rpartition("@")[2].strip().casefold()
        for d in self.domains():
            if d.startswith("."):
                if domain.endswith(d):
                    return True
            elif domain == d or domain.endswith("." + d):
                return True
        return False

    def secret(self) -> str:
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password.get_secret_value()

    def check(self) -> None:
        """Raise NotifySettingsError (French, naming the variable) when enabled and unusable."""
        if not self.enabled:
            return
        problems = []
        if self.security == "none" and self.host.strip().casefold() not in LOCAL_HOSTS:
            problems.append("ORIENT_SMTP_SECURITY=none (sans chiffrement) n'est permis que vers cette "
                            f"machine (localhost), pas vers « {self.host} » : choisissez starttls ou tls")
        if not 0 <= self.port <= 65535:
            problems.append(f"ORIENT_SMTP_PORT « {self.port} » : un port entre 1 et 65535 est attendu")
        if "@" not in self.sender or self.sender.startswith("@") or self.sender.endswith("@"):
            problems.append("ORIENT_SMTP_SENDER : l'adresse d'expédition (ex. orient@hopital.mssante.fr) "
                            "est obligatoire")
        if self.password_file is not None:
            try:
                self.password_file.read_text(encoding="utf-8")
            except OSError as exc:
                problems.append(f"ORIENT_SMTP_PASSWORD_FILE « {self.password_file} » illisible "
                                f"({exc.strerror})")
        if self.password_file is not None and self.password.get_secret_value():
            problems.append("ORIENT_SMTP_PASSWORD et ORIENT_SMTP_PASSWORD_FILE : n'en donnez qu'un")
        if (self.password_file is not None or self.password.get_secret_value()) and not self.user:
            problems.append("ORIENT_SMTP_USER : un mot de passe est donné sans utilisateur")
        if self.ca_file is not None and not self.ca_file.is_file():
            problems.append(f"ORIENT_SMTP_CA_FILE « {self.ca_file} » introuvable")
        if not self.domains():
            problems.append("ORIENT_SMTP_MSSANTE_DOMAINS est vide : au moins un domaine (ex. .mssante.fr)")
        for name in ("timeout_seconds", "retry_seconds", "retry_max_seconds", "poll_seconds",
                     "lease_seconds"):
            if getattr(self, name) <= 0:
                problems.append(f"ORIENT_SMTP_{name.upper()} : un nombre positif est attendu")
        if self.max_attempts < 1:
            problems.append("ORIENT_SMTP_MAX_ATTEMPTS : au moins 1")
        if problems:
            raise NotifySettingsError("Réglages de messagerie (SMTP) refusés : " + " ; ".join(problems) + ".")


_NAMES_FR = {"security": "starttls, tls ou none", "port": "un nombre entier",
             "max_attempts": "un nombre entier"}


def load_settings() -> SmtpSettings:
    """The settings from the environment, over those of the file `ORIENT_SMTP_CONFIG` names;
    checked (NotifySettingsError with a French message)."""
    path = os.environ.get(CONFIG_VARIABLE)
    if path and not Path(path).is_file():
        raise NotifySettingsError(f"Réglages de messagerie (SMTP) refusés : {CONFIG_VARIABLE} « {path} » "
                                  "introuvable.")
    try:
        settings = SmtpSettings(_env_file=path) if path else SmtpSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        wrong = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "?"
            expected = _NAMES_FR.get(name, "une valeur valide")
            shown = "" if "password" in name else f" « {err.get('input')} »"
            wrong.append(f"ORIENT_SMTP_{name.upper()}{shown} : {expected} attendu")
        raise NotifySettingsError("Réglages de messagerie (SMTP) refusés : " + " ; ".join(wrong) + ".") from None
    settings.check()
    return settings
