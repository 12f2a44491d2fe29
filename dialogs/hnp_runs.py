"""Answers chained with « ; » in the HNP conversation (assistant/runs.py runs them): where « ; »
stays literal text, which fields a run never fills, and the short labels of the hint shown under
each question ("Astuce : enchaînez avec « ; » : Prénom(s) ; Nom utilisé ; ...")."""

from __future__ import annotations

# Text without structure: clinicians write lists with « ; » there, so no run starts at these
# questions (a run that started at a structured question may still fill one with a part).
FREE_TEXT = (
    "patient.address",
    "request.prior_contact_name",
    "medical.reason",
    "medical.diagnosis",
    "medical.history",
    "medical.treatments",
    "medical.allergies",
    "medical.goal",
)

# Never filled by a run, asked on their own when they apply: the diastolic pressure (given with
# the systolic, `128/74`; asked alone only after a systolic typed alone). The red flags (a field
# that blocks) and the confirmation checks (fields that retract another, such as the low SpO2
# confirmation) are left out of runs by their nature, whatever the dialog says.
EXCLUDED = ("medical.bp_diastolic",)

# What the hint calls each field (the field's label when absent): short enough for a line.
SHORT_LABELS = {
    "requester.callback_phone": "Téléphone de rappel",
    "requester.mssante": "MSSanté",
    "patient.first_names": "Prénom(s)",
    "patient.ins": "Matricule INS",
    "patient.identity_status": "Statut de l'identité",
    "patient.commune": "Commune",
    "context.caregiver_name": "Aidant",
    "context.legal_protection": "Protection juridique",
    "context.gp_is_requester": "Vous êtes le médecin traitant (o/n)",
    "request.specialty": "Spécialité",
    "request.specialty_alt": "Autre spécialité",
    "request.timing": "Délai",
    "request.prior_contact": "Échange avec un médecin hospitalier (o/n)",
    "request.prior_contact_name": "Nom et service de ce médecin",
    "medical.reason": "Motif",
    "medical.diagnosis": "Hypothèse diagnostique",
    "medical.history": "Antécédents",
    "medical.treatments": "Traitements",
    "medical.anticoagulation": "Anticoagulant",
    "medical.allergies": "Allergies",
    "medical.bp_systolic": "PA (128/74)",
    "medical.heart_rate": "FC",
    "medical.spo2": "SpO2",
    "medical.temperature": "T°",
    "medical.resp_rate": "FR",
    "medical.oxygen": "O2 (AA ou L/min)",
    "medical.weight": "Poids",
    "medical.isolation": "BMR/BHRe",
    "medical.precautions": "Précautions",
    "medical.cognition": "Troubles cognitifs",
    "medical.gir": "GIR",
    "medical.care_level": "Niveau de soins",
    "medical.goal": "Objectif",
    "logistics.transport": "Transport",
    "logistics.needs": "Besoins",
    "logistics.companion": "Accompagné (o/n)",
    "consent.patient_informed": "Patient informé et d'accord (o/n)",
}
