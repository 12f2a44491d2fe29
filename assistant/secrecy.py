"""Medical secrecy: what a caller who may not read the medical section gets instead of anything
derived from it (spec/hnp-dossier.md, "Who does what": a secretary reads it only with the
delegation scope `read_medical`).

Hiding the section's answers is not enough: which medical fields are still required (the
precautions are required only for a BMR/BHRe carrier, the SpO2 confirmation only below 90 %), the
matching's reasons ("chambres d'isolement pour le portage BMR/BHRe") and its "why not" answers are
all derived from those answers. Matching stays clinically safe for everyone (a unit that cannot
meet the isolation need is never proposed); only its explanation changes for such a caller.
"""

from __future__ import annotations

from dataclasses import replace

from orient.assistant.directory.matching import Criteria
from orient.models.users import Actor, Scope

MEDICAL = "medical"  # the section's id: what `missing` lists instead of its fields


def reads_medical(actor: Actor) -> bool:
    """A doctor, or a secretary whose delegation has the scope `read_medical`."""
    return actor.has_scope(Scope.READ_MEDICAL)


def visible_missing(missing: list[str], actor: Actor) -> list[str]:
    """The required fields still unanswered, as this actor may see them: for a caller who may not
    read the medical section, its fields are replaced by the section's id, once, so that neither
    which of them are required (a consequence of other medical answers) nor how many show."""
    if reads_medical(actor):
        return list(missing)
    prefix = MEDICAL + "."
    shown = [f for f in missing if not f.startswith(prefix)]
    if len(shown) < len(missing):
        shown.insert(next((i for i, f in enumerate(missing) if f.startswith(prefix)), len(shown)), MEDICAL)
    return shown


def criteria_for(criteria: Criteria, actor: Actor) -> Criteria:
    """The matching criteria, explained without medical content to a caller who may not read it."""
    return criteria if reads_medical(actor) else replace(criteria, explain_medical=False)


__all__ = ["MEDICAL", "criteria_for", "reads_medical", "visible_missing"]
