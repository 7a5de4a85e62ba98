"""Words a clinician reads for alert kinds, severities and statuses (no internal codes)."""

from __future__ import annotations

from app.enums import AlertKind, AlertStatus

# CLINICAL §5 table, in the words a clinician uses.
TITLES: dict[AlertKind, str] = {
    AlertKind.RED_FLAG_EMERGENCY: "Emergency red flag",
    AlertKind.RED_FLAG_URGENT: "Urgent red flag",
    AlertKind.RED_FLAG_PROMPT: "Red flag to review",
    AlertKind.FLARE: "Flare",
    AlertKind.WORSENING: "Pain getting worse",
    AlertKind.PERSISTENT_PAIN: "Pain persisting despite exercise",
    AlertKind.NON_RESPONSE_6W: "No response after 6 weeks",
    AlertKind.LOW_ADHERENCE: "Few sessions done",
    AlertKind.READY_TO_PROGRESS: "Ready for the next stage",
}
STATUS_WORDS: dict[AlertStatus, str] = {
    AlertStatus.OPEN: "new",
    AlertStatus.ACKNOWLEDGED: "acknowledged",
    AlertStatus.SNOOZED: "snoozed",
    AlertStatus.RESOLVED: "resolved",
    AlertStatus.SUPERSEDED: "superseded",
}


def alert_title(kind: AlertKind | str) -> str:
    return TITLES[AlertKind(kind)]


def status_word(status: AlertStatus | str) -> str:
    return STATUS_WORDS[AlertStatus(status)]
