"""Notifications by e-mail (SMTP, MSSanté): who is told what, when, and a durable outbox sent by a
worker of the hub, at most once per event and recipient (docs/notifications.md)."""

import os


def configured() -> bool:
    """Whether e-mail settings are given at all (cheap: the settings module is loaded only then,
    so that the assistant's first screen does not wait for it)."""
    return bool(os.environ.get("ORIENT_SMTP_HOST") or os.environ.get("ORIENT_SMTP_CONFIG"))
