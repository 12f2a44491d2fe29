"""Values from outside the conversation: a FHIR R4 Bundle exported by the practice software
(`fhir`), a pasted letter (`letter`). Each value is proposed, read through its field's rule and
confirmed before it counts; the audit keeps where it came from and the document's SHA-256."""

from __future__ import annotations

from importlib import resources

from orient.assistant.importing.common import (
    MAX_BUNDLE_BYTES,
    MAX_LETTER_CHARS,
    Found,
    ImportRefused,
    ImportResult,
    origin_of,
)

EXAMPLE_BUNDLE = "patiente_pneumopathie.json"


def example_bundle() -> bytes:
    """The synthetic example Bundle shipped with the package (test INS, fictitious patient)."""
    return resources.files("orient.assistant.importing.examples").joinpath(EXAMPLE_BUNDLE).read_bytes()


__all__ = [
    "EXAMPLE_BUNDLE",
    "MAX_BUNDLE_BYTES",
    "MAX_LETTER_CHARS",
    "Found",
    "ImportRefused",
    "ImportResult",
    "example_bundle",
    "origin_of",
]
