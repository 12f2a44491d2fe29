"""Statistics the unit and the requester can act on: answer delays per month (median and 90th
percentile), acceptance rate per unit, and the table of the figures (GET /stats).

textual-plotext (and plotext under it) is imported by this module only, which the app imports
when the screen opens: the first screen does not pay for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from orient.assistant import stats_text as fr
from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui.columns import Column, set_columns
from orient.assistant.tui.screens.base import OrientScreen

PARIS = ZoneInfo("Europe/Paris")
# F2 goes through these periods: (words, months back from the current one; None: no bound)
PERIODS = (("depuis le début", None), ("sur les 12 derniers mois", 11), ("sur les 3 derniers mois", 2),
           ("ce mois-ci", 0))
NO_ANSWER = ("Délai de réponse par mois : aucune unité n'a encore répondu sur cette période, "
             "pas de délai à tracer.")
NO_DECISION = ("Taux d'acceptation par unité : aucune demande acceptée ni refusée sur cette période "
               "pour l'instant.")
PLOTTED_MONTHS = 12  # the delays plot shows the last 12 months of the period at most
PLOTTED_UNITS = 8  # the acceptance plot shows the 8 most used units at most
COLUMNS = [Column("N°", 3), Column("Unité", weight=1), Column("Envoyées", 8), Column("Délai médian", 12),
           Column("p90", 7), Column("Acceptation", 11), Column("Retard", 6)]
WIDE_COLUMNS = [Column("N°", 3), Column("Unité", weight=1), Column("Envoyées", 8), Column("Réponses", 8),
                Column("Délai médian", 12), Column("p90", 7), Column("Lecture (méd.)", 14),
                Column("Acceptées", 9), Column("Acceptation", 11), Column("Retard", 6)]
KEYS = {"N°": "number", "Unité": "unit", "Envoyées": "sent", "Réponses": "answered", "Délai médian": "median",
        "p90": "p90", "Lecture (méd.)": "read", "Acceptées": "accepted", "Acceptation": "rate",
        "Retard": "overdue"}
RIGHT = {"sent", "answered", "median", "p90", "read", "accepted", "rate", "overdue", "number"}


def months_back(today: datetime, back: int) -> str:
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def nice_ticks(top: float) -> list[float]:
    """0 and 2 to 5 round steps up to at least `top`."""
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 480, 960):
        if top / step <= 4:
            break
    count = max(1, int(-(-top // step)))
    return [float(step * i) for i in range(count + 1)]


class StatsScreen(OrientScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", id="stats.back", tooltip="Revenir à l'écran précédent"),
        Binding("f2", "period", "Période", id="stats.period",
                tooltip="Depuis le début, 12 derniers mois, 3 derniers mois, ce mois-ci"),
        Binding("f3", "all_units", "Toutes les unités", id="stats.all_units",
                tooltip="Revenir aux chiffres de toutes les unités"),
    ]

    def __init__(self, unit: str | None = None) -> None:
        super().__init__()
        self.unit = unit  # the unit whose months are shown (Enter on its row); None: all
        self.period = 0
        self.body: dict[str, Any] | None = None
        self.width = 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "all_units":
            return self.unit is not None
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Statistiques — chargement…", id="stats-title", classes="status")
        yield Static("", id="stats-summary", classes="status")
        with Vertical(id="stats-body"):
            with Horizontal(id="stats-plots"):
                yield PlotextPlot(id="plot-delays")
                yield Static(NO_ANSWER, id="no-delays", classes="plot-empty")
                yield PlotextPlot(id="plot-rates")
                yield Static(NO_DECISION, id="no-rates", classes="plot-empty")
            yield DataTable(id="stats-units", cursor_type="row")
            yield Static("", id="stats-detail", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stats-body").display = False
        self.load()

    def on_resize(self) -> None:
        if self.body is not None and self.app.size.width != self.width:
            self.show(self.body)

    # -- the hub's figures ---------------------------------------------------------------------
    def filters(self) -> dict[str, str]:
        params: dict[str, str] = {}
        back = PERIODS[self.period][1]
        if back is not None:
            params["from"] = months_back(datetime.now(PARIS), back)
        if self.unit:
            params["unit"] = self.unit
        return params

    @work(exclusive=True, group="stats")
    async def load(self) -> None:
        try:
            body = await self.orient.client.stats(**self.filters())
        except (HubError, HubUnavailable) as exc:
            self.query_one("#stats-title", Static).update(Text(self.problem(exc)))
            return
        self.body = body
        self.show(body)

    def show(self, body: dict[str, Any]) -> None:
        scope = fr.SCOPE_FR.get(body["scope"], body["scope"])
        unit = next((fr.unit_label(u) for u in body["units"] if u["unit_id"] == self.unit), self.unit)
        where = f"{unit} ({scope})" if self.unit else scope
        self.query_one("#stats-title", Static).update(Text(
            f"Statistiques — {where}, {PERIODS[self.period][0]}", style="bold"))
        self.query_one("#stats-summary", Static).update(Text(fr.summary_fr(body)))
        has_data = bool(body["total"]["sent"])
        self.query_one("#stats-body").display = has_data  # no empty axes: the sentence says it
        if not has_data:
            return
        self.plot_delays(body["months"])
        self.plot_rates(body["units"])
        self.fill_table(body)

    def show_plot(self, name: str, shown: bool) -> None:
        """A plot, or instead the sentence saying why there is nothing to plot (no empty axes)."""
        self.query_one(f"#plot-{name}").display = shown
        self.query_one(f"#no-{name}").display = not shown

    def plot_delays(self, months: list[dict[str, Any]]) -> None:
        shown = months[-PLOTTED_MONTHS:]
        medians = [m["figures"]["answer_delay"]["median_minutes"] or 0.0 for m in shown]
        p90s = [m["figures"]["answer_delay"]["p90_minutes"] or 0.0 for m in shown]
        answered = any(m["figures"]["answer_delay"]["count"] for m in shown)
        self.show_plot("delays", answered)
        if not answered:
            return
        top = max([*p90s, *medians, 1.0])
        hours = top >= 120
        scale = 60.0 if hours else 1.0
        widget = self.query_one("#plot-delays", PlotextPlot)
        plt = widget.plt
        plt.clear_figure()
        plt.title("Délai de réponse par mois (" + ("heures" if hours else "minutes") + ")")
        labels = [fr.month_fr(m["month"], short=True) for m in shown]
        plt.multiple_bar(labels, [[v / scale for v in medians], [v / scale for v in p90s]],
                         labels=["médiane", "90 %"])
        ticks = nice_ticks(top / scale)
        plt.yticks(ticks, [fr.decimal_fr(t) for t in ticks])
        # room above the highest bar for the legend (top left)
        plt.ylim(0, ticks[-1] + (ticks[1] - ticks[0]) * 1.2)
        widget.refresh()

    def plot_rates(self, units: list[dict[str, Any]]) -> None:
        shown = units[:PLOTTED_UNITS]
        decided = any(u["figures"]["acceptance_rate"] is not None for u in shown)
        self.show_plot("rates", decided)
        if not decided:
            return
        widget = self.query_one("#plot-rates", PlotextPlot)
        plt = widget.plt
        plt.clear_figure()
        plt.title("Acceptation par unité (%)")
        numbers = [f"n°{i}" for i in range(1, len(shown) + 1)]
        rates = [(u["figures"]["acceptance_rate"] or 0.0) * 100 for u in shown]
        plt.bar(numbers, rates)
        plt.ylim(0, 105)
        plt.yticks([0.0, 50.0, 100.0], ["0", "50", "100"])
        widget.refresh()

    def fill_table(self, body: dict[str, Any]) -> None:
        table = self.query_one("#stats-units", DataTable)
        columns = WIDE_COLUMNS if self.app.size.width >= 120 else COLUMNS
        kept = table.cursor_row
        if self.app.size.width != self.width or len(table.columns) != len(columns):
            self.width = self.app.size.width
            set_columns(table, columns, self.width)
        table.clear()
        for u, row in zip(body["units"], fr.unit_rows(body), strict=True):
            cells = [Text(row[KEYS[c.label]], justify="right" if KEYS[c.label] in RIGHT else "left")
                     for c in columns]
            table.add_row(*cells, key=u["unit_id"], height=None)
        if table.row_count:
            table.move_cursor(row=min(max(kept, 0), table.row_count - 1))

    @on(DataTable.RowHighlighted, "#stats-units")
    def show_unit(self, event: DataTable.RowHighlighted) -> None:
        if self.body is None:
            return
        u = next((x for x in self.body["units"] if x["unit_id"] == event.row_key.value), None)
        if u is None:
            return
        f = u["figures"]
        reasons = fr.reasons_fr(f)
        parts = [fr.unit_label(u), f"{f['answered']} réponse(s) sur {f['sent']}",
                 f"lecture médiane {fr.duration_fr(f['read_delay']['median_minutes'])}"]
        if f["answered_late"]:
            parts.append(f"{f['answered_late']} réponse(s) après l'échéance")
        parts.append(f"refus : {reasons}" if reasons else "aucun refus")
        if self.unit is None:
            parts.append("Entrée : ses mois")
        self.query_one("#stats-detail", Static).update(Text(" · ".join(parts)))

    @on(DataTable.RowSelected, "#stats-units")
    def choose_unit(self, event: DataTable.RowSelected) -> None:
        if self.unit is None:
            self.unit = str(event.row_key.value)
            self.refresh_bindings()
            self.load()

    def action_all_units(self) -> None:
        if self.unit is not None:
            self.unit = None
            self.refresh_bindings()
            self.load()

    def action_period(self) -> None:
        self.period = (self.period + 1) % len(PERIODS)
        self.load()
