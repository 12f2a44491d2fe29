"""The FINESS establishments shipped with Orient (data/finess_hospitals_fr_2020.csv)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources

from orient.models.directory import Establishment
from orient.models.readers import ReadError, read_phone

_DATA_PACKAGE = "orient.assistant.directory"
FINESS_FILE = "finess_hospitals_fr_2020.csv"


def _phone(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return read_phone(raw)
    except ReadError:
        return None


def _coord(raw: str) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def read_establishments() -> Iterator[Establishment]:
    resource = resources.files(_DATA_PACKAGE).joinpath("data", FINESS_FILE)
    with resource.open("r", encoding="utf-8") as lines:
        for row in csv.DictReader(lines):
            address = " ".join(p for p in (row["numvoie"], row["voie"]) if p)
            yield Establishment(
                finess=row["finess_et"],
                name=row["raison_sociale"],
                category=row["categetab"],
                category_label=row["libcategetab"],
                lat=_coord(row["lat"]),
                lon=_coord(row["lon"]),
                address=address,
                postcode=row["code_postal"],
                commune=row["commune"],
                departement=row["departement"],
                phone=_phone(row["telephone"]),
            )
