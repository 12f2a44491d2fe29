"""The OpenAPI document of the hub, made true to what the hub answers.

FastAPI describes the happy path: it knows nothing of the answers the hub's own layers give
(BodyLimit's 400 and 413, the French 401 of a missing token, the 403 of a role, the 404 of what
the caller may not see, the 409 of a stale write) and declares a 422 shaped like its own errors,
where the hub answers a French `detail` and the list of refused fields. This module completes the
generated document, operation by operation, from what each route depends on:

- every operation that needs a token is under the bearer scheme `jeton` and may answer 401;
- an operation restricted to some roles (`access.require`) may answer 403;
- a path parameter can be missing or hidden (404), holds no control character (else 400, as
  BodyLimit refuses such a path) and is never empty;
- a request body may be unreadable (400) or too large (413);
- 409 where the route declares it (stale versions, conflicts of state);
- a 422 has the hub's shape (`ValidationErrorOut`); every error body has a French `detail`.

tests/hub/test_openapi_contract.py runs schemathesis against a real `orient serve` with every
role's token to keep it so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from orient.assistant.hub import schemas as s

ERRORS: dict[int, tuple[str, type[Any]]] = {
    400: ("Requête illisible (corps JSON ou UTF-8 invalide) ou caractère de contrôle dans le chemin",
          s.ErrorOut),
    401: ("Jeton absent, inconnu, expiré ou révoqué", s.ErrorOut),
    403: ("Action réservée à d'autres rôles", s.ErrorOut),
    404: ("Introuvable, ou hors de ce que l'appelant peut voir", s.ErrorOut),
    409: ("Conflit avec l'état actuel (version dépassée, transition impossible)", s.ConflictOut),
    413: ("Corps de requête trop volumineux (64 Kio au plus)", s.ErrorOut),
    422: ("Requête refusée : champs invalides ou valeurs que les règles refusent",
          s.ValidationErrorOut),
}
# what a path parameter can never be: empty, or holding a control character (hub/app.py BodyLimit)
PATH_PARAMETER_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]+$"
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": s.ConflictOut, "description": ERRORS[409][0]}}


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The API routes, those of included routers too (FastAPI wraps them, since 0.12x, in an
    object that holds the router: `original_router`)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None) or (route if hasattr(route, "routes") else None)
        if inner is not None and not isinstance(route, APIRoute):
            found.extend(_api_routes(list(inner.routes)))
    return found


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API answers on `path` (the `Allow` header of a 405, RFC 9110)."""
    routes = getattr(app.state, "api_routes", None)
    if routes is None:
        routes = app.state.api_routes = _api_routes(app.routes)
    # a literal path (/dossiers/import) is its own resource, not an id of /dossiers/{dossier_id}
    literal = [r for r in routes if r.path_format == path]
    found = {m for r in literal or [r for r in routes if r.path_regex.match(path)] for m in r.methods}
    return sorted(found)


def _dependency_calls(route: APIRoute) -> list[Any]:
    found: list[Any] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema([(m, "serialization") for m in (s.ErrorOut, s.ValidationErrorOut, s.ConflictOut)],
                                 ref_template="#/components/schemas/{model}")
    components.update(defs.get("$defs", {}))
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    routes = {(method.lower(), r.path_format): r for r in _api_routes(app.routes) for method in r.methods}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            route = routes.get((method, path))
            if route is None:
                continue
            _complete(op, route)
    return doc


def _complete(op: dict[str, Any], route: APIRoute) -> None:
    calls = _dependency_calls(route)
    secured = "security" in op
    restricted = any(getattr(call, "roles", None) for call in calls)
    params = op.get("parameters", [])
    in_path = [p for p in params if p.get("in") == "path"]
    body = "requestBody" in op
    statuses = set()
    if in_path or body:
        statuses.add(400)
    if secured:
        statuses.add(401)
    if restricted:
        statuses.add(403)
    if in_path:
        statuses.add(404)
    if body:
        statuses.add(413)
    if params or body or "422" in op.get("responses", {}):
        statuses.add(422)
    responses = op.setdefault("responses", {})
    for status in sorted(statuses):
        description, model = ERRORS[status]
        entry = responses.setdefault(str(status), {"description": description})
        entry["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
        if status == 422:
            entry["description"] = description
    for param in in_path:
        schema = param.setdefault("schema", {})
        if schema.get("type") == "string":
            schema.setdefault("minLength", 1)
            schema.setdefault("pattern", PATH_PARAMETER_PATTERN)
