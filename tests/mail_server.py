"""A real SMTP server for the notification tests: aiosmtpd in a thread, with STARTTLS on a
self-signed certificate (made here with `cryptography`) and AUTH LOGIN/PLAIN required after it.

`MailServer.start()` listens on 127.0.0.1 (a free port, or the one given: a restarted server keeps
its port); `messages` holds what the server accepted (envelope recipients, parsed message);
`wait_for(n)` waits until n messages arrived. `gate` holds the next DATA until the test releases
it (the hub is then between its claim and the server's answer).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "orient-hub", "mot-de-passe-smtp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key (PEM files in `folder`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class Received:
    rcpt: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """Subject and body, for searching."""
        body = self.message.get_body(("plain",))
        return f"{self.message['Subject']}\n{body.get_content() if body else ''}"


@dataclass
class MailServer:
    folder: Path
    port: int = 0
    tls: bool = True
    refuse: set[str] = field(default_factory=set)  # RCPT answered 550
    messages: list[Received] = field(default_factory=list)
    gate: threading.Event | None = None  # set: DATA waits for `release`
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _controller: Controller | None = None
    cert: Path | None = None

    def start(self) -> MailServer:
        self.port = self.port or free_port()
        kwargs: dict[str, Any] = {}
        if self.tls:
            if self.cert is None:
                self.cert, key = self_signed(self.folder)
            else:
                key = self.folder / "smtp-key.pem"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            kwargs = {"tls_context": context, "require_starttls": True, "auth_required": True,
                      "auth_require_tls": True, "authenticator": _authenticator}
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # -- what arrived ----------------------------------------------------------------------
    def _add(self, received: Received) -> None:
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} message(s) arrived, {count} expected")
            return list(self.messages)

    def to(self, address: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if address in m.rcpt]

    def ids(self) -> list[str]:
        with self._cond:
            return [str(m.message["Message-ID"]) for m in self.messages]


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        gate = self.server.gate
        if gate is not None and not gate.is_set():
            gate.set()  # this message is held; the next ones pass
            self.server.held.set()
            # (aiosmtpd cancels this wait when the client's connection is lost)
            await asyncio.get_running_loop().run_in_executor(None, self.server.release.wait)
            return "451 4.3.0 Essayez plus tard"  # the client is gone by now: nothing accepted
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server._add(Received(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)
