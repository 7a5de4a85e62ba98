"""RFC 9457 problem+json answers (DESIGN §4)."""

from __future__ import annotations

from flask import Response, json

PROBLEM_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "server-error",
}


def problem(
    status: int,
    title: str,
    detail: str,
    errors: dict[str, str] | list[dict[str, str]] | None = None,
) -> Response:
    if isinstance(errors, dict):
        errors = [{"field": name, "message": message} for name, message in errors.items()]
    body = {
        "type": f"/api/v1/problems/{PROBLEM_TYPES.get(status, 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")
