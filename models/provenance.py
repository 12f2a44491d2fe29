"""Where an answer comes from, and answers proposed from outside the keyboard
(spec/hnp-dossier.md, "Answers that fill several fields, and imported answers").

A value that did not come from the person's keyboard (the doctor's profile, an imported file, a
pasted letter), or that was read out of one typed answer naming several fields, is never taken
silently: it waits in the dossier as a `Pending` entry until the person confirms it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    TYPED = "typed"
    PROFILE = "profile"
    IMPORT = "import"
    LETTER = "letter"


SOURCE_FR = {
    Source.TYPED: "saisi",
    Source.PROFILE: "profil",
    Source.IMPORT: "import",
    Source.LETTER: "courrier",
}


@dataclass(frozen=True)
class Proposal:
    """A value offered for a field, as text, read through the field's own rule like typed text.
    `origin` says more about the source, e.g. "sha256:<hex of the imported file>"."""

    field: str
    text: str
    source: Source
    origin: str | None = None


@dataclass(frozen=True)
class Provenance:
    """The source of an answer that was not typed at its own question."""

    source: Source
    origin: str | None = None

    def detail(self) -> str:
        """How the audit names it: "source=import;origin=sha256:…"."""
        return f"source={self.source.value}" + (f";origin={self.origin}" if self.origin else "")


TYPED = Provenance(Source.TYPED)

# What a pending entry waits for.
CONFIRM = "confirm"  # the person's confirmation (the confirmation question)
ASK = "ask"  # the person dropped it: its field is asked by hand next
PROFILE = "profile"  # the typed answer differs from the doctor's profile: update the profile?


@dataclass(frozen=True)
class Pending:
    """A proposed value waiting in the dossier (persisted with it)."""

    field: str
    text: str  # as proposed: read again through the field's rule when confirmed
    value: Any  # as read when proposed (shown for confirmation)
    source: Source
    origin: str | None = None
    step: str = CONFIRM

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.source, self.origin)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = self.source.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pending:
        return cls(field=data["field"], text=data["text"], value=data.get("value"),
                   source=Source(data["source"]), origin=data.get("origin"),
                   step=data.get("step", CONFIRM))


@dataclass(frozen=True)
class Refused:
    """A proposed value its field's rule refused; the field is asked as usual."""

    field: str
    text: str
    message: str  # French


__all__ = ["ASK", "CONFIRM", "PROFILE", "SOURCE_FR", "TYPED", "Pending", "Proposal", "Provenance",
           "Refused", "Source"]
