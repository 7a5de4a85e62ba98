"""Plain email over SMTP from configuration; never any health detail in a message (STACK)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_after_commit(to: str, subject: str, body: str) -> bool:
    """Send one message once the current transaction commits; say whether mail is on."""
    if not mail_configured():
        return False
    from app.transactions import after_commit

    after_commit(lambda: send_mail(to, subject, body))
    return True


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one message; return False (and log) when mail is off or the server refuses."""
    config = current_app.config
    if not mail_configured():
        return False
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("Could not send mail to %s", to)
        return False
    return True
