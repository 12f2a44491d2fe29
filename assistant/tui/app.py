"""The Textual app. It reaches data only through the hub client: in-process on the embedded
hub by default, or a remote hub with `--hub URL --token T`; the same code runs both."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.screen import Screen

from orient.assistant.errors import HubError, HubUnavailable
from orient.assistant.tui import typography

if TYPE_CHECKING:
    from orient.assistant.client import HubClient
    from orient.assistant.embedded import Embedded


class OrientApp(App[None]):
    CSS_PATH = Path(__file__).parent / "orient.tcss"  # absolute: subclasses elsewhere keep it
    TITLE = "Orient"
    SUB_TITLE = "Hospitalisation non programmée"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, *, embedded: Embedded | Callable[[], Embedded] | None = None,
                 client: HubClient | None = None, letter_folder: Path | None = None,
                 feed_wait: float = 20.0, world_factory: Callable[[], Any] | None = None,
                 idle_seconds: float | None = None, start: tuple[str, dict[str, Any]] | None = None,
                 start_role: str | None = None, open_browser: Callable[[str], Any] | None = None) -> None:
        """`embedded`: demo users on a local hub (the first screen asks who is using Orient), or
        a function that builds it, called in the background while the first screen shows;
        `client`: a remote hub's client, whose token says who is using it. `start`: a screen
        (name, arguments) opened over the home screen at once (`orient new --from FILE`), as
        the demo user `start_role` when embedded."""
        super().__init__()
        self.start = start
        self.start_role = start_role
        typography.install()  # no line starting with "?" or ";" in the French texts
        self.world_factory = world_factory  # kiosk: a throw-away database per session
        self.world: Any = None
        self.idle_seconds = idle_seconds
        self.last_active = time.monotonic()
        if world_factory is not None:
            embedded = self._new_world
        self._embedded = embedded
        self._hub_ready = threading.Event()
        self._client = client
        self.role = ""
        self.user_name = ""
        self._signing_in: str | None = None  # embedded: the demo role whose client is being made
        self._deferred: tuple[str, tuple[Any, ...], dict[str, Any], Any] | None = None
        self.letter_folder = letter_folder or Path.home() / "Documents" / "orient"
        self.feed_wait = feed_wait
        self.open_browser = open_browser  # Pro Santé Connect: opens the sign-in URL (None: none)
        self.psc_session = False  # the token came from a Pro Santé Connect sign-in (revoked on leaving)

    # -- navigation: screens by name (no screen module imports another) ---------------------
    def make_screen(self, name: str, *args: Any, **kwargs: Any) -> Screen[Any]:
        """The screen called `name` (screens.SCREENS), its module imported on first use."""
        from importlib import import_module

        from orient.assistant.tui.screens import SCREENS

        module, cls = SCREENS[name]
        screen_class = getattr(import_module(f"orient.assistant.tui.screens.{module}"), cls)
        return screen_class(*args, **kwargs)  # type: ignore[no-any-return]

    def open_screen(self, name: str, *args: Any, callback: Callable[[Any], Any] | None = None,
                    **kwargs: Any) -> None:
        """Push the screen called `name` on top of the current one. While a demo user is being
        signed in (the local hub still opening), the screen opens as soon as the hub is ready."""
        if self._signing_in is not None and name != "who":
            self._deferred = (name, args, kwargs, callback)
            self.notify("Préparation de la démonstration…", timeout=2)
            return
        self.push_screen(self.make_screen(name, *args, **kwargs), callback)

    def replace_screen(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Replace the current screen by the screen called `name`."""
        if name == "who":
            self._signing_in = None
            self._deferred = None
        self.switch_screen(self.make_screen(name, *args, **kwargs))

    @property
    def client(self) -> HubClient:
        assert self._client is not None, "no user signed in"
        return self._client

    @property
    def demo_users(self) -> bool:
        """Embedded mode (the first screen picks a demo user), known without waiting for the hub."""
        return self._embedded is not None

    @property
    def embedded(self) -> Embedded | None:
        if self._embedded is None:
            return None
        if callable(self._embedded) and not hasattr(self._embedded, "hub"):
            self._hub_ready.wait()
        return self._embedded  # type: ignore[return-value]

    def _new_world(self) -> Embedded:
        assert self.world_factory is not None
        self.world = self.world_factory()
        return self.world.embedded  # type: ignore[no-any-return]

    def on_mount(self) -> None:
        if self._embedded is not None:
            self.open_screen("who")
            self.call_after_refresh(self.prepare_embedded)  # once the first screen is drawn
            if self.start is not None:
                self.sign_in(self.start_role or "doctor")
                self.open_screen(self.start[0], **self.start[1])  # once signed in
        else:
            self.identify()
        if self.idle_seconds:
            self.set_interval(min(10.0, self.idle_seconds / 3), self.reset_when_idle)

    def action_help_quit(self) -> None:
        """Ctrl+C (which no longer quits a Textual app): how to quit, in French."""
        keys = [key for key, active in self.active_bindings.items()
                if active.binding.action in ("quit", "app.quit")]
        if keys:  # "ctrl+q" -> "Ctrl+Q"
            key = "+".join(p.capitalize() if len(p) > 1 else p.upper() for p in keys[0].split("+"))
            self.notify(f"Pour quitter Orient : {key}. Vos réponses sont déjà enregistrées.",
                        title="Quitter ?", markup=False)

    def on_key(self) -> None:
        self.last_active = time.monotonic()

    def on_click(self) -> None:
        self.last_active = time.monotonic()

    def reset_when_idle(self) -> None:
        """Kiosk: after a while without a key, start again on a fresh database."""
        if self.idle_seconds and time.monotonic() - self.last_active > self.idle_seconds:
            self.last_active = time.monotonic()
            self.reset_world()

    def reset_world(self) -> None:
        old = self.world
        self._client = None
        self.role = self.user_name = ""
        self._signing_in = self._deferred = None
        self._hub_ready.clear()
        self._embedded = self._new_world
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.open_screen("who")
        self.prepare_embedded()
        if old is not None:
            old.close()

    @work(thread=True, group="start")
    def prepare_embedded(self) -> None:
        """Open the local hub (first start: create the database) without delaying the first screen."""
        from orient.assistant.embedded import Embedded

        if callable(self._embedded) and not hasattr(self._embedded, "hub"):
            self._embedded = self._embedded()
        self._hub_ready.set()
        # then what the questions need (communes, ICD-10), while the person reads the screens
        if isinstance(self._embedded, Embedded):
            self._embedded.warm()

    @work(exclusive=True)
    async def identify(self) -> None:
        if not self.client.has_token:  # a remote hub without a token: sign in with Pro Santé Connect
            self.open_screen("psc_signin")
            return
        try:
            me = await self.client.me()
        except (HubError, HubUnavailable) as exc:
            self.exit(message=f"Orient : {exc}")
            return
        self.role, self.user_name = me["role"], me["name"]
        await self.client.retry_pending()
        self.open_screen("home")
        if self.start is not None:
            self.open_screen(self.start[0], **self.start[1])

    def psc_signed_in(self, token: str, role: str, name: str) -> None:
        """The Pro Santé Connect sign-in gave this session's token (screens/psc_signin.py)."""
        self.client.with_token(token)
        self.psc_session = True
        self.role, self.user_name = role, name
        self.replace_screen("home")
        self.retry()

    async def end_psc_session(self) -> None:
        """The session ends (sign-out, quit): the hub revokes its token (docs/psc.md)."""
        if self.psc_session:
            self.psc_session = False
            try:
                await self.client.logout()
            except (HubError, HubUnavailable):
                pass  # the hub unreachable: the token still expires with the session
            self.client.http.headers.pop("Authorization", None)

    @work(exclusive=True, group="sign-in")
    async def psc_sign_out(self) -> None:
        """Home's Escape in a Pro Santé Connect session: sign out, then a new sign-in."""
        await self.end_psc_session()
        self.role = self.user_name = ""
        self.replace_screen("psc_signin")

    async def action_quit(self) -> None:
        await self.end_psc_session()
        self.exit()

    def sign_in(self, role: str) -> None:
        """Embedded mode: become a demo user. The home screen shows at once (the name is known
        without the hub); the local hub may still be opening, and whatever the person opens from
        home waits for it (open_screen)."""
        from orient.assistant import demo_accounts as demo

        accounts = {"doctor": demo.DEMO_DOCTOR, "secretary": demo.DEMO_SECRETARY,
                    "receiver": demo.DEMO_RECEIVER, "admin": demo.DEMO_ADMIN}
        self._client = None
        self._signing_in = role
        self.role, self.user_name = role, accounts[role].name
        self.replace_screen("home")
        self._sign_in(role)

    @work(thread=True, exclusive=True, group="sign-in")
    def _sign_in(self, role: str) -> None:
        self._hub_ready.wait()
        embedded = self._embedded
        assert embedded is not None and not callable(embedded)
        client = embedded.client(role)
        self.call_from_thread(self._signed_in, role, client)

    def sign_in_unit(self, unit_id: str) -> None:
        """Embedded mode: become the demo account of one receiving unit (picked among those that
        have received a referral: the local hub is open by then)."""
        self._client = None
        self._signing_in = "receiver"
        self._sign_in_unit(unit_id)

    @work(thread=True, exclusive=True, group="sign-in")
    def _sign_in_unit(self, unit_id: str) -> None:
        self._hub_ready.wait()
        embedded = self._embedded
        assert embedded is not None and not callable(embedded)
        client, name = embedded.unit_client(unit_id)
        self.call_from_thread(self._unit_signed_in, client, name)

    def _unit_signed_in(self, client: HubClient, name: str) -> None:
        if self._signing_in != "receiver":
            return  # the person went back to the first screen meanwhile
        self.role, self.user_name = "receiver", name
        while len(self.screen_stack) > 2:  # the unit picker over the first screen
            self.pop_screen()
        self.replace_screen("home")
        self._signed_in("receiver", client)

    def _signed_in(self, role: str, client: HubClient) -> None:
        if self._signing_in != role:
            return  # the person went back to the first screen meanwhile
        self._signing_in = None
        self._client = client
        self.retry()
        if self._deferred is not None:
            name, args, kwargs, callback = self._deferred
            self._deferred = None
            self.open_screen(name, *args, callback=callback, **kwargs)

    @work(group="outbox")
    async def retry(self) -> None:
        sent = await self.client.retry_pending()
        if sent:
            self.notify(f"{len(sent)} envoi(s) en attente effectué(s).")
