"""Where an exported referral is written: a file readable by its owner only (it holds patient
data), named after the referral."""

from __future__ import annotations

import os
from pathlib import Path


def export_file_name(referral_id: str) -> str:
    """``demande-<8 first characters of the id>.fhir.json``."""
    return f"demande-{referral_id[:8]}.fhir.json"


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable and writable by its owner only (an existing file too)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
    finally:
        os.close(fd)
