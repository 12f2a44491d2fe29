"""Skipping a test whose service is missing, unless CI requires every service."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("ORIENT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"service required by ORIENT_REQUIRE_SERVICES=1 is missing: {reason}")
    pytest.skip(reason)
