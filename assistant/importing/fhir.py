"""Import from the practice software: a FHIR R4 JSON Bundle of one patient becomes values to
confirm (spec/hnp-dossier.md, "imported answers"). Pure: bytes in, values and French notes out.

The file is refused whole (:class:`ImportRefused`, a French message, nothing kept) when it is
too big, not UTF-8 JSON, not a FHIR Bundle, of another FHIR version than R4, when a resource read
here does not conform to FHIR R4, or when it does not hold exactly one Patient. Otherwise every
value found is given as the text a person would type, and the field's own rule decides: an INS
with a wrong key, a date in the future, a status the INS rules forbid are refused there, shown
with their reason and asked. Nothing here signs, chooses a unit, converts a unit or picks among
contradictory values: what cannot be read without guessing is left to be asked, with a note.

fhir.resources 8 has no pure R4 (4.0.1) package: the R4B classes are used; the resources read
here are the same in R4 and R4B. What is read (FR Core profiles, https://hl7.fr/ig/fhir/core):

Patient (FR Core Patient INS)
    ``identifier``: system ``urn:oid:1.2.250.1.213.1.4.8`` (INS-NIR; type ``NH`` is the billing
    number of the insured person, not the INS, and is left out), ``.9`` (INS-NIA), ``.10`` and
    ``.11`` (test and demonstration INS-NIR), ``use`` ``old`` left out; the NIR before the NIA.
    Extension ``fr-core-identity-reliability``, sub-extension ``identityStatus`` (``PROV``,
    ``RECUP``, ``VALI``, ``QUAL``): the identity status. ``name`` of use ``official``: birth name
    (``family``) and first names (extension ``fr-core-patient-birth-list-given-name``, else
    ``given``); ``name`` of use ``usual``: the used name. ``gender``, ``birthDate`` (a full date
    only), extension ``patient-birthPlace`` with its ``fr-core-address-insee-code`` (the INSEE
    code), the home ``address`` (its INSEE code, else postcode and city) and the first ``phone``
    (mobile first). ``generalPractitioner``: a Practitioner of the Bundle with the dossier's
    doctor's RPPS says the requester is the GP; another one gives the GP's name.
Practitioner
    ``identifier`` of system ``https://rpps.esante.gouv.fr`` (or ``urn:oid:1.2.250.1.71.4.2.1``,
    ``8`` + RPPS): when none matches the dossier's doctor, a note says so.
RelatedPerson (else ``Patient.contact``)
    The caregiver's name and phone.
Condition
    ``category`` ``encounter-diagnosis``, still active: the diagnosis and its ICD-10 code; the
    others (problem list, resolved): the history, with their ICD-10 codes. Refuted or entered in
    error: left out.
MedicationStatement, MedicationRequest
    Current ones (active, intended, on hold): the treatments, with their dosage text. ATC B01A
    recognises the anticoagulant: B01AA VKA, B01AE and B01AF DOAC, B01AB heparin, B01AC
    antiplatelet; none of them while every treatment has an ATC code: "no".
AllergyIntolerance
    Active, not refuted: the allergies (with their reactions); SNOMED CT 716186003 "no known
    allergy": none.
Observation (LOINC)
    The latest of each vital sign, in the unit of its field (never converted): 8480-6 and 8462-4
    (also as components of the panel 85354-9), 8867-4, 9279-1, 59408-5 or 2708-6, 8310-5,
    29463-7, and 3151-8 for the inhaled oxygen flow (0 L/min: ambient air).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pydantic
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.relatedperson import RelatedPerson

from orient.assistant.importing.common import (
    MAX_BUNDLE_BYTES,
    ImportRefused,
    ImportResult,
    origin_of,
    size_fr,
)
from orient.models.identifiers import rpps_valid

__all__ = ["read_bundle"]

_READ: dict[str, Any] = {
    "Patient": Patient,
    "Practitioner": Practitioner,
    "RelatedPerson": RelatedPerson,
    "Condition": Condition,
    "MedicationStatement": MedicationStatement,
    "MedicationRequest": MedicationRequest,
    "Medication": Medication,
    "AllergyIntolerance": AllergyIntolerance,
    "Observation": Observation,
}

INS_SYSTEMS = {  # in the order preferred when several are given
    "urn:oid:1.2.250.1.213.1.4.8": "NIR",
    "urn:oid:1.2.250.1.213.1.4.9": "NIA",
    "urn:oid:1.2.250.1.213.1.4.10": "NIR de test",
    "urn:oid:1.2.250.1.213.1.4.11": "NIR de démonstration",
}
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
ID_NAT_PS = "urn:oid:1.2.250.1.71.4.2.1"  # "8" + RPPS
IDENTITY_STATUS = {"PROV": "provisoire", "RECUP": "recuperee", "VALI": "validee", "QUAL": "qualifiee"}
LOINC = "http://loinc.org"
ATC_SYSTEMS = frozenset({"http://www.whocc.no/atc", "urn:oid:2.16.840.1.113883.6.73"})
SNOMED = "http://snomed.info/sct"
NO_KNOWN_ALLERGY = "716186003"

# FHIR versions by their number (http://hl7.org/fhir/FHIR-version)
_VERSIONS = (("1.0", "DSTU2"), ("3.0", "STU3"), ("4.0", "R4"), ("4.3", "R4B"), ("5.0", "R5"),
             ("6.0", "R6"))
_R4 = ("4.0", "4.3")
# Fields a resource read here has in another version only: the hint given when it fails R4.
_OTHER_VERSION_FIELDS = {
    "MedicationStatement": {"medication": "R5", "adherence": "R5", "relatedClinicalInformation": "R5",
                            "taken": "STU3", "context": "STU3"},
    "MedicationRequest": {"medication": "R5", "informationSource": "R5", "renderedDosageInstruction": "R5",
                          "context": "STU3", "definition": "STU3"},
    "Condition": {"participant": "R5", "assertedDate": "STU3", "context": "STU3", "abatementBoolean": "STU3"},
    "AllergyIntolerance": {"participant": "R5", "assertedDate": "STU3"},
    "Observation": {"triggeredBy": "R5", "instantiatesCanonical": "R5", "context": "STU3"},
    "Patient": {"animal": "STU3"},
    "Bundle": {"issues": "R5"},
}
# In STU3 these were plain codes; R4 made them CodeableConcepts.
_STU3_CODES = {"clinicalStatus", "verificationStatus"}

# (field, LOINC codes, accepted units (UCUM code or unit text, compared case-insensitively))
_VITALS: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = (
    ("medical.bp_systolic", ("8480-6",), frozenset({"mm[hg]", "mmhg", "mm hg"})),
    ("medical.bp_diastolic", ("8462-4",), frozenset({"mm[hg]", "mmhg", "mm hg"})),
    ("medical.heart_rate", ("8867-4",), frozenset({"/min", "{beats}/min", "bpm", "{beat}/min", "1/min"})),
    ("medical.resp_rate", ("9279-1",), frozenset({"/min", "{breaths}/min", "{breath}/min", "1/min"})),
    ("medical.spo2", ("59408-5", "2708-6"), frozenset({"%"})),
    ("medical.temperature", ("8310-5",), frozenset({"cel", "°c"})),
    ("medical.weight", ("29463-7",), frozenset({"kg"})),
    ("medical.oxygen", ("3151-8",), frozenset({"l/min", "l/mn"})),
)
_VITAL_LABEL = {
    "medical.bp_systolic": "pression systolique", "medical.bp_diastolic": "pression diastolique",
    "medical.heart_rate": "fréquence cardiaque", "medical.resp_rate": "fréquence respiratoire",
    "medical.spo2": "SpO2", "medical.temperature": "température", "medical.weight": "poids",
    "medical.oxygen": "débit d'oxygène",
}
_INT_FIELDS = {"medical.bp_systolic", "medical.bp_diastolic", "medical.heart_rate",
               "medical.resp_rate", "medical.spo2"}
_ANTICOAG = (("B01AA", "vka", "AVK"), ("B01AE", "doac", "AOD"), ("B01AF", "doac", "AOD"),
             ("B01AB", "heparin", "héparine"), ("B01AC", "antiplatelet", "antiagrégant plaquettaire"))


# -- the file -------------------------------------------------------------------------------

def _json(data: bytes) -> Any:
    if len(data) > MAX_BUNDLE_BYTES:
        raise ImportRefused(
            f"Fichier trop volumineux ({size_fr(len(data))}) : un export FHIR d'un patient pèse "
            f"au plus {size_fr(MAX_BUNDLE_BYTES)}. Rien n'a été importé.")
    if not data.strip():
        raise ImportRefused("Le fichier est vide : un Bundle FHIR R4 au format JSON est attendu. "
                            "Rien n'a été importé.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("Le fichier n'est pas un texte UTF-8 : un Bundle FHIR R4 au format "
                            "JSON est attendu (le format XML n'est pas lu). Rien n'a été "
                            "importé.") from None
    if text.lstrip().startswith("<"):
        raise ImportRefused("Le fichier est en XML : Orient lit les Bundles FHIR R4 au format "
                            "JSON. Rien n'a été importé.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"Le fichier n'est pas du JSON valide (ligne {exc.lineno}, colonne "
                            f"{exc.colno}) : un Bundle FHIR R4 est attendu. Rien n'a été "
                            "importé.") from None
    except RecursionError:
        raise ImportRefused("Le fichier est imbriqué trop profondément pour être un Bundle "
                            "FHIR. Rien n'a été importé.") from None


def _version_name(number: str) -> str:
    for prefix, name in _VERSIONS:
        if number.startswith(prefix):
            return f"FHIR {name} ({number})"
    return f"FHIR {number}"


def _declared_versions(resource: dict[str, Any]) -> Iterator[str]:
    """FHIR versions a resource declares: a ``fhirVersion`` member (some exporters add it), the
    ``http://hl7.org/fhir/FHIR-version`` tag, a versioned core profile (``...|3.0.1``)."""
    if isinstance(resource.get("fhirVersion"), str):
        yield resource["fhirVersion"]
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return
    for tag in meta.get("tag") or ():
        if (isinstance(tag, dict) and tag.get("system") == "http://hl7.org/fhir/FHIR-version"
                and isinstance(tag.get("code"), str)):
            yield tag["code"]
    for profile in meta.get("profile") or ():
        if isinstance(profile, str) and profile.startswith("http://hl7.org/fhir/StructureDefinition/"):
            _, _, number = profile.partition("|")
            if number[:1].isdigit():
                yield number


def _check_version(resource: dict[str, Any], where: str) -> None:
    for number in _declared_versions(resource):
        if not number.startswith(_R4):
            raise ImportRefused(
                f"{where} est déclaré en {_version_name(number)} : Orient lit les exports FHIR R4 "
                "(4.0.1). Exportez le dossier en FHIR R4 depuis le logiciel. Rien n'a été importé.")


def _conformity_error(exc: pydantic.ValidationError, rtype: str, where: str) -> ImportRefused:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"] if not isinstance(p, int)]
    name = loc[0] if loc else ""
    other = _OTHER_VERSION_FIELDS.get(rtype, {}).get(name)
    if other is None and name in _STU3_CODES and isinstance(first.get("input"), str):
        other = "STU3"
    if other:
        return ImportRefused(
            f"Le fichier n'est pas en FHIR R4 : {where} contient « {name} » à la manière de FHIR "
            f"{other}. Exportez le dossier en FHIR R4 depuis le logiciel. Rien n'a été importé.")
    return ImportRefused(
        f"{where} n'est pas conforme à FHIR R4 (champ « {'.'.join(loc) or '?'} » : "
        f"{_PYDANTIC_FR.get(first['type'], 'valeur non conforme')}). Rien n'a été importé.")


_PYDANTIC_FR = {
    "extra_forbidden": "champ inconnu en FHIR R4",
    "missing": "champ obligatoire absent",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "date_from_datetime_parsing": "date invalide",
    "date_parsing": "date invalide",
    "datetime_parsing": "date et heure invalides",
    "decimal_parsing": "nombre attendu",
    "json_invalid": "objet attendu",
    "model_type": "objet attendu",
    "dict_type": "objet attendu",
    "value_error": "valeur non conforme",
}


@dataclass
class _Entry:
    index: int
    type: str
    id: str
    full_url: str
    resource: Any

    @property
    def where(self) -> str:
        return f"La ressource {self.type}/{self.id or '?'} (entrée {self.index + 1} du Bundle)"


def _entries(data: Any) -> list[_Entry]:
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ImportRefused("Le fichier n'est pas une ressource FHIR (pas de « resourceType ») : "
                            "un Bundle FHIR R4 exporté du logiciel de cabinet est attendu. Rien "
                            "n'a été importé.")
    if data["resourceType"] != "Bundle":
        raise ImportRefused(f"Le fichier contient une ressource {data['resourceType'][:40]}, pas un "
                            "Bundle : exportez le dossier du patient (Bundle FHIR R4). Rien n'a été "
                            "importé.")
    _check_version(data, "Le Bundle")
    raw = data.get("entry") or []
    if not isinstance(raw, list):
        raise ImportRefused("Le Bundle n'est pas conforme à FHIR R4 (« entry » doit être une "
                            "liste). Rien n'a été importé.")
    shell = dict(data)
    shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                      for e in raw]
    try:
        Bundle.model_validate(shell)
    except pydantic.ValidationError as exc:
        raise _conformity_error(exc, "Bundle", "Le Bundle") from None
    out = []
    for i, e in enumerate(raw):
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise ImportRefused(f"L'entrée {i + 1} du Bundle n'a pas de ressource FHIR. Rien n'a été "
                                "importé.")
        rid, url = res.get("id"), e.get("fullUrl")
        entry = _Entry(i, res["resourceType"], rid if isinstance(rid, str) else "",
                       url if isinstance(url, str) else "", None)
        _check_version(res, entry.where)
        cls = _READ.get(entry.type)
        if cls is not None:
            try:
                entry.resource = cls.model_validate(res)
            except pydantic.ValidationError as exc:
                raise _conformity_error(exc, entry.type, entry.where) from None
        out.append(entry)
    return out


class _Index:
    """Resolves references inside the Bundle: ``Type/id`` (also at the end of a URL) or a
    ``fullUrl``."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.by_key: dict[str, _Entry] = {}
        for e in entries:
            if e.id:
                self.by_key[f"{e.type}/{e.id}"] = e
            if e.full_url:
                self.by_key[e.full_url] = e

    def get(self, ref: Any) -> _Entry | None:
        text = getattr(ref, "reference", None)
        if not isinstance(text, str) or not text:
            return None
        if text in self.by_key:
            return self.by_key[text]
        parts = [p for p in text.split("/_history/")[0].split("/") if p]
        return self.by_key.get("/".join(parts[-2:])) if len(parts) >= 2 else None


# -- small readers ----------------------------------------------------------------------------

def _ext(resource: Any, name: str) -> Iterator[Any]:
    """Extensions whose URL ends with ``name`` (the canonical bases of the guides' versions
    differ; the ids do not)."""
    for ext in getattr(resource, "extension", None) or ():
        url = ext.url or ""
        if url == name or url.endswith("/" + name):
            yield ext


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or ())


def _codes(concept: Any) -> set[str]:
    return {c.code for c in _codings(concept) if c.code}


def _concept_text(concept: Any) -> str:
    if concept is None:
        return ""
    if concept.text:
        return str(concept.text)
    for c in _codings(concept):
        if c.display:
            return str(c.display)
    return ""


def _is_icd10(system: str | None) -> bool:
    s = (system or "").casefold()
    return "icd-10" in s or "cim-10" in s or "cim10" in s or s == "urn:oid:2.16.840.1.113883.6.3"


def _icd10(concept: Any) -> str | None:
    return next((c.code for c in _codings(concept) if c.code and _is_icd10(c.system)), None)


def _human(name: Any) -> str:
    if name is None:
        return ""
    if name.text:
        return str(name.text)
    return " ".join([*(name.given or ()), name.family or ""]).strip()


def _phone(telecoms: Iterable[Any]) -> str | None:
    phones = [t for t in telecoms or () if t.system == "phone" and t.value]
    rank = {"mobile": 0, "home": 1, "work": 2}
    phones.sort(key=lambda t: (t.rank or 99, rank.get(t.use or "", 3)))
    return phones[0].value if phones else None


def _number(value: Decimal | float, field_id: str) -> str:
    d = Decimal(str(value))
    if field_id in _INT_FIELDS and d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def _when(obs: Any) -> str:
    value = obs.effectiveDateTime or obs.effectiveInstant or (
        obs.effectivePeriod.start if obs.effectivePeriod else None) or obs.issued
    return value.isoformat() if isinstance(value, date | datetime) else str(value or "")


def _fr_datetime(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if len(iso) <= 10:
        return moment.strftime("%d/%m/%Y")
    return moment.strftime("%d/%m/%Y à %H:%M")


def _about(entry: _Entry, ref: Any, patient: _Entry, index: _Index, result: ImportResult) -> bool:
    """True when the resource is about the Bundle's patient; else it is left out with a note."""
    target = index.get(ref)
    if target is patient:
        return True
    about = None if entry.type == "RelatedPerson" else "medical.history"  # a medical resource
    result.note(f"{entry.where} ne concerne pas le patient du fichier : elle n'est pas reprise.", about)
    return False


# -- resources ---------------------------------------------------------------------------------

def _patient(p: Any, result: ImportResult) -> None:
    names = list(p.name or ())
    official = next((n for n in names if n.use == "official"), None)
    if official is None and len(names) == 1 and names[0].use in (None, "usual"):
        official = names[0] if names[0].use is None else None
    usual = next((n for n in names if n.use == "usual"), None)
    if official is not None:
        result.add("patient.birth_name", official.family)
        listed = next((e.valueString for e in _ext(official, "fr-core-patient-birth-list-given-name")
                       if e.valueString), None)
        result.add("patient.first_names", listed or " ".join(official.given or ()))
    if usual is not None and usual.family and (
            official is None or (usual.family or "").casefold() != (official.family or "").casefold()):
        result.add("patient.used_name", usual.family)
    born = p.birthDate
    if isinstance(born, date):
        result.add("patient.birth_date", born.isoformat())
    elif born:
        result.note(f"Date de naissance incomplète dans le fichier ({born}) : elle n'est pas reprise.", "patient.birth_date")
    sex = {"female": "F", "male": "M", "other": "I"}.get(p.gender or "")
    if sex:
        result.add("patient.sex", sex)
    for place in _ext(p, "patient-birthPlace"):
        address = place.valueAddress
        code = next((e.valueCoding.code for e in _ext(address, "fr-core-address-insee-code")
                     if e.valueCoding and e.valueCoding.code), None) if address else None
        if code:
            result.add("patient.birth_place", code)
        elif address is not None and (address.city or address.country):
            result.note(f"Lieu de naissance sans code INSEE ({address.city or address.country}) : "
                        "il n'est pas repris.", "patient.birth_place")
    _ins(p, result)
    for ext in _ext(p, "fr-core-identity-reliability"):
        for sub in _ext(ext, "identityStatus"):
            code = sub.valueCoding.code if sub.valueCoding else sub.valueCode
            if code in IDENTITY_STATUS:
                result.add("patient.identity_status", IDENTITY_STATUS[code])
            elif code:
                result.note(f"Statut d'identité « {code} » du fichier : ce n'est pas un des quatre "
                            "statuts du référentiel INS, il n'est pas repris.", "patient.identity_status")
    homes = sorted(p.address or (), key=lambda a: {"home": 0, None: 1}.get(a.use, 2))
    if homes:
        _address(homes[0], result)
    result.add("patient.phone", _phone(p.telecom))


def _ins(p: Any, result: ImportResult) -> None:
    found: list[tuple[int, str, str]] = []
    for ident in p.identifier or ():
        kind = INS_SYSTEMS.get(ident.system or "")
        if kind is None or not ident.value or ident.use == "old":
            continue
        if kind == "NIR" and "NH" in _codes(ident.type):
            result.note("Le numéro de sécurité sociale de facturation (celui de l'assuré) n'est pas "
                        "le matricule INS du patient : il n'est pas repris.", "patient.ins")
            continue
        found.append((list(INS_SYSTEMS.values()).index(kind), kind, ident.value))
    if not found:
        return
    found.sort()
    _, kind, value = found[0]
    result.add("patient.ins", value)
    if kind != "NIR":
        result.note(f"Matricule INS : {kind}.", "patient.ins")
    others = {v.replace(" ", "") for _, _, v in found[1:]} - {value.replace(" ", "")}
    if others:
        result.note("Le fichier donne plusieurs matricules INS : seul le premier (NIR avant NIA) est "
                    "proposé ; vérifiez-le.", "patient.ins")


def _address(a: Any, result: ImportResult) -> None:
    code = next((e.valueCoding.code for e in _ext(a, "fr-core-address-insee-code")
                 if e.valueCoding and e.valueCoding.code), None)
    place = " ".join(x for x in (a.postalCode, a.city) if x)
    result.add("patient.commune", code or place)
    lines = ", ".join(a.line or ())
    result.add("patient.address", a.text or ", ".join(x for x in (lines, place) if x))


def _practitioners(entries: list[_Entry], doctor_rpps: str | None, result: ImportResult) -> None:
    seen: list[str] = []
    for e in entries:
        if e.type != "Practitioner":
            continue
        for ident in e.resource.identifier or ():
            value = (ident.value or "").replace(" ", "")
            if ident.system == ID_NAT_PS and value.startswith("8"):
                value = value[1:]
            elif ident.system != RPPS_SYSTEM:
                continue
            if not rpps_valid(value):
                result.note(f"Le RPPS « {value[:20]} » du médecin du fichier n'est pas valide (clé "
                            "de contrôle) : vérifiez l'export.", "requester.rpps")
                continue
            seen.append(value)
    if doctor_rpps and seen and doctor_rpps not in seen:
        result.note(f"Le médecin du fichier (RPPS {', '.join(dict.fromkeys(seen))}) n'est pas le "
                    f"médecin demandeur de ce dossier (RPPS {doctor_rpps}) : vérifiez qu'il s'agit "
                    "bien de votre patient.", "requester.rpps")


def _rpps_of(practitioner: Any) -> str | None:
    for ident in practitioner.identifier or ():
        value = (ident.value or "").replace(" ", "")
        if ident.system == RPPS_SYSTEM:
            return value
        if ident.system == ID_NAT_PS and value.startswith("8"):
            return value[1:]
    return None


def _general_practitioner(p: Any, index: _Index, doctor_rpps: str | None, result: ImportResult) -> None:
    for ref in p.generalPractitioner or ():
        gp = index.get(ref)
        if gp is None or gp.type != "Practitioner":
            continue
        rpps = _rpps_of(gp.resource)
        if doctor_rpps and rpps == doctor_rpps:
            result.add("context.gp_is_requester", "oui")
        elif rpps and doctor_rpps:
            result.add("context.gp_is_requester", "non")
            result.add("context.gp_name", _human(next(iter(gp.resource.name or ()), None)))
        return


def _caregiver(entries: list[_Entry], p: _Entry, index: _Index, result: ImportResult) -> None:
    people = [e for e in entries if e.type == "RelatedPerson"
              and _about(e, e.resource.patient, p, index, result)]
    candidates = [(_human(next(iter(e.resource.name or ()), None)), _phone(e.resource.telecom))
                  for e in people]
    if not candidates:
        candidates = [(_human(c.name), _phone(c.telecom)) for c in p.resource.contact or ()]
    candidates = [c for c in candidates if c[0]]
    if not candidates:
        return
    name, phone = candidates[0]
    result.add("context.caregiver_name", name)
    result.add("context.caregiver_phone", phone)
    if len(candidates) > 1:
        result.note(f"Le fichier nomme {len(candidates)} proches : seul le premier ({name}) est "
                    "proposé comme aidant.", "context.caregiver_name")


def _conditions(entries: list[_Entry], p: _Entry, index: _Index, result: ImportResult) -> None:
    diagnoses: list[tuple[str, str | None]] = []
    history: list[str] = []
    for e in entries:
        if e.type != "Condition" or not _about(e, e.resource.subject, p, index, result):
            continue
        c = e.resource
        if _codes(c.verificationStatus) & {"refuted", "entered-in-error"}:
            continue
        text = _concept_text(c.code)
        code = _icd10(c.code)
        if not text:
            continue
        current = "encounter-diagnosis" in {x for cat in c.category or () for x in _codes(cat)}
        inactive = bool(_codes(c.clinicalStatus) & {"inactive", "resolved", "remission"})
        if current and not inactive:
            diagnoses.append((text, code))
        else:
            year = ""
            onset = c.onsetDateTime
            if isinstance(onset, date | datetime):
                year = str(onset.year)
            extra = ", ".join(x for x in (code, year) if x)
            history.append(f"{text} ({extra})" if extra else text)
    if diagnoses:
        result.add("medical.diagnosis", " ; ".join(dict.fromkeys(t for t, _ in diagnoses)))
        codes = list(dict.fromkeys(c for _, c in diagnoses if c))
        if codes:
            result.add("medical.diagnosis_code", codes[0])
        if len(diagnoses) > 1:
            result.note(f"{len(diagnoses)} diagnostics en cours dans le fichier : ils sont réunis ; "
                        + (f"seul le code {codes[0]} est proposé." if codes else "aucun code CIM-10."), "medical.diagnosis")
    if history:
        result.add("medical.history", " ; ".join(dict.fromkeys(history)))


def _medications(entries: list[_Entry], p: _Entry, index: _Index, result: ImportResult) -> None:
    texts: list[str] = []
    classes: dict[str, str] = {}
    uncoded = 0
    for e in entries:
        r = e.resource
        if e.type == "MedicationStatement":
            current = r.status in ("active", "intended", "on-hold")
            dosage = next((d.text for d in r.dosage or () if d.text), None)
        elif e.type == "MedicationRequest":
            current = r.status in ("active", "on-hold")
            dosage = next((d.text for d in r.dosageInstruction or () if d.text), None)
        else:
            continue
        if not current or not _about(e, r.subject, p, index, result):
            continue
        concept = r.medicationCodeableConcept
        if concept is None and r.medicationReference is not None:
            med = index.get(r.medicationReference)
            concept = med.resource.code if med is not None and med.type == "Medication" else None
        name = _concept_text(concept)
        if not name:
            result.note(f"{e.where} n'a pas de nom de médicament : elle n'est pas reprise.", "medical.treatments")
            uncoded += 1
            continue
        texts.append(f"{name} : {dosage}" if dosage else name)
        atc = [c.code.replace(" ", "").upper() for c in _codings(concept)
               if c.code and (c.system or "") in ATC_SYSTEMS]
        if not atc:
            uncoded += 1
        for code in atc:
            for prefix, value, label in _ANTICOAG:
                if code.startswith(prefix):
                    classes[value] = label
            if code.startswith("B01A") and not any(code.startswith(x[0]) for x in _ANTICOAG):
                classes["other"] = f"antithrombotique {code}"
    if texts:
        result.add("medical.treatments", " ; ".join(dict.fromkeys(texts)))
    if len(classes) == 1 and "other" not in classes:
        result.add("medical.anticoagulation", next(iter(classes)))
    elif classes:
        result.note("Plusieurs antithrombotiques ou un antithrombotique à préciser ("
                    + ", ".join(dict.fromkeys(classes.values()))
                    + ") : la question « Anticoagulant ou antiagrégant » reste posée.", "medical.anticoagulation")
    elif texts and not uncoded:
        result.add("medical.anticoagulation", "none")


def _allergies(entries: list[_Entry], p: _Entry, index: _Index, result: ImportResult) -> None:
    texts: list[str] = []
    none_known = False
    for e in entries:
        if e.type != "AllergyIntolerance" or not _about(e, e.resource.patient, p, index, result):
            continue
        a = e.resource
        if _codes(a.verificationStatus) & {"refuted", "entered-in-error"}:
            continue
        if _codes(a.clinicalStatus) & {"inactive", "resolved"}:
            continue
        if any(c.code == NO_KNOWN_ALLERGY and c.system == SNOMED for c in _codings(a.code)):
            none_known = True
            continue
        name = _concept_text(a.code)
        if not name:
            continue
        reactions = list(dict.fromkeys(_concept_text(m) for r in a.reaction or ()
                                       for m in r.manifestation or () if _concept_text(m)))
        texts.append(f"{name} ({', '.join(reactions)})" if reactions else name)
    if texts:
        result.add("medical.allergies", " ; ".join(dict.fromkeys(texts)))
        if none_known:
            result.note("Le fichier dit à la fois « aucune allergie connue » et des allergies : "
                        "seules les allergies sont proposées.", "medical.allergies")
    elif none_known:
        result.add("medical.allergies", "aucune")


def _observations(entries: list[_Entry], p: _Entry, index: _Index, today: date | None,
                  result: ImportResult) -> None:
    latest: dict[str, tuple[str, Any]] = {}  # field -> (when, quantity)

    def keep(field_id: str, when: str, quantity: Any) -> None:
        if quantity is None or quantity.value is None:
            return
        if field_id not in latest or when > latest[field_id][0]:
            latest[field_id] = (when, quantity)

    for e in entries:
        if e.type != "Observation":
            continue
        o = e.resource
        if o.status in ("entered-in-error", "cancelled") or not _about(e, o.subject, p, index, result):
            continue
        when = _when(o)
        parts = [(o.code, o.valueQuantity), *((c.code, c.valueQuantity) for c in o.component or ())]
        for concept, quantity in parts:
            loinc = {c.code for c in _codings(concept) if c.system == LOINC}
            for field_id, codes, _units in _VITALS:
                if loinc & set(codes):
                    keep(field_id, when, quantity)
    dates = []
    for field_id, codes, units in _VITALS:
        if field_id not in latest:
            continue
        when, q = latest[field_id]
        unit = (q.code or q.unit or "").strip()
        if unit.casefold() not in units and (q.unit or "").strip().casefold() not in units:
            result.note(f"{_VITAL_LABEL[field_id].capitalize()} en « {unit or 'sans unité'} » dans le "
                        "fichier : elle n'est pas convertie ni reprise (la question reste posée).", field_id)
            continue
        if field_id == "medical.oxygen":
            flow = _number(q.value, field_id)
            result.add(field_id, "air ambiant" if Decimal(flow) == 0 else f"{flow.replace('.', ',')} L/min")
        else:
            result.add(field_id, _number(q.value, field_id))
        dates.append(when)
    if dates:
        newest, oldest = max(dates), min(dates)
        shown = _fr_datetime(oldest) if oldest == newest else (
            f"du {_fr_datetime(oldest)} au {_fr_datetime(newest)}")
        stale = today is not None and oldest[:10] < today.isoformat()
        if oldest:
            tail = " : elles ne sont pas du jour, vérifiez-les avant de confirmer." if stale else "."
            result.note(f"Constantes mesurées {'le ' if oldest == newest else ''}{shown}{tail}",
                        "medical.bp_systolic")


# -- entry point --------------------------------------------------------------------------------

def read_bundle(data: bytes, *, doctor_rpps: str | None = None, today: date | None = None) -> ImportResult:
    """Read a FHIR R4 Bundle exported by a practice software.

    ``doctor_rpps``: the dossier's doctor, compared with the Bundle's Practitioners; ``today``:
    to say when the vital signs are not of the day. Raises :class:`ImportRefused` for a file
    that cannot be imported at all.
    """
    result = ImportResult("import", origin_of(data))
    entries = _entries(_json(data))
    patients = [e for e in entries if e.type == "Patient"]
    if not patients:
        raise ImportRefused("Le Bundle ne contient aucun patient (ressource Patient) : rien n'a été "
                            "importé.")
    if len(patients) > 1:
        raise ImportRefused(f"Le Bundle contient {len(patients)} patients : exportez le dossier d'un "
                            "seul patient. Rien n'a été importé.")
    patient = patients[0]
    index = _Index(entries)
    _patient(patient.resource, result)
    _practitioners(entries, doctor_rpps, result)
    _general_practitioner(patient.resource, index, doctor_rpps, result)
    _caregiver(entries, patient, index, result)
    _conditions(entries, patient, index, result)
    _medications(entries, patient, index, result)
    _allergies(entries, patient, index, result)
    _observations(entries, patient, index, today, result)
    ignored = sorted({e.type for e in entries if e.type not in _READ})
    if ignored:
        result.note("Ressources non reprises (sans question correspondante) : " + ", ".join(ignored) + ".")
    if not result.values:
        raise ImportRefused("Le Bundle ne contient aucune information reprise par Orient (identité, "
                            "antécédents, traitements, allergies, constantes). Rien n'a été importé.")
    return result
