"""The JSON API's plumbing: body parsing with pydantic, problem+json errors, role guards, and
the OpenAPI 3.1 document assembled from the same pydantic models (DESIGN §3, §4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import pydantic
from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from app.access import get_patient_or_404
from app.enums import Role
from app.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.inputs import DB_INT_MAX, json_body
from app.patient.models import Patient
from app.problems import problem

M = TypeVar("M", bound=pydantic.BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api", __name__)


class ApiError(Exception):
    """Stop a request with a problem+json answer."""

    def __init__(
        self, status: int, title: str, detail: str, errors: dict[str, str] | None = None
    ) -> None:
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or {}
        super().__init__(detail)

    def response(self) -> Response:
        return problem(self.status, self.title, self.detail, self.errors)


def service_error_response(error: ServiceError) -> Response:
    if isinstance(error, ValidationFailed):
        return problem(422, "Invalid fields", error.detail, error.errors)
    if isinstance(error, Conflict):
        return problem(409, "Conflict", error.detail)
    if isinstance(error, NotFound):
        errors = {error.field: error.detail} if error.field else None
        return problem(404, "Not found", error.detail, errors)
    return problem(400, "Bad request", str(error))


def _field_name(location: tuple[Any, ...]) -> str:
    name = ""
    for part in location:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def validation_errors(error: pydantic.ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False):
        location = tuple(p for p in item["loc"] if p not in ("function-after", "function-before"))
        errors.setdefault(_field_name(location), item["msg"])
    return errors


def parse_body(model: type[M]) -> tuple[M, dict[str, Any]]:
    """Parse the JSON body into `model`; return it with the raw object.

    415 for a content type other than JSON, 400 for a body that is not JSON or not an object,
    422 with field errors for invalid fields (DESIGN §4).
    """
    if not request.is_json:
        raise ApiError(415, "Unsupported media type", "Send the body as application/json.")
    try:
        raw = json_body(request)
    except ValueError as exc:
        raise ApiError(400, "Bad request", str(exc)) from None
    if not isinstance(raw, dict):
        raise ApiError(400, "Bad request", "The body must be a JSON object.")
    try:
        return model.model_validate(raw), raw
    except RecursionError:
        raise ApiError(400, "Bad request", "The JSON is nested too deeply.") from None
    except pydantic.ValidationError as exc:
        raise ApiError(
            422, "Invalid fields", _("Some fields need your attention."), validation_errors(exc)
        ) from None


def parse_query(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except pydantic.ValidationError as exc:
        raise ApiError(
            422, "Invalid query", "Some query parameters are invalid.", validation_errors(exc)
        ) from None


def json_response(model: pydantic.BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


def api_roles(*roles: Role) -> Callable[[F], F]:
    """Require a logged-in user with one of `roles`: 401 when logged out, 403 for other roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise ApiError(401, "Unauthorized", "Log in first (POST /auth/login).")
            if current_user.role not in roles:
                raise ApiError(403, "Forbidden", "Your account cannot use this endpoint.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# ---------------------------------------------------------------------------- OpenAPI


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    request: type[pydantic.BaseModel] | None
    responses: dict[int, tuple[str, type[pydantic.BaseModel] | None]]
    query: type[pydantic.BaseModel] | None = None
    tags: tuple[str, ...] = ()


@dataclass
class Registry:
    operations: list[Operation] = field(default_factory=list)

    def document(self, prefix: str) -> dict[str, Any]:
        components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
        paths: dict[str, Any] = {}

        def add(name: str, schema: dict[str, Any]) -> None:
            # Two different models with one name would silently document the wrong body.
            if components.setdefault(name, schema) != schema:
                raise RuntimeError(f"two API models are both called {name!r}; rename one")

        def ref(model: type[pydantic.BaseModel]) -> dict[str, str]:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                add(name, definition)
            add(model.__name__, schema)
            return {"$ref": f"#/components/schemas/{model.__name__}"}

        for op in self.operations:
            path = prefix + _openapi_path(op.path)
            entry: dict[str, Any] = {"summary": op.summary, "tags": list(op.tags)}
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                for name in _path_parameters(op.path)
            ]
            if op.query is not None:
                schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    add(name, definition)
                for name, prop in schema.get("properties", {}).items():
                    parameters.append(
                        {
                            "name": name,
                            "in": "query",
                            "required": name in schema.get("required", []),
                            "schema": prop,
                        }
                    )
            if parameters:
                entry["parameters"] = parameters
            if op.request is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(op.request)}},
                }
            responses: dict[str, Any] = {}
            for status, (description, model) in op.responses.items():
                body: dict[str, Any] = {"description": description}
                if model is not None:
                    body["content"] = {"application/json": {"schema": ref(model)}}
                responses[str(status)] = body
            for status, description in PROBLEM_RESPONSES.items():
                if op.request is None and status in (400, 413, 415):
                    continue
                if op.method == "get" and status == 409:
                    continue
                responses.setdefault(
                    str(status),
                    {
                        "description": description,
                        "content": {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                )
            entry["responses"] = responses
            if op.method != "get":
                entry["parameters"] = [*entry.get("parameters", []), CSRF_HEADER]
            paths.setdefault(path, {})[op.method] = entry
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Homestretch API",
                "version": "1",
                "description": (
                    "Log in with POST /auth/login (form fields email, password) and send the "
                    "session cookie; state-changing calls send the CSRF token in X-CSRFToken "
                    "(read it from the csrf-token meta tag of any page). Errors are RFC 9457 "
                    "problem+json. Decision support for licensed clinicians, not a diagnosis."
                ),
            },
            "paths": paths,
            "components": {
                "schemas": components,
                "securitySchemes": {
                    "session": {
                        "type": "apiKey",
                        "in": "cookie",
                        "name": current_app.config["SESSION_COOKIE_NAME"],
                    }
                },
            },
            "security": [{"session": []}],
        }


registry = Registry()


def api_route(
    path: str,
    method: str,
    summary: str,
    *,
    roles: tuple[Role, ...] | None,
    request: type[pydantic.BaseModel] | None = None,
    responses: dict[int, tuple[str, type[pydantic.BaseModel] | None]],
    query: type[pydantic.BaseModel] | None = None,
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register an API route, its role guard and its OpenAPI operation together.

    ``roles`` None makes the route public. The endpoint is named after the function.
    """

    def decorator(view: F) -> F:
        registry.operations.append(
            Operation(path, method.lower(), summary, request, responses, query, tags)
        )
        guarded = api_roles(*roles)(view) if roles is not None else view
        bp.add_url_rule(path, view.__name__, guarded, methods=[method.upper()])
        return guarded  # type: ignore[return-value]

    return decorator


def _openapi_path(flask_path: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", flask_path)


def _path_parameters(flask_path: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", flask_path)


PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_RESPONSES = {
    400: "The body is not JSON or not an object, or the CSRF token is missing",
    401: "Not logged in",
    403: "This account cannot use this endpoint",
    404: "No such object, or not yours",
    409: "The object is in a state that does not allow this, or an id was reused",
    413: "The body is larger than 1 MB",
    415: "Not application/json",
    422: "Invalid fields",
}
CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The CSRF token from the page's csrf-token meta tag",
}


# ---------------------------------------------------------------------------- whose data


def own_patient() -> Patient:
    """The logged-in patient's profile, else 404 (an account without one)."""
    patient = current_user.patient
    if patient is None:
        raise ApiError(404, "Not found", "There is no patient profile for this account.")
    return patient


def visible_patient(patient_id: str) -> Patient:
    """A patient the clinician may see, from a path id read here, else 404.

    For paths whose methods share one URL rule: an id the database cannot hold is 404 for each
    of them (two ``<int:…>`` rules would answer 405 for one of them).
    """
    if not re.fullmatch(r"[0-9]{1,10}", patient_id) or not 1 <= int(patient_id) <= DB_INT_MAX:
        raise ApiError(404, "Not found", "No such patient, or not yours.")
    return get_patient_or_404(current_user, int(patient_id))
