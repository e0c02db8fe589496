"""`GET /api/openapi.json`: the contract, generated from the registered operations."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from membership.api.openapi import build_document

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    doc = current_app.extensions.get("openapi_doc")
    if doc is None:
        doc = build_document(current_app.config["SETTINGS"].outlet_name)
        current_app.extensions["openapi_doc"] = doc
    return jsonify(doc)
