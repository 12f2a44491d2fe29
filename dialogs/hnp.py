"""The HNP conversation (spec/hnp-dossier.md): every field, in the spec's order, with its French
question, why it is asked, its condition and who may fill it. This is the one source of truth the
engine, the review, the replay, the letter and the tests read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orient.dialogs import hnp_proposals, hnp_runs, hnp_vitals
from orient.dialogs import hnp_rules as rules
from orient.dialogs.base import Dialog
from orient.models.fields import Answers, FieldSpec, FieldType, Fill, Req

T = FieldType
D, S = Fill.DOCTOR, Fill.SECRETARY

SECTIONS = (
    ("requester", "Demandeur"),
    ("patient", "Identité du patient"),
    ("context", "Contexte de vie"),
    ("request", "La demande"),
    ("medical", "Volet médical"),
    ("logistics", "Organisation"),
    ("consent", "Consentement"),
)

RED_FLAGS = (
    ("respiratory_distress", "Détresse respiratoire"),
    ("haemodynamic_instability", "Instabilité hémodynamique"),
    ("altered_consciousness", "Trouble aigu de la conscience"),
    ("chest_pain", "Douleur thoracique évocatrice de SCA"),
    ("acute_neuro_deficit", "Déficit neurologique aigu"),
    ("active_bleeding", "Hémorragie active"),
    ("severe_sepsis", "Sepsis grave"),
)

# Specialty code, French label, ROR operational activity codes (TRE-R211) a unit must declare.
SPECIALTIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("general_medicine", "Médecine polyvalente", ("083",)),
    ("acute_geriatrics", "Gériatrie aiguë", ("491", "050")),
    ("internal_medicine", "Médecine interne", ("085",)),
    ("cardiology", "Cardiologie", ("013",)),
    ("pulmonology", "Pneumologie", ("114",)),
    ("gastroenterology", "Gastro-entérologie", ("046",)),
    ("neurology", "Neurologie", ("097", "098")),
    ("nephrology", "Néphrologie", ("095",)),
    ("endocrinology", "Endocrinologie", ("041",)),
    ("haematology", "Hématologie", ("055",)),
    ("oncology", "Oncologie médicale", ("102",)),
    ("palliative_care", "Soins palliatifs", ("076", "170")),
    ("rheumatology", "Rhumatologie", ("131",)),
    ("psychiatry", "Psychiatrie adulte", ("229",)),
    ("old_age_psychiatry", "Psychiatrie du sujet âgé", ("051",)),
    ("infectious_diseases", "Maladies infectieuses et tropicales", ("077", "486")),
)
SPECIALTY_ACTIVITIES = {code: acts for code, _, acts in SPECIALTIES}
NO_SPECIALTY = rules.NO_SPECIALTY  # request.specialty_alt: no other specialty is acceptable

BEYOND_48H = (
    "Une HNP est une admission dans les 48 h au plus ; pour plus tard, programmez une "
    "hospitalisation ou une consultation."
)


def _is(field_id: str, value: object):
    return lambda a: a.get(field_id) == value


def _spo2_low(a: Answers) -> bool:
    spo2 = a.get("medical.spo2")
    return spo2 is not None and spo2 < 90


FIELDS: tuple[FieldSpec, ...] = (
    # requester: Demandeur
    FieldSpec(
        "requester.rpps", "N° RPPS du médecin demandeur", T.TEXT, Req.R, D,
        "Quel est le numéro RPPS du médecin demandeur ?",
        "Le RPPS identifie le médecin qui adresse le patient ; il est vérifié par sa clé (Luhn).",
        identifier=True, prefilled=True, rule=rules.rpps,
        example="un numéro RPPS de 11 chiffres",
    ),
    FieldSpec(
        "requester.name", "Nom du médecin demandeur", T.NAME, Req.R, S,
        "Quel est le nom du médecin demandeur ?",
        "L'unité receveuse doit savoir quel médecin adresse le patient.",
        prefilled=True,
    ),
    FieldSpec(
        "requester.callback_phone", "Téléphone pour être rappelé", T.PHONE, Req.R, S,
        "À quel numéro l'unité peut-elle rappeler le médecin demandeur ?",
        "Le service receveur doit pouvoir rappeler le médecin pour discuter de l'admission.",
    ),
    FieldSpec(
        "requester.mssante", "Messagerie sécurisée (MSSanté)", T.EMAIL, Req.O, S,
        "Quelle est l'adresse MSSanté du médecin ? (facultatif, Entrée pour passer)",
        "La messagerie sécurisée de santé permet d'échanger des documents médicaux en toute sécurité.",
        rule=rules.mssante, suggest=hnp_proposals.mssante,
        suggest_title="Adresse proposée d'après votre nom (tapez 1 pour la reprendre ; vérifiez-la) :",
    ),
    # patient: Identité du patient
    FieldSpec(
        "patient.birth_name", "Nom de naissance", T.NAME, Req.R, S,
        "Quel est le nom de naissance du patient ?",
        "Trait strict de l'identité nationale de santé (INS) ; enregistré en majuscules sans accents.",
        ins_name=True,
    ),
    FieldSpec(
        "patient.first_names", "Prénom(s) de naissance", T.NAME, Req.R, S,
        "Quels sont les prénoms de naissance du patient (tous, séparés par des espaces) ?",
        "Trait strict INS : la liste des prénoms de naissance ; le premier est le « premier prénom ».",
    ),
    FieldSpec(
        "patient.used_name", "Nom utilisé", T.NAME, Req.O, S,
        "Le patient utilise-t-il un autre nom (nom d'usage) ? (facultatif)",
        "Le nom d'usage aide l'équipe à retrouver et appeler le patient.",
    ),
    FieldSpec(
        "patient.birth_date", "Date de naissance", T.DATE, Req.R, S,
        "Quelle est la date de naissance du patient ? (jj/mm/aaaa)",
        "Trait strict INS ; l'âge décide aussi des unités possibles (services adultes dès 18 ans).",
        rule=rules.birth_date,
    ),
    FieldSpec(
        "patient.sex", "Sexe", T.CHOICE, Req.R, S,
        "Quel est le sexe du patient ?",
        "Trait strict INS, comparé au matricule INS.",
        options=(("F", "Féminin"), ("M", "Masculin"), ("I", "Indéterminé")),
    ),
    FieldSpec(
        "patient.birth_place", "Lieu de naissance", T.TEXT, Req.O, S,
        "Quelle est la commune de naissance du patient ? (nom, code postal ou code INSEE ; "
        "99 + code pays si né à l'étranger ; facultatif)",
        "Trait strict INS : son département est comparé au matricule INS.",
        rule=rules.birth_place,
        example="un nom de commune, un code postal ou un code INSEE, ou 99 suivi du code pays",
    ),
    FieldSpec(
        "patient.ins", "Matricule INS (NIR/NIA)", T.TEXT, Req.O, S,
        "Quel est le matricule INS du patient (15 caractères) ? (facultatif)",
        "Le matricule INS identifie le patient sans ambiguïté ; sa clé est vérifiée, et il n'est "
        "transmis que si l'identité est qualifiée.",
        identifier=True, rule=rules.ins,
        example="le matricule INS de 15 caractères (NIR ou NIA, clé comprise)",
    ),
    FieldSpec(
        "patient.identity_status", "Statut de l'identité", T.CHOICE, Req.R, S,
        "Quel est le statut de l'identité du patient ?",
        "Référentiel INS : le matricule ne quitte l'outil que pour une identité qualifiée "
        "(vérifiée sur pièce et par le téléservice INSi).",
        options=(
            ("provisoire", "Provisoire"),
            ("recuperee", "Récupérée"),
            ("validee", "Validée"),
            ("qualifiee", "Qualifiée"),
        ),
        rule=rules.identity_status,
    ),
    FieldSpec(
        "patient.commune", "Commune de résidence", T.TEXT, Req.R, S,
        "Dans quelle commune réside le patient ? (nom, code postal ou code INSEE)",
        "La commune sert à proposer les unités les plus proches du domicile.",
        rule=rules.commune,
        example="un nom de commune, un code postal ou un code INSEE",
    ),
    FieldSpec(
        "patient.address", "Adresse", T.TEXT, Req.O, S,
        "Quelle est l'adresse du patient ? (facultatif)",
        "L'adresse aide à organiser le transport et le retour à domicile.",
    ),
    FieldSpec(
        "patient.phone", "Téléphone du patient", T.PHONE, Req.O, S,
        "Quel est le numéro de téléphone du patient ? (facultatif)",
        "L'unité peut avoir à joindre le patient pour organiser son arrivée.",
    ),
    # context: Contexte de vie
    FieldSpec(
        "context.living", "Lieu de vie", T.CHOICE, Req.R, S,
        "Où vit le patient ?",
        "Le lieu de vie prépare la sortie dès l'admission.",
        options=(
            ("home_alone", "À domicile, seul"),
            ("home_with_others", "À domicile, avec entourage"),
            ("nursing_home", "EHPAD"),
            ("senior_residence", "Résidence autonomie"),
            ("other_facility", "Autre établissement médico-social"),
            ("no_fixed_home", "Sans domicile stable"),
        ),
    ),
    FieldSpec(
        "context.caregiver_name", "Aidant principal ou personne de confiance", T.NAME, Req.O, S,
        "Qui est l'aidant principal ou la personne de confiance ? (facultatif)",
        "L'équipe doit savoir qui prévenir et qui associer aux décisions (CSP art. L1111-6).",
    ),
    FieldSpec(
        "context.caregiver_phone", "Téléphone de l'aidant", T.PHONE, Req.C, S,
        "Quel est le numéro de téléphone de l'aidant ?",
        "Demandé parce qu'un aidant est nommé : l'unité doit pouvoir le joindre.",
        condition=lambda a: bool(a.get("context.caregiver_name")),
    ),
    FieldSpec(
        "context.legal_protection", "Mesure de protection juridique", T.CHOICE, Req.R, S,
        "Le patient bénéficie-t-il d'une mesure de protection juridique ?",
        "Une mesure de protection change qui consent et qui est informé.",
        options=(
            ("none", "Aucune"),
            ("safeguard", "Sauvegarde de justice"),
            ("curatorship", "Curatelle"),
            ("guardianship", "Tutelle"),
            ("family_authorisation", "Habilitation familiale"),
            ("future_mandate", "Mandat de protection future"),
            ("pending", "En cours"),
            ("unknown", "Inconnue"),
        ),
    ),
    FieldSpec(
        "context.gp_is_requester", "Le médecin demandeur est-il le médecin traitant ?", T.BOOL,
        Req.R, S,
        "Le médecin demandeur est-il le médecin traitant du patient ? (oui/non)",
        "Le médecin traitant reçoit le compte rendu d'hospitalisation.",
        letter_label="Demandeur médecin traitant du patient",
    ),
    FieldSpec(
        "context.gp_name", "Médecin traitant", T.NAME, Req.C, S,
        "Qui est le médecin traitant du patient ?",
        "Demandé parce que le demandeur n'est pas le médecin traitant, qui doit être informé.",
        condition=_is("context.gp_is_requester", False),
    ),
    # request: La demande
    FieldSpec(
        "request.red_flags", "Signes de gravité", T.MULTI, Req.R, D,
        "Le patient présente-t-il un de ces signes de gravité ? (numéros séparés par des virgules, "
        "ou « aucun »)",
        "Un patient présentant un signe de gravité relève du SAMU (15), pas d'une admission directe "
        "(instruction DGOS 2021/252) : cette question passe avant toutes les autres.",
        options=RED_FLAGS, blocks=True,
    ),
    FieldSpec(
        "request.specialty", "Spécialité souhaitée", T.CHOICE, Req.R, D,
        "Dans quelle spécialité souhaitez-vous l'admission ?",
        "La spécialité détermine les unités proposées (activités opérationnelles du ROR).",
        options=tuple((code, label) for code, label, _ in SPECIALTIES),
    ),
    FieldSpec(
        "request.specialty_alt", "Autre spécialité acceptable", T.CHOICE, Req.O, D,
        "Une autre spécialité serait-elle acceptable, à défaut ? (facultatif, Entrée pour passer)",
        "Les unités de cette autre spécialité sont aussi proposées, classées après celles de la "
        "spécialité souhaitée à distance comparable (par exemple : médecine polyvalente, à défaut "
        "pneumologie).",
        options=(*((code, label) for code, label, _ in SPECIALTIES), (NO_SPECIALTY, "Aucune")),
        rule=rules.specialty_alt,
    ),
    FieldSpec(
        "request.timing", "Délai souhaité", T.CHOICE, Req.R, D,
        "Dans quel délai l'admission est-elle souhaitée ?",
        "Une HNP est une admission sous 48 h sans passage aux urgences (instruction DGOS 2021/252).",
        options=(("today", "Aujourd'hui"), ("within_24h", "Sous 24 h"), ("within_48h", "Sous 48 h")),
        refusal_hint=BEYOND_48H,
    ),
    FieldSpec(
        "request.prior_contact", "Avez-vous déjà échangé avec un médecin hospitalier ?", T.BOOL,
        Req.O, D,
        "Avez-vous déjà échangé avec un médecin hospitalier à propos de ce patient ? (oui/non, facultatif)",
        "Un accord préalable avec un médecin du service accélère la réponse.",
        letter_label="Échange préalable avec un médecin hospitalier",
    ),
    FieldSpec(
        "request.prior_contact_name", "Nom et service de ce médecin", T.TEXT, Req.C, D,
        "Avec quel médecin, et de quel service ?",
        "Demandé parce qu'un échange a eu lieu : l'unité retrouvera l'interlocuteur.",
        condition=_is("request.prior_contact", True),
    ),
    # medical: Volet médical
    FieldSpec(
        "medical.reason", "Motif de la demande d'hospitalisation", T.TEXT, Req.L, D,
        "Quel est le motif de la demande d'hospitalisation ?",
        "Mention obligatoire de la lettre de liaison (CSP art. R1112-1-1).",
        min_length=15, example="un motif d'au moins 15 caractères",
    ),
    FieldSpec(
        "medical.diagnosis", "Hypothèse diagnostique", T.TEXT, Req.R, D,
        "Quelle est votre hypothèse diagnostique ?",
        "L'hypothèse oriente le choix de l'unité et la préparation de l'admission.",
    ),
    FieldSpec(
        "medical.diagnosis_code", "Code CIM-10", T.TEXT, Req.O, D,
        "Quel est le code CIM-10 de cette hypothèse ? (facultatif)",
        "Le code CIM-10 rend le diagnostic lisible sans ambiguïté par l'établissement.",
        identifier=True, rule=rules.diagnosis_code, suggest_from="medical.diagnosis",
        suggest=rules.diagnosis_suggestions,
        example="un code CIM-10 (par exemple I50.0 ou I500)",
    ),
    FieldSpec(
        "medical.history", "Antécédents", T.TEXT, Req.R, D,
        "Quels sont les antécédents du patient ? (« aucun » si aucun)",
        "Les antécédents conditionnent la prise en charge à l'arrivée.",
        rule=rules.none_word,
    ),
    FieldSpec(
        "medical.treatments", "Traitements en cours", T.TEXT, Req.L, D,
        "Quels sont les traitements en cours ? (« aucun » si aucun)",
        "Mention obligatoire de la lettre de liaison (CSP art. R1112-1-1).",
        rule=rules.none_word, example="la liste des traitements, ou « aucun »",
    ),
    FieldSpec(
        "medical.anticoagulation", "Anticoagulant ou antiagrégant", T.CHOICE, Req.R, D,
        "Le patient prend-il un anticoagulant ou un antiagrégant ?",
        "Un anticoagulant change les gestes possibles à l'arrivée (ponctions, chirurgie).",
        options=(
            ("none", "Non"),
            ("vka", "AVK"),
            ("doac", "AOD"),
            ("heparin", "Héparine"),
            ("antiplatelet", "Antiagrégant plaquettaire"),
            ("unknown", "Inconnu"),
        ),
        suggest=hnp_proposals.anticoagulation,
        suggest_title="Proposé d'après les traitements en cours (tapez son numéro pour le retenir) :",
    ),
    FieldSpec(
        "medical.allergies", "Allergies connues", T.TEXT, Req.L, D,
        "Le patient a-t-il des allergies connues ? (« aucune » si aucune)",
        "Mention obligatoire de la lettre de liaison (CSP art. R1112-1-1).",
        rule=rules.allergies, example="la liste des allergies, ou « aucune »",
    ),
    FieldSpec(
        "medical.bp_systolic", "Pression artérielle systolique (mmHg)", T.INT, Req.O, D,
        "Pression artérielle (mmHg) ? (par exemple « 128/74 » ; ou toutes les constantes sur une "
        "ligne : « TA 128/74 FC 96 FR 24 SpO2 94 % AA T 38,5 poids 62 » ; facultatif)",
        "Les constantes récentes aident l'unité à juger la stabilité du patient.",
        units=("mmHg", "mm Hg"), bounds=(40, 300), rule=rules.systolic,
    ),
    FieldSpec(
        "medical.bp_diastolic", "Pression artérielle diastolique (mmHg)", T.INT, Req.O, D,
        "Pression artérielle diastolique (mmHg) ? (facultatif)",
        "Les constantes récentes aident l'unité à juger la stabilité du patient.",
        units=("mmHg", "mm Hg"), bounds=(20, 200), rule=rules.diastolic,
    ),
    FieldSpec(
        "medical.heart_rate", "Fréquence cardiaque (/min)", T.INT, Req.O, D,
        "Fréquence cardiaque (/min) ? (facultatif)",
        "Les constantes récentes aident l'unité à juger la stabilité du patient.",
        units=("/min", "bpm", "min"), bounds=(20, 250),
    ),
    FieldSpec(
        "medical.spo2", "SpO2 (%)", T.INT, Req.O, D,
        "Saturation en oxygène, SpO2 (%) ? (avec l'oxygène : « 94 % AA », « 89 % sous 2 L » ; "
        "facultatif)",
        "Une SpO2 basse peut signer une détresse respiratoire, qui relève du 15.",
        units=("%",), bounds=(50, 100),
    ),
    FieldSpec(
        "medical.spo2_confirmed", "SpO2 basse sans signe de gravité : confirmez-vous ?", T.BOOL,
        Req.C, D,
        "La SpO2 saisie est inférieure à 90 % sans signe de gravité déclaré : confirmez-vous "
        "cette valeur ? (oui/non)",
        "Une SpO2 sous 90 % évoque une détresse respiratoire : on vérifie qu'il ne s'agit pas "
        "d'une erreur de saisie. « non » efface la valeur pour la saisir à nouveau.",
        condition=_spo2_low, retract=("medical.spo2",),
        letter_label="SpO2 basse (< 90 %) confirmée, sans signe de gravité",
    ),
    FieldSpec(
        "medical.temperature", "Température (°C)", T.DEC, Req.O, D,
        "Température (°C) ? (facultatif)",
        "La fièvre oriente vers une infection et les précautions à prendre.",
        units=("°C", "°", "C"), bounds=(30.0, 44.0),
    ),
    FieldSpec(
        "medical.resp_rate", "Fréquence respiratoire (/min)", T.INT, Req.O, D,
        "Fréquence respiratoire (/min) ? (facultatif)",
        "Une polypnée est un signe précoce de gravité, respiratoire ou septique.",
        units=("/min", "/mn", "min", "cpm"), bounds=(5, 60),
    ),
    FieldSpec(
        "medical.oxygen", "Oxygène au moment de la demande", T.TEXT, Req.O, D,
        "Le patient est-il à l'air ambiant ou sous oxygène ? (« AA », ou un débit : « 2 L/min » ; "
        "facultatif)",
        "La SpO2 se lit avec l'oxygène reçu ; une oxygénothérapie demande une unité qui peut la "
        "poursuivre.",
        rule=rules.oxygen,
        example="« air ambiant » (ou « AA »), ou un débit en L/min (par exemple « 2 L/min » ou « O2 3l »)",
    ),
    FieldSpec(
        "medical.weight", "Poids (kg)", T.DEC, Req.O, D,
        "Poids (kg) ? (facultatif)",
        "Le poids guide les doses des traitements et le matériel (lit, brancard) à prévoir.",
        units=("kg",), bounds=(1, 350),
    ),
    FieldSpec(
        "medical.isolation", "Portage de bactérie multirésistante", T.CHOICE, Req.R, D,
        "Le patient est-il porteur d'une bactérie multirésistante ?",
        "Un portage de BMR ou de BHRe demande une chambre d'isolement.",
        options=(("none_known", "Aucun connu"), ("mdro", "BMR"), ("xdro", "BHRe"), ("unknown", "Inconnu")),
    ),
    FieldSpec(
        "medical.precautions", "Précautions complémentaires", T.MULTI, Req.O, D,
        "Quelles précautions complémentaires faut-il prendre ? (numéros séparés par des virgules, "
        "ou « aucune »)",
        "Grippe, tuberculose ou portage de BMR/BHRe imposent des précautions ; obligatoire en cas "
        "de BMR ou de BHRe.",
        options=(("contact", "Contact"), ("droplet", "Gouttelettes"), ("airborne", "Air"),
                 ("protective", "Protecteur")),
        required_when=rules.precautions_required, rule=rules.precautions,
    ),
    FieldSpec(
        "medical.mobility", "Mobilité", T.CHOICE, Req.R, D,
        "Quelle est la mobilité du patient ?",
        "La mobilité décide du transport et du lit à prévoir.",
        options=(
            ("independent", "Autonome"),
            ("walking_aid", "Aide technique"),
            ("human_help", "Aide humaine"),
            ("wheelchair", "Fauteuil"),
            ("bedridden", "Alité"),
        ),
    ),
    FieldSpec(
        "medical.cognition", "Troubles cognitifs", T.CHOICE, Req.R, D,
        "Le patient a-t-il des troubles cognitifs ?",
        "Les troubles cognitifs orientent l'unité (gériatrie) et la surveillance.",
        options=(
            ("none", "Aucun"),
            ("mild", "Légers"),
            ("severe", "Sévères"),
            ("behavioural", "Troubles du comportement"),
            ("unknown", "Inconnus"),
        ),
    ),
    FieldSpec(
        "medical.gir", "GIR (AGGIR)", T.INT, Req.O, D,
        "Quel est le GIR du patient (1 à 6) ? (facultatif)",
        "Le GIR (grille AGGIR) mesure la dépendance et prépare la sortie.",
        bounds=(1, 6),
    ),
    FieldSpec(
        "medical.care_level", "Niveau de soins discuté", T.CHOICE, Req.O, D,
        "Un niveau de soins a-t-il été discuté ? (facultatif)",
        "Le niveau de soins discuté évite des gestes non souhaités par le patient.",
        options=(
            ("not_discussed", "Non discuté"),
            ("full", "Tous soins"),
            ("no_icu", "Pas de réanimation"),
            ("comfort", "Soins de confort"),
        ),
    ),
    FieldSpec(
        "medical.goal", "Objectif de l'hospitalisation", T.TEXT, Req.O, D,
        "Quel est l'objectif de l'hospitalisation ? (facultatif)",
        "L'objectif aide l'unité à préparer le séjour et la sortie.",
    ),
    # logistics: Organisation
    FieldSpec(
        "logistics.transport", "Mode de transport", T.CHOICE, Req.R, S,
        "Comment le patient viendra-t-il ?",
        "L'unité doit prévoir l'accueil selon le mode d'arrivée.",
        options=(
            ("own_means", "Moyen personnel"),
            ("taxi", "Taxi conventionné"),
            ("vsl", "VSL"),
            ("ambulance", "Ambulance (allongé)"),
        ),
    ),
    FieldSpec(
        "logistics.needs", "Besoins particuliers", T.MULTI, Req.O, S,
        "Le patient a-t-il des besoins particuliers ? (numéros séparés par des virgules, ou « aucun »)",
        "Oxygène ou lit bariatrique limitent les unités possibles.",
        options=(
            ("oxygen", "Oxygène"),
            ("bariatric_bed", "Lit bariatrique"),
            ("single_room", "Chambre seule"),
            ("interpreter", "Interprète"),
        ),
    ),
    FieldSpec(
        "logistics.companion", "Le patient sera-t-il accompagné ?", T.BOOL, Req.O, S,
        "Le patient sera-t-il accompagné ? (oui/non, facultatif)",
        "L'unité prévoit l'accueil de l'accompagnant.",
        letter_label="Patient accompagné",
    ),
    # consent
    FieldSpec(
        "consent.patient_informed", "Le patient (ou son représentant) est informé et d'accord",
        T.BOOL, Req.R, D,
        "Le patient (ou son représentant) est-il informé de cette demande et d'accord ? (oui/non)",
        "L'information et l'accord du patient sont requis (CSP art. L1111-4) ; sans accord, "
        "pas de signature.",
        rule=rules.consent,
    ),
)

_RED_FLAG_LABELS = dict(RED_FLAGS)


def blocked_reason(answers: Answers) -> str | None:
    signs = answers.get(rules.RED_FLAG_FIELD) or []
    if not signs:
        return None
    named = ", ".join(_RED_FLAG_LABELS.get(s, s) for s in signs)
    return (
        f"Signe(s) de gravité signalé(s) : {named}. Ce patient relève de l'urgence : "
        "appelez le 15 (SAMU) sans attendre. Cette demande d'HNP est bloquée et ne peut pas "
        "être envoyée."
    )


HNP = Dialog(
    kind="hnp",
    title="Demande d'hospitalisation non programmée",
    sections=SECTIONS,
    fields=FIELDS,
    first_for_doctor=(rules.RED_FLAG_FIELD,),
    duplicate_traits=("patient.birth_name", "patient.first_names", "patient.birth_date", "patient.sex"),
    cross_check=rules.cross_check,
    blocked_reason=blocked_reason,
    sign_obstacle=rules.sign_obstacle,
    revoked=rules.revoked,
    split_answer=hnp_vitals.split,
    profile_fields=("requester.callback_phone", "requester.mssante"),
    free_text=hnp_runs.FREE_TEXT,
    run_excluded=hnp_runs.EXCLUDED,
    short_labels=hnp_runs.SHORT_LABELS,
)


def patient_label(answers: Mapping[str, Any], born: bool = True) -> str:
    """Who the dossier is for, as lists show it: "MARTIN Jeanne Marie, née le 12/03/1938" (names
    alone are not enough to tell two patients apart; without `born`, the names alone); "" while
    no name is given."""
    names = " ".join(str(answers.get(k) or "") for k in ("patient.birth_name", "patient.first_names"))
    names = " ".join(names.split())
    date = answers.get("patient.birth_date")
    if not names or not date or not born:
        return names
    word = {"F": "née", "M": "né"}.get(str(answers.get("patient.sex")), "né(e)")
    return f"{names}, {word} le {HNP.field('patient.birth_date').display(date)}"
