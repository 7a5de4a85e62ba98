"""Absolute links for people outside the current request (invitations, emails, the QR code).

Always on PUBLIC_BASE_URL, never on the request's Host header: a forged Host must not put
another site's address into an invitation (DESIGN §4).
"""

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: object) -> str:
    """Build an absolute URL on PUBLIC_BASE_URL."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return base.rstrip("/") + path


def invitation_url(token: str) -> str:
    return external_url("auth.invite", token=token)
