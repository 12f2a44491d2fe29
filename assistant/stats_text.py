"""The figures of `GET /stats` in French, as the statistics screen and `orient stats` show them:
durations in `h`/`min`, rates and decimals with a comma, months by name. Pure functions of the
hub's JSON answer (no Textual, no database), shared by the TUI and the command line."""

from __future__ import annotations

from typing import Any

from orient.models.lifecycle import REFUSAL_REASONS

MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
             "nov.", "déc.")
SCOPE_FR = {"doctor": "mes demandes", "secretary": "les demandes des médecins qui me délèguent",
            "receiver": "les demandes reçues par mes unités", "admin": "toutes les unités (chiffres agrégés)"}
NBSP = "\u00a0"  # between a number and its unit (h, min, %): never cut at the end of a line
NO_DATA = "Aucune demande envoyée sur cette période : pas encore de statistiques."
# the per-unit table: (heading, key); the same columns on screen and on the command line
TABLE = (("N°", "number"), ("Unité", "unit"), ("Envoyées", "sent"), ("Réponses", "answered"),
         ("Délai médian", "median"), ("p90", "p90"), ("Lecture (méd.)", "read"),
         ("Acceptées", "accepted"), ("Taux d'acceptation", "rate"), ("En retard", "overdue"))


def decimal_fr(value: float, digits: int = 1) -> str:
    """12.5 -> "12,5"; a whole value without decimals ("12")."""
    text = f"{value:.{digits}f}".replace(".", ",")
    return text.rstrip("0").rstrip(",") if "," in text else text


def number_fr(value: int) -> str:
    """1234 -> "1 234" (narrow no-break space between thousands, as French typography wants)."""
    return f"{value:,}".replace(",", "\u202f")


def duration_fr(minutes: float | None) -> str:
    """A delay: "8 min", "1 h 05", "26 h 40"; "—" when there is none."""
    if minutes is None:
        return "—"
    whole = round(minutes)
    if whole < 1:
        return f"<{NBSP}1{NBSP}min"
    hours, mins = divmod(whole, 60)
    return f"{hours}{NBSP}h{NBSP}{mins:02d}" if hours else f"{mins}{NBSP}min"


def percent_fr(rate: float | None) -> str:
    """0.3333 -> "33,3 %"; "—" without any decision."""
    return "—" if rate is None else f"{decimal_fr(rate * 100)}{NBSP}%"


def month_fr(month: str, short: bool = False) -> str:
    """"2026-11" -> "nov. 2026" ("nov. 26" short)."""
    year, number = month.split("-")
    return f"{MONTHS_FR[int(number) - 1]} {year[2:] if short else year}"


def unit_label(u: dict[str, Any]) -> str:
    name, site = u.get("unit_name") or u["unit_id"], u.get("establishment")
    return f"{name} — {site}" if site else name


def reasons_fr(figures: dict[str, Any]) -> str:
    """"Pas de lit disponible : 2 ; Autre : 1" (codes only: never a refusal's free text)."""
    reasons = figures.get("refused_by_reason") or {}
    return " ; ".join(f"{REFUSAL_REASONS.get(code, code)} : {count}"
                      for code, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def summary_fr(body: dict[str, Any]) -> str:
    """The totals in one short paragraph (two lines at 80 columns)."""
    t = body["total"]
    if not t["sent"]:
        return NO_DATA
    delay = t["answer_delay"]
    parts = [f"{number_fr(t['sent'])} envoyée(s)", f"{number_fr(t['answered'])} avec réponse"]
    if delay["count"]:
        parts.append(f"délai médian {duration_fr(delay['median_minutes'])} "
                     f"(90{NBSP}% en moins de {duration_fr(delay['p90_minutes'])})")
    if t["read_delay"]["count"]:
        parts.append(f"lecture {duration_fr(t['read_delay']['median_minutes'])}")
    parts.append(f"acceptation {percent_fr(t['acceptance_rate'])}" if t["acceptance_rate"] is not None
                 else "aucune acceptation ni aucun refus")
    parts.append(f"{number_fr(t['overdue'])} en retard")
    if t["answered_late"]:
        parts.append(f"{number_fr(t['answered_late'])} réponse(s) hors délai")
    return " · ".join(parts) + "."


def unit_rows(body: dict[str, Any]) -> list[dict[str, str]]:
    """The per-unit table's cells, in the hub's order (the most used unit first), numbered."""
    rows = []
    for number, u in enumerate(body["units"], start=1):
        f = u["figures"]
        rows.append({
            "number": str(number), "unit": unit_label(u), "sent": number_fr(f["sent"]),
            "answered": number_fr(f["answered"]), "median": duration_fr(f["answer_delay"]["median_minutes"]),
            "p90": duration_fr(f["answer_delay"]["p90_minutes"]),
            "read": duration_fr(f["read_delay"]["median_minutes"]), "accepted": number_fr(f["accepted"]),
            "rate": percent_fr(f["acceptance_rate"]), "overdue": number_fr(f["overdue"]),
        })
    return rows


def period_fr(body: dict[str, Any]) -> str:
    first, last = body.get("from_month"), body.get("to_month")
    if first and last:
        return f"de {month_fr(first)} à {month_fr(last)}" if first != last else f"en {month_fr(first)}"
    if first:
        return f"depuis {month_fr(first)}"
    if last:
        return f"jusqu'à {month_fr(last)}"
    return "depuis le début"


def text_table(body: dict[str, Any]) -> str:
    """The whole answer as text: the summary, the per-unit table, the months and the refusals
    (`orient stats`)."""
    lines = [f"Statistiques : {SCOPE_FR.get(body['scope'], body['scope'])}, {period_fr(body)}.",
             summary_fr(body)]
    if not body["total"]["sent"]:
        return "\n".join(lines)
    lines.append("")
    rows = unit_rows(body)
    heads = [h for h, _ in TABLE]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for h, k in TABLE]
    lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for r in rows:
        cells = [r[k].ljust(w) if k == "unit" else r[k].rjust(w) for (_, k), w in zip(TABLE, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines += ["", "Par mois d'envoi :"]
    for m in body["months"]:
        f = m["figures"]
        lines.append(f"  {month_fr(m['month'])} : {number_fr(f['sent'])} envoyée(s), délai médian "
                     f"{duration_fr(f['answer_delay']['median_minutes'])}, p90 "
                     f"{duration_fr(f['answer_delay']['p90_minutes'])}, acceptation "
                     f"{percent_fr(f['acceptance_rate'])}, {number_fr(f['overdue'])} en retard")
    refusals = [(u, reasons_fr(u["figures"])) for u in body["units"] if u["figures"]["refused"]]
    if refusals:
        lines += ["", "Motifs de refus :"]
        lines += [f"  {unit_label(u)} : {text}" for u, text in refusals]
    return "\n".join(lines)
