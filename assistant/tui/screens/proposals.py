"""The proposed units (F7): ranked, explained, chosen; why a unit is absent."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import (
    Footer,
    Header,
    Input,
    SelectionList,
    Static,
)

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.screens.base import OrientScreen
from orient.assistant.tui.widgets import MarkedSelectionList


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
        yield MarkedSelectionList(id="units")
        yield Static("", id="reasons", classes="status")
        yield Input(placeholder="Établissement absent (nom, FINESS) ou identifiant d'unité, puis Entrée",
                    id="why")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#why").display = False
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        units = self.query_one("#units", SelectionList)
        try:
            found = await self.orient.client.proposals(self.dossier_id, limit=self.limit)
            chosen = set((await self.orient.client.dossier(self.dossier_id))["chosen_units"])
        except (HubError, HubUnavailable) as exc:
            self.query_one("#reasons", Static).update(self.problem(exc))
            return
        units.clear_options()
        if found["message"]:
            self.query_one("#reasons", Static).update(found["message"])
        for rank, p in enumerate(found["proposals"], 1):
            demo = " [démo]" if p["demo"] else ""
            # availability ranks before distance: say it where it is not plain "available"
            beds = {"limited": " · lits limités", "full": " · complet"}.get(p.get("availability", ""), "")
            label = f"{rank:>2}. {p['unit']} — {p['establishment']} — {p['distance_km']} km{beds}{demo}"
            units.add_option((label, p["unit_id"], p["unit_id"] in chosen))
        self.proposals = {p["unit_id"]: p for p in found["proposals"]}
        if found["proposals"]:
            units.highlighted = 0
        if found["full"]:
            full = ", ".join(f"{p['establishment']} ({p['unit']})" for p in found["full"][:5])
            self.query_one("#reasons", Static).update(f"Complètes, listées à part : {full}")
        units.focus()

    @on(SelectionList.SelectionHighlighted, "#units")
    def highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        unit_id = event.selection.value
        p = getattr(self, "proposals", {}).get(unit_id)
        if p:
            self.query_one("#reasons", Static).update(" · ".join(p["reasons"]))

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
