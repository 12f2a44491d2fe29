"""What the readers of outside documents (a FHIR Bundle, a pasted letter) give back: values as
a person would type them, one per dossier field, never taken as answers by themselves. The
engine reads each one through its field's own rule, shows them all for confirmation, and the
audit records where each came from (spec/hnp-dossier.md, "imported answers").

Pure: no I/O, no clock, no database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from orient.dialogs.hnp import HNP

# A practice software's export of one patient is a few dozen kilobytes; 2 MiB leaves room for a
# long history while refusing a wrong file (a whole database dump, a video) before reading it.
MAX_BUNDLE_BYTES = 2 * 1024 * 1024
# A letter or a consultation note: a few pages of text.
MAX_LETTER_CHARS = 50_000

_ORDER = {f.id: i for i, f in enumerate(HNP.fields)}


class ImportRefused(ValueError):
    """A document that cannot be read at all; the message (French) says why. Nothing of it is
    kept: no dossier is created, no answer is proposed."""


@dataclass(frozen=True)
class Found:
    """One value found for one field, as text the field's reader understands."""

    field: str
    text: str


@dataclass(frozen=True)
class Note:
    """A French remark on the document; `field` when it is about one field (a medical field's
    note is not shown to whoever may not read the medical section)."""

    text: str
    field: str | None = None

    @property
    def medical(self) -> bool:
        return (self.field or "").startswith("medical.")


@dataclass
class ImportResult:
    """What a document gave: values by field (dialog order), French notes on what was left out
    or must be checked, and the document's origin (``sha256:<hex>`` of its bytes)."""

    kind: str  # "import" (a FHIR Bundle) or "letter"
    origin: str
    values: list[Found] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def add(self, field_id: str, text: str | None) -> None:
        """Keep the first value found for a field (later ones are reported by the readers)."""
        text = " ".join((text or "").split())
        if not text or any(v.field == field_id for v in self.values):
            return
        self.values.append(Found(field_id, text))
        self.values.sort(key=lambda v: _ORDER.get(v.field, len(_ORDER)))

    def value(self, field_id: str) -> str | None:
        return next((v.text for v in self.values if v.field == field_id), None)

    def note(self, text: str, field_id: str | None = None) -> None:
        if all(n.text != text for n in self.notes):
            self.notes.append(Note(text, field_id))

    def for_reader(self, fields: set[str] | None, medical: bool) -> ImportResult:
        """What a caller may receive: the values of the fields it may fill (all when None), and
        the notes it may read (no medical note without the right to read the medical section)."""
        return ImportResult(
            self.kind, self.origin,
            [v for v in self.values if fields is None or v.field in fields],
            [n for n in self.notes if medical or not n.medical])


def origin_of(data: bytes) -> str:
    """The document's fingerprint, kept in the audit with every answer it gave."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def size_fr(n: int) -> str:
    """A size as a French reader writes it: ``2 Mio``, ``350 kio``, ``12 octets``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".").replace(".", ",") + " Mio"
    if n >= 1024:
        return f"{n // 1024} kio"
    return f"{n} octets"
