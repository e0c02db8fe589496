"""Build the OpenAPI 3.1 document from the registry (pydantic emits JSON Schema
2020-12, which OpenAPI 3.1 uses as is)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from membership.api.registry import MAX_ID, REGISTRY, Operation

REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
    },
}
REASONS = {400: "Malformed request", 401: "Sign-in required", 403: "Forbidden", 404: "Not found",
           409: "Conflict", 413: "Request body too large", 415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
           502: "Payment processor error", 503: "Service unavailable"}


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    seen: dict[tuple[type[BaseModel], str], None] = {}
    for op in REGISTRY.operations:
        for model, mode in ((op.body, "validation"), (op.query, "validation"), (op.response, "serialization")):
            if model is not None:
                seen[(model, mode)] = None
    return [(m, "validation" if mode == "validation" else "serialization") for m, mode in seen]


def _error_codes(op: Operation) -> list[int]:
    codes = set(op.errors)
    if op.body is not None:
        codes |= {400, 413, 415, 422}  # 413: every route refuses a body over the cap (docs/security.md)
    if op.query is not None:
        codes.add(422)
    if op.security:
        codes |= set(REGISTRY.security[op.security].errors)
    if op.path_params:
        codes.add(404)
    return sorted(codes)


def _query_params(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _operation(op: Operation, keys: dict[Any, Any],
               defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    params = [{"name": n, "in": "path", "required": True,
               "schema": {"type": t, **({"minimum": 1, "maximum": MAX_ID} if t == "integer" else {})}}
              for n, t in op.path_params.items()]
    if op.query is not None:
        ref = keys[(op.query, "validation")]["$ref"].rsplit("/", 1)[-1]
        params += _query_params(defs[ref], defs)
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": keys[(op.body, "validation")]}}}
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": keys[(op.response, "serialization")]}}
        ok["content"].update({media: {"schema": {"type": "string"}} for media in op.also_produces})
    responses: dict[str, Any] = {str(op.status): ok}
    for code in _error_codes(op):
        responses[str(code)] = {"description": REASONS.get(code, "Error"), "content": {
            "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}}
    out["responses"] = responses
    if op.security:
        out["security"] = [{op.security: []}]
    return out


def build_document(title: str, version: str = "1") -> dict[str, Any]:
    keys, top = models_json_schema(_models(), ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    defs["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(REGISTRY.operations, key=lambda o: (o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, keys, defs)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} API", "version": version},
        "paths": paths,
        "components": {"schemas": defs,
                       "securitySchemes": {n: s.scheme for n, s in REGISTRY.security.items()}},
    }
