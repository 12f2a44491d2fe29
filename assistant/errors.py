"""Errors the hub client raises (kept apart from httpx so the TUI starts without loading it)."""

from __future__ import annotations

from typing import Any


class HubError(RuntimeError):
    """The hub refused a request: `status` and its French `detail`."""

    def __init__(self, status: int, detail: str, body: Any = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body


class HubUnavailable(RuntimeError):
    """The hub could not be reached (or failed): the operation can be retried."""
