"""The project's OpenAPI document: schemathesis loads it, and it states the facts fully."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
import yaml

from conformance.openapi import default_openapi_path

OPERATIONS = {"createUpload", "addUploadPart", "completeUpload", "cancelUpload"}
REFUSALS = {"400", "401", "404", "409", "410", "413", "422", "429", "4XX"}
ERROR_SCHEMA = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(default_openapi_path().read_text())


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(default_openapi_path())


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_schemathesis_loads_every_operation_without_warnings(schema: Any) -> None:
    schema.validate()
    ids = {result.ok().definition.raw["operationId"] for result in schema.get_all_operations()}
    assert ids == OPERATIONS
    assert schema.iter_schema_warnings() == []


def test_it_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_every_operation_documents_success_and_every_refusal(document: dict[str, Any]) -> None:
    for operation_id, operation in _operations(document).items():
        responses = operation["responses"]
        assert "200" in responses, operation_id
        assert set(responses) >= REFUSALS, operation_id
        for code in REFUSALS:
            content = _resolve(document, responses[code])["content"]["application/json"]
            assert content["schema"] == {"$ref": ERROR_SCHEMA}, (operation_id, code)


def test_the_error_envelope_has_its_four_fields(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ErrorResponse"]["properties"]["error"]
    assert set(error["required"]) == {"message", "type", "param", "code"}


def test_requests_state_the_documented_bounds(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    create = schemas["CreateUploadRequest"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"filename", "purpose", "bytes", "mime_type"}
    declared = create["properties"]["bytes"]
    assert declared["type"] == "integer"
    assert (declared["minimum"], declared["maximum"]) == (0, 8 * 1024**3)
    assert set(schemas["Purpose"]["enum"]) == {"assistants", "batch", "fine-tune", "vision",
                                               "user_data", "evals"}
    expires = schemas["ExpiresAfter"]
    assert expires["properties"]["anchor"] == {"const": "created_at"}
    assert (expires["properties"]["seconds"]["minimum"],
            expires["properties"]["seconds"]["maximum"]) == (3600, 2592000)
    complete = schemas["CompleteUploadRequest"]
    assert complete["additionalProperties"] is False and complete["required"] == ["part_ids"]
    part = _operations(document)["addUploadPart"]["requestBody"]["content"]
    assert part["multipart/form-data"]["schema"] == {
        "$ref": "#/components/schemas/AddUploadPartRequest"}
    assert schemas["AddUploadPartRequest"]["properties"]["data"]["format"] == "binary"


def test_answers_allow_what_the_documentation_leaves_open(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("Upload", "UploadPart", "File", "ErrorResponse"):
        assert schemas[name].get("additionalProperties", True) is not False, name
    for name in ("Upload", "UploadPart", "File"):
        id_schema = schemas[name]["properties"]["id"]
        assert id_schema == {"type": "string"}, name  # no ID format is imposed
    assert "enum" not in schemas["File"]["properties"]["status"]
    assert {"type": "null"} in schemas["Upload"]["properties"]["file"]["oneOf"]


def test_links_chain_created_uploads_and_parts(document: dict[str, Any], schema: Any) -> None:
    operations = _operations(document)
    created = operations["createUpload"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in created.values()} == OPERATIONS - {"createUpload"}
    for link in created.values():
        assert link["parameters"] == {"upload_id": "$response.body#/id"}
    from_part = operations["addUploadPart"]["responses"]["200"]["links"]["CompleteWithThisPart"]
    assert from_part["requestBody"] == {"part_ids": ["$response.body#/id"]}
    assert schema.statistic.transitions.total == 10
    machine = schema.as_state_machine()
    assert any("CompleteWithThisPart" in name for name in dir(machine))
