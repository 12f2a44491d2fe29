"""Notifications by e-mail (SMTP, MSSanté): who is told what, when, and a durable outbox sent by a
worker of the hub, at most once per event and recipient (docs/notifications.md)."""
