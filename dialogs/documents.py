"""Documents rendered from the dialog's templates: the review (Markdown) and the referral letter
("lettre de liaison", Markdown for the terminal and printable HTML). They take the hub's review
sections and answers as plain data, so the TUI renders them from what the client received."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from orient.dialogs.hnp import HNP
from orient.dialogs.hnp_rules import outgoing
from orient.models.lifecycle import DOSSIER_STATUS_FR, DossierStatus

LEGAL_FIELDS = ("medical.reason", "medical.treatments", "medical.allergies")
PARIS = ZoneInfo("Europe/Paris")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def md(value: object) -> str:
    """User text made inert in Markdown (no markup, no table break, no HTML)."""
    text = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("orient.dialogs", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True)
        if autoescape
        else False,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["md"] = md
    return env


_MARKDOWN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


_COMMAND = re.compile(r"\s*\((?:[^()]*\s)?/modifier [^()]*\)")


def warning_lines(warnings: list[dict[str, Any]] | None) -> list[str]:
    """The warnings a dossier keeps, as its readers see them: their messages, without the
    chat's commands ("(/modifier MSSanté)") that mean nothing on paper."""
    return [_COMMAND.sub("", str(w.get("message", ""))) for w in warnings or []]


def render_review(sections: list[dict[str, Any]], status: str, blocked_reason: str | None,
                  warnings: list[dict[str, Any]] | None = None) -> str:
    from orient.models.provenance import SOURCE_FR, Source

    sources = {s.value: label for s, label in SOURCE_FR.items() if s != Source.TYPED}
    return _MARKDOWN.get_template("review.md.j2").render(
        sections=sections,
        status_fr=DOSSIER_STATUS_FR[DossierStatus(status)],
        blocked_reason=blocked_reason,
        warnings=[str(w.get("message", "")) for w in warnings or []],
        sources=sources,  # answers not typed get a discreet mark: where they came from
        marked=any(i.get("source") in sources for s in sections for i in s.get("items", [])),
    )


def _display(sections: list[dict[str, Any]], field_id: str) -> str:
    for section in sections:
        for item in section.get("items", []):
            if item["field"] == field_id and item["state"] == "answered":
                return str(item["display"])
    return ""


def _when(iso: str | None) -> str:
    """The signature's moment in French local time, whatever zone it was written in."""
    from orient.models.localtime import fr_datetime

    return fr_datetime(iso, " à ")


def _born(sex: object) -> str:
    """« née le » or « né le » by the patient's sex; for an undetermined sex, no agreement."""
    return {"F": "née le", "M": "né le"}.get(str(sex), "date de naissance :")


def written_label(item: dict[str, Any]) -> str:
    """A field's label as a document writes it, from the dialog definition (a statement, never
    the question: "Patient accompagné", not "Le patient sera-t-il accompagné ?")."""
    spec = HNP.by_id.get(item["field"])
    if spec is None:
        return str(item.get("label", item["field"]))
    return spec.letter_label or spec.label


def _written_sections(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**section, "items": [{**item, "label": written_label(item)} for item in section.get("items", [])]}
        for section in sections if not section.get("hidden")
    ]


def _letter_context(
    answers: dict[str, Any], sections: list[dict[str, Any]], signed_at: str | None, today: date,
    warnings: list[dict[str, Any]] | None = None,
    addressees: list[str] | None = None,
) -> dict[str, Any]:
    answers = outgoing(answers)  # the INS number only with a qualified identity
    wanted = {f.id: answers.get(f.id, "") for f in HNP.fields}
    used = answers.get("patient.used_name") or ""
    return {
        "d": wanted,
        "sections": _written_sections([
            {**s, "items": [i for i in s.get("items", []) if i["field"] in answers or i.get("state") != "answered"]}
            for s in sections]),
        "callback_phone": HNP.field("requester.callback_phone").display(
            answers.get("requester.callback_phone")),  # 05 61 00 00 00, not +33561000000
        "used_name": used if used and used != answers.get("patient.birth_name") else "",
        "born": _born(answers.get("patient.sex")),
        "birth_date": _display(sections, "patient.birth_date"),
        "sex": _display(sections, "patient.sex"),
        "commune": _display(sections, "patient.commune"),
        "specialty": _display(sections, "request.specialty"),
        "timing": _display(sections, "request.timing"),
        "addressees": list(addressees or []),
        "signed": bool(signed_at),
        "signed_at": _when(signed_at),
        "today": f"{today:%d/%m/%Y}",
        "warnings": warning_lines(warnings),
    }


def render_letter_markdown(
    answers: dict[str, Any], sections: list[dict[str, Any]], signed_at: str | None, today: date,
    warnings: list[dict[str, Any]] | None = None,
    *, addressees: list[str] | None = None,
) -> str:
    """The letter in Markdown; `addressees` are the units it goes to, in words
    ("Cardiologie — HOPITAL PURPAN CHU TOULOUSE")."""
    return _MARKDOWN.get_template("letter.md.j2").render(
        **_letter_context(answers, sections, signed_at, today, warnings, addressees)
    )


def render_letter_html(
    answers: dict[str, Any], sections: list[dict[str, Any]], signed_at: str | None, today: date,
    warnings: list[dict[str, Any]] | None = None,
    *, addressees: list[str] | None = None,
) -> str:
    """Printable HTML; every user text is escaped by the template engine."""
    return _HTML.get_template("letter.html.j2").render(
        **_letter_context(answers, sections, signed_at, today, warnings, addressees)
    )


def sections_from_answers(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Review-shaped sections built from answers alone (what a receiving unit gets)."""
    sections = []
    for section, title in HNP.sections:
        items = [
            {
                "field": f.id,
                "label": f.label,
                "state": "answered",
                "value": answers[f.id],
                "display": f.display(answers[f.id]),
                "who": "",
            }
            for f in HNP.fields
            if f.section == section and f.id in answers
        ]
        sections.append({"section": section, "title": title, "hidden": False, "items": items})
    return sections
