"""The demo catalogue of inpatient units, derived from each establishment's FINESS category and name.

Ward-level data is not public, so Orient derives demonstration units with fixed rules; every unit
made here has `demo=True`, and every screen and output that shows one says so. A real directory
export (`orient directory import-ror`) replaces the demo units of the establishments it covers.

Rules (see also docs/directory.md):
1. Sites where nobody is admitted overnight get no unit, by name (compared without accents, dots or
   repeated spaces): day or night care (any name with the word JOUR or NUIT, HJ, HDJ), CMP and its
   variants (CMPP, CMPEA), CATTP, CASP, SMUR, schools and institutes (ECOLE, IFSI, INSTITUT DE
   FORMATION), dialysis (DIALYSE, HEMODIALYSE...), hospitalisation at home (HAD, HOPITAL A DOMICILE),
   consultations, imaging, laboratories, transfusion, screening and vaccination centres, mobile
   teams, part-time care, therapeutic flats and workshops, and rehabilitation or long-stay sites
   (SOINS DE SUITE, READAPTATION, SSR, MOYEN/LONG SEJOUR, USLD), which take no unscheduled acute
   admission; nor do family planning, sexual health and TB clinics (PLANIFICATION, CEGIDD, CLAT),
   prison health units and the secure units for detainees (PENITENTIAIRE, USMP, UCSA, SMPR, UHSA,
   UHSI, MAISON D'ARRET, DETENTION), medico-social, foster care, prevention and education centres.
   Sites for children (ENFANTS, PEDIATRIE, INFANTO-JUVENILE, ADOLESCENTS) or maternity get no adult
   unit either.
2. Sites that take no unscheduled acute admission although their category is a hospital's get no
   unit, by name: convalescence (CONVALESCENCE, CONVALESCENTS), rest homes (REPOS), cure and
   post-cure homes (CURE), long stay (LONG SEJOUR, LONGUE DUREE, USLD, CHRONIQUES), homes for the
   elderly (PERSONNES AGEES), villas (VILLA), thermal hospitals, therapeutic homes and foyers.
   An annex (ANNEXE) gets no somatic unit (acute medicine is on the main site); a psychiatric
   annex keeps its psychiatric units. A surgical or ophthalmology site (CHIRURGIE,
   NEUROCHIRURGIE, OPHTALMOLOGIE) gets no medical unit.
3. By category (FINESS TRE-R66):
   - 101 CHR/CHU: most specialties (all but old-age psychiatry), isolation rooms, bariatric beds;
     infectious diseases declare ROR 077;
   - 355 CH: general medicine, acute geriatrics, internal medicine, cardiology, pneumology,
     gastroenterology, neurology, palliative care; about one CH in five (stable hash of its
     FINESS) also has a general medicine unit oriented to infectious diseases (ROR 486);
   - 106 former local hospital: general medicine and geriatrics;
   - 292 psychiatric hospital: adult psychiatry and old-age psychiatry, except a site whose name
     says medico-surgical (MEDICO CHIRURGICAL: the CENTRE MEDICO CHIRURGICAL DES HOPITAUX DE
     LANNEMEZAN is filed as psychiatric), which is read as a CH (355);
   - 365 multidisciplinary private clinic: general medicine, cardiology, gastroenterology, pneumology;
   - 129 medical care: general medicine and internal medicine;
   - 131 cancer centre: medical oncology, haematology, palliative care;
   - 109 rehabilitation (SSR), 362 long-term care, 128 surgical and 122 obstetric establishments:
     no HNP unit.
   A name that says psychiatry or mental health (PSY, SANTE MENTALE) gives a psychiatric site in any
   category. A site named for one field offers that field only, whatever its category:
   cancer (CANCER, ONCOPOLE, ONCOLOGIE, CLCC: the cancer centre's three), geriatrics (GERIATRIE,
   GERONTOLOGIE), cardiology, pneumology, nephrology, rheumatology, infectious diseases, palliative
   care; general medicine too when the name also says medical (CLINIQUE MEDICALE ET
   CARDIOLOGIQUE).
4. Unit properties come from a stable hash of (FINESS, specialty), so the catalogue is the same on
   every machine: adult units take 18 years and over (geriatrics and old-age psychiatry 65 and over,
   adult psychiatry 18 to 64); about 1 in 8 takes no direct admission; oxygen everywhere but in
   psychiatry; isolation rooms always in CHU/CHR, else about 60 %; bariatric beds always in CHU/CHR,
   else about 30 %; availability about 60 % available, 25 % limited, 15 % full. The phone is the
   establishment's switchboard when FINESS gives one, never invented.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from orient.dialogs.hnp import SPECIALTIES, SPECIALTY_ACTIVITIES
from orient.models.directory import Availability, Establishment, Unit
from orient.models.text import strip_accents

SPECIALTY_LABELS = {code: label for code, label, _ in SPECIALTIES}

_NO_ADMISSION = re.compile(
    r"\b(JOUR|HJ|HDJ|CMP\w*|CATTP|CASP|SMUR|ECOLE|IFSI|IFAS|INSTITUT DE FORMATION|\w*DIALYSE|HAD|"
    r"(HOPITAL|HOSPITALISATION|HOSP) A DOMICILE|CONSULTATIONS?|IRM|SCANNER|IMAGERIE|RADIOTHERAPIE|"
    r"LABO\w*|BIOLOGIE|TRANSFUSION|CDAG|DEPISTAGE|VACCINATION|ANTI ?TUBERCUL\w*|EQUIPE MOBILE|"
    r"TEMPS PARTIEL|TP|NUIT|ATELIER|APPARTEMENTS?|POSTCURE|CSAPA|PMI|CAMSP|ENDOSCOPIE|PLATEFORME|"
    r"PHARMACIE|SOINS DE SUITE|READAPTATION|REEDUCATION|SSR|MOYEN SEJOUR|LONG SEJOUR|USLD|"
    # not wards a community doctor refers to: family planning, sexual health and TB clinics,
    # prison health units (and the secure units for detainees), medico-social centres, foster
    # care, prevention and education centres, part-time care written TPS
    r"PLANIF\w*|CEGIDD|CLAT|PENITENTI\w*|PENITENTIE\w*|USMP|UCSA|SMPR|UHSA|UHSI|"
    r"MAISON D\W?ARRET|MAISON CENTRALE|DETENTION|MEDICO\W?SOCIAL|ACCUEIL FAMILIAL|PREVENTION|"
    r"EDUCATION|TPS|LIEU ACCUEIL|INFORMATION)\b"
)
_CHILDREN = re.compile(r"\b(INFANTO\w*|ENFANTS?|PEDO\w*|PEDIATR\w*|ADOLESCENTS?|JUVENILE|MATERNITE)\b")
_PSY = re.compile(r"\b(PSY\w*|SANTE MENTALE|HOSP\.? SANTE MENTALE)\b")
# hospital sites that take no unscheduled acute admission (rule 2)
_NOT_ACUTE = re.compile(
    r"\b(CONVALESC\w*|REPOS|CURE|POST ?CURE|LONGS? SEJOURS?|LONGUE DUREE|USLD|CHRONIQUES?|"
    r"PERSONNES AGEES|VILLAS?|THERMAL|THERMES|FOYERS?|MAISON( \w+){0,2} THERAPEUTIQUE)\b"
)
_ANNEX = re.compile(r"\bANNEXE\b")
_SURGICAL = re.compile(r"\b(NEURO)?CHIRURGIE\b|\bOPHTALMO\w*")
_MEDICO_SURGICAL = re.compile(r"\bMEDICO CHIRURGICA\w*")
_MEDICAL = re.compile(r"\b(MEDICALE?|MEDECINE)\b")

CANCER_CENTRE = ("oncology", "haematology", "palliative_care")
PSYCHIATRIC = ("psychiatry", "old_age_psychiatry")
BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "101": (
        "general_medicine", "acute_geriatrics", "internal_medicine", "cardiology", "pulmonology",
        "gastroenterology", "neurology", "nephrology", "endocrinology", "haematology", "oncology",
        "palliative_care", "rheumatology", "psychiatry", "infectious_diseases",
    ),
    "355": (
        "general_medicine", "acute_geriatrics", "internal_medicine", "cardiology", "pulmonology",
        "gastroenterology", "neurology", "palliative_care",
    ),
    "106": ("general_medicine", "acute_geriatrics"),
    "292": PSYCHIATRIC,
    "365": ("general_medicine", "cardiology", "gastroenterology", "pulmonology"),
    "129": ("general_medicine", "internal_medicine"),
    "131": CANCER_CENTRE,
}
# a site named for one field offers that field only (the first pattern found decides)
BY_NAME: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\b(CANCER\w*|ONCOPOLE|ONCOLOG\w*|CLCC)\b"), CANCER_CENTRE),
    (re.compile(r"\b(GERIATR\w*|GERONTO\w*)"), ("acute_geriatrics",)),
    (re.compile(r"\bCARDIO"), ("cardiology",)),
    (re.compile(r"\bPNEUMO"), ("pulmonology",)),
    (re.compile(r"\bNEPHRO"), ("nephrology",)),
    (re.compile(r"\bRHUMATO"), ("rheumatology",)),
    (re.compile(r"\bINFECTI"), ("infectious_diseases",)),
    (re.compile(r"\bSOINS PALLIATIFS\b"), ("palliative_care",)),
)
INFECTIOUS_CH_PERCENT = 20  # CH sites with a general medicine unit oriented to infectious diseases
UNIVERSITY = {"101"}
AGE_RANGE = {"acute_geriatrics": (65, 120), "old_age_psychiatry": (65, 120), "psychiatry": (18, 64)}


def _plain(name: str) -> str:
    """Upper case without accents; dotted initials joined (C.A.T.T.P. -> CATTP); other punctuation
    as spaces, runs of spaces folded."""
    text = strip_accents(name).upper()
    text = re.sub(r"(?<=\b[A-Z])\.(?=[A-Z]\b)", "", text).replace(".", " ")
    return " ".join(re.sub(r"[^A-Z0-9 ]", " ", text).split())


def admits_patients(est: Establishment) -> bool:
    """False for sites where nobody is admitted overnight (day hospitals, CMP, SMUR...)."""
    return _NO_ADMISSION.search(_plain(est.name)) is None


def adult_site(est: Establishment) -> bool:
    """False for sites for children or mothers only: the HNP specialties are adult ones."""
    return _CHILDREN.search(_plain(est.name)) is None


def acute_site(est: Establishment) -> bool:
    """False for hospital sites that take no unscheduled acute admission: convalescence, rest and
    cure homes, long stay, villas, therapeutic homes (rule 2)."""
    return _NOT_ACUTE.search(_plain(est.name)) is None


def specialties_for(est: Establishment) -> tuple[str, ...]:
    if not admits_patients(est) or not adult_site(est) or not acute_site(est):
        return ()
    name = _plain(est.name)
    if _PSY.search(name):
        return PSYCHIATRIC
    category = est.category
    if category not in BY_CATEGORY:
        return ()
    if category == "292" and _MEDICO_SURGICAL.search(name):
        category = "355"  # a general hospital filed under the psychiatric category
    if category == "292":
        return PSYCHIATRIC
    if _ANNEX.search(name) or _SURGICAL.search(name):
        return ()
    for pattern, specialties in BY_NAME:
        if pattern.search(name):
            if _MEDICAL.search(name) and "general_medicine" not in specialties:
                return ("general_medicine", *specialties)
            return specialties
    found = BY_CATEGORY[category]
    if category == "355" and _roll(est.finess, "infectious_diseases", "site") < INFECTIOUS_CH_PERCENT:
        found = (*found, "infectious_diseases")
    return found


def _roll(finess: str, specialty: str, what: str) -> int:
    """A stable number 0..99 for this unit and property."""
    digest = hashlib.sha256(f"{finess}:{specialty}:{what}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def _activities(est: Establishment, specialty: str) -> tuple[str, ...]:
    """The first ROR activity of the specialty; a former local hospital declares plain
    geriatrics (050) rather than acute geriatric medicine (491), and a CH's infectious diseases
    unit is general medicine oriented to infectious diseases (486)."""
    if specialty == "acute_geriatrics" and est.category == "106":
        return ("050",)
    if specialty == "infectious_diseases" and est.category == "355":
        return ("486",)
    return SPECIALTY_ACTIVITIES[specialty][:1]


def demo_units(est: Establishment, declared_at: str) -> Iterator[Unit]:
    university = est.category in UNIVERSITY
    for specialty in specialties_for(est):
        availability = _roll(est.finess, specialty, "availability")
        age_min, age_max = AGE_RANGE.get(specialty, (18, 120))
        yield Unit(
            id=f"{est.finess}-{specialty}",
            finess=est.finess,
            name=SPECIALTY_LABELS[specialty],
            activities=_activities(est, specialty),
            age_min=age_min,
            age_max=age_max,
            direct_admission=_roll(est.finess, specialty, "direct") >= 12,
            isolation_rooms=university or _roll(est.finess, specialty, "isolation") < 60,
            oxygen=specialty not in ("psychiatry", "old_age_psychiatry"),
            bariatric_beds=university or _roll(est.finess, specialty, "bariatric") < 30,
            availability=(
                Availability.AVAILABLE if availability < 60
                else Availability.LIMITED if availability < 85
                else Availability.FULL
            ),
            availability_at=declared_at,
            phone=est.phone,
            demo=True,
        )


def catalogue(establishments: Iterable[Establishment], declared_at: str) -> list[Unit]:
    return [unit for est in establishments for unit in demo_units(est, declared_at)]
