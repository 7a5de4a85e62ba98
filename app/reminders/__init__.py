"""Session reminders: which are due (``schedule``, pure) and how push messages go out (``push``).

DESIGN §4 "Reminders", issue 12. Neither module touches Flask or the database: the app layer
loads the facts, calls ``due_reminders`` with an explicit ``now``, records one row per patient,
local day and kind, and hands each due reminder to a notifier (email, push).
"""

from app.reminders.schedule import (
    DEFAULT_TIME,
    LATEST_SEND_TIME,
    QUIET_FROM,
    QUIET_UNTIL,
    DueReminder,
    ReminderInput,
    ReminderKind,
    due_reminders,
    local_instant,
    send_time,
)

__all__ = [
    "DEFAULT_TIME",
    "LATEST_SEND_TIME",
    "QUIET_FROM",
    "QUIET_UNTIL",
    "DueReminder",
    "ReminderInput",
    "ReminderKind",
    "due_reminders",
    "local_instant",
    "send_time",
]
