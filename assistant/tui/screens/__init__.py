"""The screens, one module each. No screen module imports another: a screen opens another by its
name through the app (`OrientApp.open_screen("review", ...)`), which imports the module only then,
so that the first screen draws without loading the others.

Screen modules may import `screens.base`, `tui.modals`, `tui.formatting` and `tui.widgets`, never each other
(tests/unit/test_layout.py checks).
"""

from __future__ import annotations

# name -> (module under orient.assistant.tui.screens, class)
SCREENS: dict[str, tuple[str, str]] = {
    "who": ("who", "WhoScreen"),
    "home": ("home", "HomeScreen"),
    "chat": ("chat", "ChatScreen"),
    "import": ("importing", "ImportScreen"),
    "resume": ("resume", "ResumeScreen"),
    "review": ("review", "ReviewScreen"),
    "letter": ("letter", "LetterScreen"),
    "proposals": ("proposals", "ProposalsScreen"),
    "sign": ("sign", "SignScreen"),
    "dashboard": ("dashboard", "DashboardScreen"),
    "inbox": ("inbox", "InboxScreen"),
    "referral": ("referral", "ReferralScreen"),
    "units": ("units", "UnitPickerScreen"),
    "psc_signin": ("psc_signin", "PscSigninScreen"),
    "stats": ("stats", "StatsScreen"),
    "notify_settings": ("notify_settings", "NotifySettingsScreen"),
}
