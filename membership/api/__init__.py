"""The JSON API's shared machinery: an operation registry, request validation and
the OpenAPI 3.1 document served at `/api/openapi.json`.

Any blueprint adds its operations with `@operation(...)` (see registry.py); the
document is built from the registry and the operations' pydantic models, so the
contract and the validation can never drift apart.
"""

from membership.api.registry import REGISTRY, ApiModel, Operation, operation, register_security

__all__ = ["REGISTRY", "ApiModel", "Operation", "operation", "register_security"]
