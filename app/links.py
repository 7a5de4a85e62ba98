"""Absolute links for people outside the current request (invitations, emails, CLI)."""

from flask import current_app, has_request_context, request, url_for

LOCAL_BASE = "http://127.0.0.1:5000"


def external_url(endpoint: str, **values: object) -> str:
    """Build an absolute URL from PUBLIC_BASE_URL, the current request, or the local server."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        base = request.host_url if has_request_context() else LOCAL_BASE
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return base.rstrip("/") + path


def invitation_url(token: str) -> str:
    return external_url("auth.invite", token=token)
