"""Security headers and the strict CSP on every response."""

from flask import Flask, Response, request
from flask_login import current_user

# STACK "security headers": no inline script, no inline style attribute, nothing third-party.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SUBRESOURCES = {"text/css", "text/javascript"}


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        # A stylesheet or a page's script is never a document: these four would only add some
        # 370 bytes to each, counted in the patient's 60 KB (DESIGN §5). The service worker (not
        # a static file) and every SVG, which opened alone is a document, keep them.
        if not (request.endpoint == "static" and response.mimetype in SUBRESOURCES):
            headers.setdefault("Content-Security-Policy", CSP)
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if request.endpoint != "static" and current_user.is_authenticated:
            headers["Cache-Control"] = "no-store"
            headers.add("Vary", "Cookie")
        return response
