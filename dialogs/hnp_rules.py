"""Field rules of the HNP dossier that go beyond reading the type (spec/hnp-dossier.md)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from orient.models.fields import Answers, RuleContext, Warning
from orient.models.identifiers import nir_check, nir_trait_mismatches, rpps_valid
from orient.models.readers import ReadError

RED_FLAG_FIELD = "request.red_flags"


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def rpps(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    if not re.fullmatch(r"\d{11}", value):
        raise ReadError("11 chiffres attendus", "un numéro RPPS de 11 chiffres")
    if not rpps_valid(value):
        raise ReadError("la clé de contrôle (Luhn) est fausse", "un numéro RPPS de 11 chiffres valide")
    return value, []


def birth_date(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    born = date.fromisoformat(value)
    expected = "une date de naissance passée, âge de 120 ans au plus"
    if born > ctx.today:
        raise ReadError("la date est dans le futur", expected)
    age = age_on(born, ctx.today)
    if age > 120:
        raise ReadError(f"cela ferait un âge de {age} ans", expected)
    if age < 18:
        msg = (f"Patient mineur ({age} ans) : les services pour adultes peuvent refuser ; "
               "vérifiez qu'une unité pédiatrique convient.")
        return value, [Warning("patient.birth_date", "minor", msg)]
    return value, []


_ABROAD = re.compile(r"99\d{3}")
# overseas collectivities (Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin, the Pacific):
# INSEE codes that the commune table does not hold
_COLLECTIVITY = re.compile(r"(97[578]|98[4-9])\d{2}")
_CODE_NOISE = re.compile(r"[\s.\-]+")
FRANCE = "99100"  # the country code of France: not a birth abroad


def numbered(picks: tuple[tuple[str, str], ...]) -> str:
    """Candidates as a refusal lists them: « 1. Saint-Denis (11, 11339) ; 2. ... »."""
    return " ; ".join(f"{i}. {label}" for i, (_, label) in enumerate(picks, 1))


def _picked(value: str, ctx: RuleContext, what: str, expected: str) -> str | None:
    """The code of the candidate whose number was typed (offered at the last refusal)."""
    typed = value.strip().rstrip(".")
    if not ctx.picks or not typed.isdecimal() or len(typed) > 3:
        return None
    number = int(typed)
    if not 1 <= number <= len(ctx.picks):
        raise ReadError(f"il n'y a pas de {what} proposée n° {typed} ; proposées : {numbered(ctx.picks)}",
                        expected, ctx.picks)
    return ctx.picks[number - 1][0]


def commune_code(value: str, ctx: RuleContext, what: str = "commune",
                 expected: str = "un nom de commune, un code postal ou un code INSEE") -> str:
    """The INSEE code of the commune typed (name, postcode, INSEE code, or the number of a
    candidate listed at the last refusal); several or none: refused with numbered candidates."""
    if ctx.communes is None:  # pragma: no cover - the engine always passes the table
        raise ReadError("la table des communes est indisponible", "une commune")
    pick_expected = f"le numéro d'une commune proposée, ou {expected}"
    picked = _picked(value, ctx, what, pick_expected)
    if picked is not None:
        return picked
    found = ctx.communes.resolve(value)
    if found.commune is not None:
        return str(found.commune.code)
    if found.candidates:
        picks = tuple((c.code, c.label) for c in found.candidates)
        raise ReadError(f"plusieurs communes correspondent : {numbered(picks)}",
                        "le numéro de la commune voulue (ou son code INSEE)", picks)
    picks = tuple((c.code, c.label) for c in found.suggestions)
    if picks:
        raise ReadError(f"commune inconnue ; orthographes proches : {numbered(picks)}", pick_expected, picks)
    raise ReadError("commune inconnue", expected)


def birth_place(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """A commune as for the residence, or 99 + a country code (born abroad): the INSEE code."""
    code = _CODE_NOISE.sub("", value).upper()
    expected = ("un nom de commune, un code postal ou un code INSEE, ou 99 suivi des 3 chiffres "
                "du code pays (né à l'étranger)")
    if code == FRANCE:
        raise ReadError("99100 désigne la France, pas un pays étranger",
                        "la commune de naissance (nom, code postal ou code INSEE)")
    if _ABROAD.fullmatch(code):
        return code, []
    if _COLLECTIVITY.fullmatch(code) and (ctx.communes is None or ctx.communes.get(code) is None):
        return code, []
    return commune_code(value, ctx, "commune", expected), []


def ins(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    problem = nir_check(value)
    if problem:
        raise ReadError(problem, "le matricule INS de 15 caractères (NIR ou NIA, clé comprise)")
    return value, ins_warnings({**ctx.answers, "patient.ins": value})


INS_TRAITS = ("patient.ins", "patient.sex", "patient.birth_date", "patient.birth_place")
IDENTITY_STATUS = "patient.identity_status"
# statuses that need an INS number whose traits do not contradict the dossier's (RNIV)
NEEDS_INS = {"recuperee": "Récupérée", "qualifiee": "Qualifiée"}
STILL_POSSIBLE = "Provisoire ou Validée"


def _mismatches(answers: Answers) -> list[str]:
    nir = answers.get("patient.ins")
    if not nir:
        return []
    born = answers.get("patient.birth_date")
    return nir_trait_mismatches(
        nir,
        sex=answers.get("patient.sex"),
        birth_date=date.fromisoformat(born) if born else None,
        birth_place=answers.get("patient.birth_place"),
    )


def ins_warnings(answers: Answers) -> list[Warning]:
    mismatches = _mismatches(answers)
    if not mismatches:
        return []
    msg = ("Le matricule INS ne correspond pas aux traits d'identité : " + " ; ".join(mismatches)
           + ". Tant que ce n'est pas corrigé, l'identité ne peut être ni « Récupérée » ni « Qualifiée ».")
    return [Warning("patient.ins", "ins_mismatch", msg, depends=INS_TRAITS[1:])]


def identity_problem(answers: Answers) -> str | None:
    """Why the statuses `recuperee` and `qualifiee` are not possible with these answers (RNIV),
    or None when they are."""
    if not answers.get("patient.ins"):
        return "une identité récupérée ou qualifiée exige le matricule INS, et aucun n'est saisi"
    mismatches = _mismatches(answers)
    if mismatches:
        return "le matricule INS contredit les traits d'identité : " + " ; ".join(mismatches)
    return None


def identity_status(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    if value in NEEDS_INS:
        problem = identity_problem(ctx.answers)
        if problem:
            raise ReadError(problem, f"un statut encore possible : {STILL_POSSIBLE} (pour « {NEEDS_INS[value]} », "
                                     "saisissez d'abord un matricule INS concordant : /modifier INS)")
    return value, []


def outgoing(answers: Answers) -> dict[str, Any]:
    """The answers as they may leave the system (the receiving unit, the printed letter): the INS
    number only with a qualified identity (RNIV)."""
    if answers.get(IDENTITY_STATUS) == "qualifiee":
        return dict(answers)
    return {k: v for k, v in answers.items() if k != "patient.ins"}


def revoked(answers: Answers) -> list[Warning]:
    """Answers that a change of other answers made impossible: removed and asked again, each
    with what the person is told. The identity status, when the INS or a trait changed."""
    status = answers.get(IDENTITY_STATUS)
    problem = identity_problem(answers) if status in NEEDS_INS else None
    if not problem:
        return []
    return [Warning(IDENTITY_STATUS, "identity_status_removed",
                    f"Le statut d'identité « {NEEDS_INS[status]} » n'est plus possible : {problem}. "
                    f"Il est effacé et vous est redemandé (encore possibles : {STILL_POSSIBLE}).")]


SPO2_FIELDS = ("medical.spo2", "medical.spo2_confirmed")


def spo2_warnings(answers: Answers) -> list[Warning]:
    """A SpO2 under 90 % confirmed without a red flag: kept, and said, with the dossier."""
    spo2 = answers.get("medical.spo2")
    if answers.get("medical.spo2_confirmed") is not True or spo2 is None or spo2 >= 90:
        return []
    return [Warning(
        "medical.spo2_confirmed", "spo2_low",
        f"SpO2 basse ({spo2} %) confirmée sans signe de gravité déclaré : une aggravation relève "
        "du 15 (SAMU).", depends=("medical.spo2",),
    )]


def cross_check(changed: str, answers: Answers) -> list[Warning]:
    """Warnings re-checked when one of the answers they depend on changes."""
    if changed in INS_TRAITS[1:]:
        return ins_warnings(answers)
    if changed in SPO2_FIELDS:
        return spo2_warnings(answers)
    return []


def commune(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    return commune_code(value, ctx), []


def systolic(value: int, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    dia = ctx.answers.get("medical.bp_diastolic")
    if dia is not None and value <= dia:
        raise ReadError(
            f"elle doit être supérieure à la diastolique déjà saisie ({dia} mmHg)",
            "une pression systolique entre 40 et 300 mmHg, supérieure à la diastolique",
        )
    if value < 90:  # accepted (a known low baseline exists), but never silently
        return value, [Warning(
            "medical.bp_systolic", "hypotension",
            f"Pression systolique à {value} mmHg : une hypotension peut signer une instabilité "
            "hémodynamique, qui relève du 15 (SAMU). Vérifiez les signes de gravité (/modifier "
            "Signes de gravité).",
        )]
    return value, []


def diastolic(value: int, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    sys_ = ctx.answers.get("medical.bp_systolic")
    if sys_ is not None and value >= sys_:
        raise ReadError(
            f"elle doit être inférieure à la systolique ({sys_} mmHg)",
            "une pression diastolique entre 20 et 200 mmHg, inférieure à la systolique",
        )
    return value, []


def oxygen(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """`air ambiant` (`AA`) or a flow in L/min, stored as `air ambiant` or `2 L/min`."""
    from orient.dialogs.hnp_vitals import AMBIENT_AIR, flow_of
    from orient.dialogs.hnp_vitals import oxygen as read_oxygen

    expected = "« air ambiant » (ou « AA »), ou un débit en L/min (par exemple « 2 L/min » ou « O2 3l »)"
    stored = read_oxygen(value)
    if stored is None:
        raise ReadError("", expected)
    flow = flow_of(stored)
    if flow is not None and flow == 0:
        return AMBIENT_AIR, []
    if flow is not None and flow > 60:
        raise ReadError(f"un débit de {stored} dépasse 60 L/min", expected)
    return stored, []


NO_ALLERGY = "aucune allergie connue"


PERSONAL_MAIL = frozenset({
    "gmail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com", "outlook.fr", "outlook.com",
    "live.fr", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "icloud.com",
    "aol.com", "neuf.fr", "bbox.fr", "protonmail.com", "proton.me",
})


def mssante(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """Kept (the spec asks an address), but a personal mailbox is said not to be MSSanté."""
    domain = str(value).rpartition("@")[2].casefold()
    if domain in PERSONAL_MAIL:
        return value, [Warning(
            "requester.mssante", "not_mssante",
            f"« {domain} » est une messagerie personnelle, pas une messagerie sécurisée de santé "
            "(MSSanté) : aucun document médical n'y sera adressé. Corrigez-la si vous avez une "
            "adresse MSSanté (/modifier MSSanté).",
        )]
    return value, []


def allergies(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    if value.casefold() in {"aucune", "aucun", "aucune allergie", "aucune allergie connue"}:
        return NO_ALLERGY, []
    return value, []


def none_word(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """`aucun` is a real answer for history and treatments: stored as `aucun`."""
    if value.casefold() in {"aucun", "aucune", "néant", "neant"}:
        return "aucun", []
    return value, []


NO_SPECIALTY = "none"


def specialty_alt(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """Another specialty than the one wanted (or none)."""
    if value != NO_SPECIALTY and value == ctx.answers.get("request.specialty"):
        raise ReadError("c'est déjà la spécialité souhaitée",
                        "une autre spécialité de la liste, « aucune », ou Entrée pour passer")
    return value, []


_ICD = re.compile(r"([A-Z])(\d{2})\.?([0-9A-Z]{1,2})?")


def patient_age_sex(ctx: RuleContext) -> tuple[int | None, str | None]:
    """The patient's age in whole years and sex code, when known (None otherwise)."""
    born = ctx.answers.get("patient.birth_date")
    try:
        age = age_on(date.fromisoformat(born), ctx.today) if born else None
    except (TypeError, ValueError):
        age = None
    return age, ctx.answers.get("patient.sex")


def diagnosis_suggestions(ctx: RuleContext) -> list[tuple[str, str]]:
    """ICD-10 codes for the words of the diagnosis, among those that can describe this patient
    (no perinatal code for an adult, no pregnancy code for a man...)."""
    words = ctx.answers.get("medical.diagnosis") or ""
    if not words or ctx.icd10 is None:
        return []
    age, sex = patient_age_sex(ctx)
    return ctx.icd10.propose(words, age=age, sex=sex)


def diagnosis_code(value: str, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    """A typed code outside the patient's age or sex scope is kept with a warning, not refused:
    the recorded sex may not be the anatomy (transgender or intersex patients), a perinatal
    condition can be coded a while after birth, and the doctor, who knows the patient, decides;
    the warning stays with the dossier for the ward to see."""
    expected = "un code CIM-10 (par exemple I50.0 ou I500), ou le numéro d'un code proposé"
    if value.isdecimal() and len(value) <= 2 and ctx.icd10 is not None:
        proposed = diagnosis_suggestions(ctx)
        if not 1 <= int(value) <= len(proposed):
            raise ReadError(f"il n'y a pas de code proposé n° {value}", expected)
        return proposed[int(value) - 1][0], []
    m = _ICD.fullmatch(value)
    if not m:
        raise ReadError("ce n'est pas un code CIM-10", expected)
    code = f"{m[1]}{m[2]}" + (f".{m[3]}" if m[3] else "")
    if ctx.icd10 is not None and ctx.icd10.label(code) is None:
        raise ReadError("ce code n'existe pas dans la CIM-10", expected)
    if ctx.icd10 is not None:
        problem = ctx.icd10.out_of_scope(code, *patient_age_sex(ctx))
        if problem:
            return code, [Warning("medical.diagnosis_code", "icd10_out_of_scope",
                                  f"{problem} Vérifiez le code : il est enregistré tel quel.")]
    return code, []


ISOLATION_NEEDS_PRECAUTIONS = {"mdro", "xdro"}


def precautions_required(answers: Answers) -> bool:
    return answers.get("medical.isolation") in ISOLATION_NEEDS_PRECAUTIONS


def precautions(value: list[str], ctx: RuleContext) -> tuple[Any, list[Warning]]:
    if not value and precautions_required(ctx.answers):
        raise ReadError(
            "un portage de BMR ou de BHRe impose au moins une précaution",
            "une ou plusieurs précautions (par exemple Contact)",
        )
    return value, []


def consent(value: bool, ctx: RuleContext) -> tuple[Any, list[Warning]]:
    if not value:
        msg = "Sans l'accord du patient (ou de son représentant), le dossier ne pourra pas être signé."
        return value, [Warning("consent.patient_informed", "no_consent", msg)]
    return value, []


def sign_obstacle(answers: Answers) -> str | None:
    if answers.get("consent.patient_informed") is not True:
        return ("le patient (ou son représentant) doit être informé et d'accord pour signer ; "
                "une fois son accord obtenu : /modifier accord")
    return None
