"""Vital signs typed in one answer (spec/hnp-dossier.md, medical rows and "Answers that fill
several fields"): a blood pressure `128/74` (or `12/7` in cmHg), a SpO2 with its oxygen
(`89 % AA`, `94 % sous 2 L`), or a whole line (`TA 128/74 FC 96 FR 24 SpO2 89% AA T 38,5 poids 62`)
typed at any vital-sign question.

This module only finds which piece of the text names which field; each piece is then read by
its field's own rule, exactly as if it had been typed at that field's question."""

from __future__ import annotations

import re
import unicodedata

from orient.dialogs.base import Split

SYSTOLIC, DIASTOLIC = "medical.bp_systolic", "medical.bp_diastolic"
HEART_RATE, SPO2, TEMPERATURE = "medical.heart_rate", "medical.spo2", "medical.temperature"
RESP_RATE, OXYGEN, WEIGHT = "medical.resp_rate", "medical.oxygen", "medical.weight"
# the questions at which a line of vital signs may be typed
VITAL_FIELDS = (SYSTOLIC, DIASTOLIC, HEART_RATE, SPO2, TEMPERATURE, RESP_RATE, OXYGEN, WEIGHT)

_NUM = r"\d+(?:[.,]\d+)?"
_FLOW_UNIT = r"(?:l(?:itres?)?\s*(?:/\s*min(?:ute)?|/\s*mn|\.?\s*min-1)?)"
# oxygen at the time of the measure: ambient air, or a flow ("sous 2 L", "O2 3l", "2 L/min")
_OXY_NAMED = (rf"(?:a|à)\s+l'?\s*air(?:\s+ambiant)?|air\s+ambiant|aa|sous\s+(?:o2\s*)?{_NUM}\s*{_FLOW_UNIT}?"
              rf"|(?:o2|oxyg[eè]ne)\s*:?\s*{_NUM}\s*{_FLOW_UNIT}?")
OXY = rf"(?:{_OXY_NAMED}|{_NUM}\s*{_FLOW_UNIT})"
_END = r"(?=$|[\s,;/]|-\s)"
_PRESSURE = rf"(?P<sys>{_NUM})\s*/\s*(?P<dia>{_NUM})\s*(?:(?:mm|cm)\s*hg)?"
_PATTERNS = (
    ("bp", r"(?:ta|pa|tension(?:\s+art[ée]rielle)?|pression\s+art[ée]rielle)\s*:?\s*" + _PRESSURE),
    ("hr", rf"(?:fc|pouls|fr[ée]quence\s+cardiaque|hr)\s*:?\s*(?P<v>{_NUM}\s*(?:/\s*min|/\s*mn|bpm)?)"),
    ("rr", rf"(?:fr|fr[ée]quence\s+respiratoire|rr)\s*:?\s*(?P<v>{_NUM}\s*(?:/\s*min|/\s*mn|cpm|c/min)?)"),
    ("spo2", rf"(?:spo2|sao2|sat(?:uration)?)\s*:?\s*(?P<v>{_NUM}\s*%?)\s*(?P<oxy>{OXY})?"),
    ("temp", rf"(?:temp(?:[ée]rature)?|t\s*°?)\s*:?\s*(?P<v>{_NUM}\s*(?:°\s*c?|c)?)"),
    ("weight", rf"(?:poids|pds)\s*:?\s*(?P<v>{_NUM}\s*(?:kg)?)"),
    ("oxy", rf"(?P<oxy>{_OXY_NAMED})"),
)
_LABELLED = tuple((name, re.compile(pattern + _END, re.IGNORECASE)) for name, pattern in _PATTERNS)
_BARE_BP = re.compile(_PRESSURE + _END, re.IGNORECASE)
_BARE_SPO2 = re.compile(rf"(?P<v>{_NUM}\s*%?)\s*(?P<oxy>{OXY})?{_END}", re.IGNORECASE)
_BARE = re.compile(rf"(?P<v>{_NUM}\s*(?:°\s*c?|%|kg|/\s*min|/\s*mn|bpm|cpm|(?:mm|cm)\s*hg)?){_END}",
                   re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]+|-\s+")
_FIELD_OF = {"hr": HEART_RATE, "rr": RESP_RATE, "temp": TEMPERATURE, "weight": WEIGHT}


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def pressure(sys_text: str, dia_text: str) -> tuple[str, str]:
    """The two parts of a blood pressure as the fields' texts: `12/7` (cmHg, both parts below
    30) is read as 120/70; otherwise the parts are mmHg as typed."""
    sys_, dia = _number(sys_text), _number(dia_text)
    if sys_ < 30 and dia < 30:
        return f"{round(sys_ * 10)}", f"{round(dia * 10)}"
    return sys_text, dia_text


def _bp_parts(m: re.Match[str]) -> list[tuple[str, str]]:
    sys_, dia = pressure(m["sys"], m["dia"])
    return [(SYSTOLIC, sys_), (DIASTOLIC, dia)]


def _spo2_parts(m: re.Match[str]) -> list[tuple[str, str]]:
    parts = [(SPO2, m["v"].strip())]
    if m["oxy"]:
        parts.append((OXYGEN, m["oxy"].strip()))
    return parts


def _skip(text: str, pos: int) -> int:
    m = _SEPARATORS.match(text, pos)
    return m.end() if m else pos


def split(field_id: str, typed: str) -> Split | None:
    """The fields one typed answer names, with the text for each; None when the answer is an
    ordinary answer to `field_id` (read as usual, refused as usual)."""
    if field_id not in VITAL_FIELDS:
        return None
    text = unicodedata.normalize("NFC", typed).strip()
    parts: list[tuple[str, str]] = []
    unread: list[str] = []
    labelled = False  # a sign was named (TA, FC, SpO2...)
    pos = _skip(text, 0)
    # an unlabelled value first: the question's own field (a pressure is always recognised)
    bare = _BARE_BP.match(text, pos)
    if bare:
        parts += _bp_parts(bare)
        pos = _skip(text, bare.end())
    elif field_id == SPO2 and (m := _BARE_SPO2.match(text, pos)):
        parts += _spo2_parts(m)
        pos = _skip(text, m.end())
    elif field_id == OXYGEN:
        pass  # the oxygen's own forms are found below, as a labelled item
    elif m := _BARE.match(text, pos):
        parts.append((field_id, m["v"].strip()))
        pos = _skip(text, m.end())
    after_unread = False
    while pos < len(text):
        for name, pattern in _LABELLED:
            m = pattern.match(text, pos)
            if m:
                break
        else:
            m = None
        if m is None:
            bare = _BARE_BP.match(text, pos)
            if bare:  # a pressure needs no label
                parts += _bp_parts(bare)
                pos = _skip(text, bare.end())
                continue
            word = re.match(r"\S+", text[pos:])
            assert word is not None
            shown = word.group().rstrip(",;")
            if after_unread and text[pos - 1:pos].isspace():
                unread[-1] += " " + shown
            else:
                unread.append(shown)
            after_unread = not word.group().endswith((",", ";"))
            end = pos + len(word.group())
            pos = _skip(text, end)
            after_unread = after_unread and text[end:pos].isspace()
            continue
        after_unread = False
        labelled = labelled or name != "oxy" or field_id != OXYGEN
        if name == "bp":
            parts += _bp_parts(m)
        elif name == "spo2":
            parts += _spo2_parts(m)
        elif name == "oxy":
            parts.append((OXYGEN, m["oxy"].strip()))
        else:
            parts.append((_FIELD_OF[name], m["v"].strip()))
        pos = _skip(text, m.end())
    if not parts:
        return None  # nothing recognised: the field's own reading says what is wrong
    fields = [f for f, _ in parts]
    # what the question asked for: a pressure at a pressure question, a SpO2 with its oxygen
    own = ({SYSTOLIC, DIASTOLIC} if field_id in (SYSTOLIC, DIASTOLIC)
           else {SPO2, OXYGEN} if field_id == SPO2 else {field_id})
    if unread and not labelled and set(fields) <= own:
        return None  # a value with words around it: the field's own reading says what is wrong
    if len(set(fields)) != len(fields) or unread or not set(fields) <= own:
        return Split(tuple(parts), tuple(unread), line=True)  # shown, then confirmed once
    if fields == [field_id] and not labelled:
        return None  # one plain value for the question asked: the ordinary reading
    return Split(tuple(parts))  # unambiguous: recorded at once, each through its rule


_AMBIENT = {"aa", "air", "air ambiant", "a l'air ambiant", "a l air ambiant", "à l'air ambiant",
            "à l air ambiant", "a l'air", "à l'air", "sans oxygene", "sans oxygène", "sans o2",
            "pas d'oxygene", "pas d'oxygène", "non", "aucun", "aucune", "0"}
_FLOW = re.compile(rf"(?:sous\s+)?(?:(?:o2|oxyg[eè]ne)\s*:?\s*)?(?P<n>{_NUM})\s*{_FLOW_UNIT}?", re.IGNORECASE)
AMBIENT_AIR = "air ambiant"


def oxygen(text: str) -> str | None:
    """`air ambiant`, or a flow stored as `2 L/min` (`0,5 L/min`); None when not recognised
    (the flow is not checked here)."""
    key = " ".join(text.replace("’", "'").split()).casefold()
    if key in _AMBIENT:
        return AMBIENT_AIR
    m = _FLOW.fullmatch(key)
    if not m:
        return None
    flow = _number(m["n"])
    return f"{flow:g} L/min".replace(".", ",")


def flow_of(stored: str) -> float | None:
    """The flow of a stored oxygen answer in L/min (None for ambient air)."""
    if stored == AMBIENT_AIR:
        return None
    return _number(stored.split()[0])
