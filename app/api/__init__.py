"""JSON API v1 (DESIGN §4): one blueprint; endpoint modules register their routes on it."""

from flask import Response, jsonify

from app.api.core import ApiError, bp, registry, service_error_response
from app.errors import ServiceError
from app.extensions import db

PREFIX = "/api/v1"


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    db.session.rollback()
    return error.response()


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    db.session.rollback()
    return service_error_response(error)


@bp.route("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI 3.1 document built from the request and response models."""
    return jsonify(registry.document(PREFIX))


def _register_endpoints() -> None:
    # Imported for their side effect: each module adds its routes to `bp`.
    import importlib

    for module in ENDPOINT_MODULES:
        importlib.import_module(f"app.api.{module}")


ENDPOINT_MODULES: tuple[str, ...] = (
    "patient",
    "therapist",
    "alerts",
    "clinic",
    "reminders",
    "messages",
    "export",
    "measures",
    "profile",
)
_register_endpoints()
