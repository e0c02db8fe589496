from __future__ import annotations

from typing import Any


def test_document_is_openapi_31_with_problem_errors(client: Any) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    signup = doc["paths"]["/api/signup"]["post"]
    assert set(signup["responses"]) >= {"202", "400", "415", "422", "429"}
    body_ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert schema["additionalProperties"] is False
    me = doc["paths"]["/api/me"]["get"]
    assert me["security"] == [{"readerSession": []}] and "401" in me["responses"]
    assert "readerSession" in doc["components"]["securitySchemes"]
