"""The proposed units (F7): ranked, explained, chosen; why a unit is absent."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import (
    Footer,
    Header,
    Input,
    SelectionList,
    Static,
)
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import Selection

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.formatting import km_fr
from orient.assistant.tui.screens.base import OrientScreen

FULL_HEADING = "Complètes : non proposées, ne peuvent pas être choisies"
FULL_NOTE = "Unité déclarée complète (ne peut pas être choisie ; appelez-la si besoin). "
FULL_REFUSED = ("Cette unité est déclarée complète : elle ne peut pas être choisie. Choisissez une "
                "unité proposée, ou appelez-la pour vérifier sa disponibilité.")


class UnitList(SelectionList[str]):
    """The units to tick. The group headings (disabled options) and the units that cannot be
    chosen (`unchoosable`: declared full) show no box."""

    unchoosable: frozenset[str] = frozenset()

    def on_resize(self) -> None:
        """Longer reasons under the list make it shorter: keep the highlighted unit in view."""
        self.scroll_to_highlight()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        if not option.disabled and option.value not in self.unchoosable:
            return strip
        segments = list(strip)
        if len(segments) < 4:
            return strip
        width = sum(segment.cell_length for segment in segments[:3])  # the box: left, inner, right
        return Strip([Segment(" " * width, segments[3].style), *strip.crop(width, strip.cell_length)])


def _heading(text: str, key: str) -> Selection[str]:
    return Selection(f"── {text} ──", f"heading:{key}", disabled=True)


def proposal_options(found: dict[str, Any], chosen: set[str]) -> tuple[list[Selection[str]], int | None]:
    """The list as the clinician reads it: each group (distance band, specialty when two are
    asked, availability) under its heading, numbered in rank order; then the units declared full
    under their own heading, not numbered. Also the index of the first unit."""
    groups = found.get("groups") or {}
    options: list[Selection[str]] = []
    first: int | None = None
    current = None
    for rank, p in enumerate(found["proposals"], 1):
        heading = groups.get(p["unit_id"])
        if heading and heading != current:
            options.append(_heading(heading, str(rank)))
            current = heading
        if first is None:
            first = len(options)
        demo = " [démo]" if p["demo"] else ""
        label = f"{rank:>2}. {km_fr(p['distance_km']):>8} · {p['establishment']} — {p['unit']}{demo}"
        options.append(Selection(label, p["unit_id"], p["unit_id"] in chosen))
    if found["full"]:
        options.append(_heading(f"{FULL_HEADING} ({len(found['full'])})", "full"))
        for p in found["full"]:
            demo = " [démo]" if p["demo"] else ""
            label = f"    {km_fr(p['distance_km']):>8} · complet · {p['establishment']} — {p['unit']}{demo}"
            options.append(Selection(label, p["unit_id"]))
    return options, first


class ProposalsScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="proposals.back", tooltip="Revenir au dossier"),
        Binding("f9", "confirm", "Valider le choix", id="proposals.confirm", tooltip="Choisir 1 à 5 unités"),
        Binding("f4", "why", "Pourquoi absente ?", id="proposals.why", tooltip="Pourquoi une unité n'est pas proposée"),
        Binding("f7", "more", "Plus d'unités", id="proposals.more", tooltip="Les 20 suivantes"),
    ]

    def __init__(self, dossier_id: str) -> None:
        super().__init__()
        self.dossier_id = dossier_id
        self.limit = 20

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Unités proposées (Espace pour cocher, 1 à 5 ; F9 pour valider)", classes="status")
        yield Static("", id="ranking", classes="status")
        yield UnitList(id="units")
        yield Static("", id="reasons", classes="status")
        yield Input(placeholder="Établissement absent (nom, FINESS) ou identifiant d'unité, puis Entrée",
                    id="why")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#why").display = False
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        units = self.query_one("#units", UnitList)
        try:
            found = await self.orient.client.proposals(self.dossier_id, limit=self.limit)
            chosen = set((await self.orient.client.dossier(self.dossier_id))["chosen_units"])
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))
            return
        units.clear_options()
        if found["message"]:
            self.query_one("#reasons", Static).update(found["message"])
        if found.get("ranking"):
            self.query_one("#ranking", Static).update(found["ranking"])
        options, first = proposal_options(found, chosen)
        units.add_options(options)
        self.proposals = {p["unit_id"]: p for p in found["proposals"] + found["full"]}
        self.full = {p["unit_id"] for p in found["full"]}
        units.unchoosable = frozenset(self.full)
        if first is not None:
            units.highlighted = first
            units.scroll_home(animate=False)  # the first group's heading shows above it
        units.focus()

    @on(SelectionList.SelectionHighlighted, "#units")
    def highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        unit_id = event.selection.value
        p = getattr(self, "proposals", {}).get(unit_id)
        if p:
            full = FULL_NOTE if unit_id in getattr(self, "full", set()) else ""
            self.query_one("#reasons", Static).update(full + " · ".join(p["reasons"]))

    @on(SelectionList.SelectionToggled, "#units")
    def toggled(self, event: SelectionList.SelectionToggled) -> None:
        """A unit declared full cannot be chosen: untick it at once and say why."""
        unit_id = event.selection.value
        if unit_id in getattr(self, "full", set()):
            event.selection_list.deselect(unit_id)
            self.query_one("#reasons", Static).update(FULL_REFUSED)

    def action_more(self) -> None:
        self.limit += 20
        self.load()

    def action_why(self) -> None:
        field = self.query_one("#why", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#why")
    def ask_why(self, event: Input.Submitted) -> None:
        self.explain(event.value.strip())

    @work(exclusive=True, group="why")
    async def explain(self, unit_id: str) -> None:
        try:
            answer = await self.orient.client.why_not(self.dossier_id, unit_id)
            self.query_one("#reasons", Static).update(answer["message"])
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))

    def action_confirm(self) -> None:
        self.confirm(list(self.query_one("#units", SelectionList).selected))

    @work(exclusive=True, group="choose")
    async def confirm(self, unit_ids: list[str]) -> None:
        if not 1 <= len(unit_ids) <= 5:
            self.query_one("#reasons", Static).update("Cochez de 1 à 5 unités (Espace), puis F9.")
            return
        try:
            await self.orient.client.choose(self.dossier_id, unit_ids)
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))
            return
        self.app.pop_screen()
        self.app.notify(f"{len(unit_ids)} unité(s) choisie(s). F8 pour signer et envoyer.")
