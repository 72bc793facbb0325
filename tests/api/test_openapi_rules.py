"""The OpenAPI document as a product: every operation and schema walked and held to the
rules a frontend developer relies on (docs/decisions/0018-openapi-document.md). Generic on
purpose: a new route is checked the moment it lands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from taskapp.config import Settings
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.errors import STATUS_BY_CODE
from taskapp.entrypoints.http.openapi import openapi_document

DOCUMENT = openapi_document(create_app(Settings(jwt_secret="only-for-the-document-" + "x" * 20)))
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
METHODS = {"get", "put", "post", "patch", "delete"}
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]
IDS = [name for name, _ in OPERATIONS]


def _api(name: str) -> bool:
    return " /api/" in name


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, property name, schema) for every property and parameter in the document."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}.{name}", name, sub
        if node.get("in") in {"query", "path", "header"} and "schema" in node:
            yield f"{path}({node['name']})", node["name"], node["schema"]
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{path}[{index}]")


def _formats(schema: dict[str, Any]) -> set[str]:
    schema = _resolve(schema)
    found = {schema["format"]} if "format" in schema else set()
    for key in ("anyOf", "oneOf", "allOf"):
        for variant in schema.get(key) or ():
            found |= _formats(variant)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        found |= _formats(schema["items"])
    return found


def _validate(schema: dict[str, Any], value: Any) -> None:
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": DOCUMENT["components"]})
    errors = [str(e) for e in validator.iter_errors(value)]
    assert not errors, errors


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=IDS)
def test_operation_ids_are_camel_case_and_unique(name: str, operation: dict[str, Any]) -> None:
    operation_id = operation["operationId"]
    assert re.fullmatch(r"[a-z][a-zA-Z]+", operation_id), operation_id
    assert [o["operationId"] for _, o in OPERATIONS].count(operation_id) == 1


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=IDS)
def test_summaries_are_words(name: str, operation: dict[str, Any]) -> None:
    """What the docs page shows beside each path: "Complete task", not "CompleteTask"."""
    summary = operation["summary"]
    assert re.fullmatch(r"[A-Z][a-z]*( [a-z]+)*", summary), summary
    assert summary.replace(" ", "").lower() == operation["operationId"].lower()


def test_component_names_are_clean() -> None:
    for name in SCHEMAS:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", name), name
        assert not name.endswith("Out"), name
    for name in ("Task", "TaskEnvelope", "ErrorEnvelope", "TaskPage", "TaskPageEnvelope"):
        assert name in SCHEMAS


def test_envelopes_are_a_union_discriminated_by_success() -> None:
    error = SCHEMAS["ErrorEnvelope"]["properties"]
    assert error["success"] == {"type": "boolean", "const": False}
    assert error["data"] == {"type": "null"}
    envelopes = [n for n in SCHEMAS if n.endswith("Envelope") and n != "ErrorEnvelope"]
    assert envelopes
    for name in envelopes:
        properties = SCHEMAS[name]["properties"]
        assert properties["success"] == {"type": "boolean", "const": True}, name
        assert properties["error"] == {"type": "null"}, name
        assert set(SCHEMAS[name]["required"]) == {"success", "data", "popup", "error"}


def test_every_error_code_is_listed() -> None:
    codes = set(SCHEMAS["ErrorBody"]["properties"]["code"]["enum"])
    assert set(STATUS_BY_CODE) <= codes


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=IDS)
def test_every_request_and_response_has_examples_that_fit(
    name: str, operation: dict[str, Any]
) -> None:
    bodies = [("request", m, media) for m, media in _media(operation.get("requestBody"))]
    for status, response in operation["responses"].items():
        bodies += [(status, m, media) for m, media in _media(response)]
    assert bodies, name
    for status, media_type, media in bodies:
        examples = [e["value"] for e in (media.get("examples") or {}).values()]
        if "example" in media:
            examples.append(media["example"])
        assert examples, f"{name} {status} {media_type} has no example"
        for example in examples:
            if media_type.endswith("json"):
                _validate(media["schema"], example)
            if status[0] in "45" and _api(name):
                assert example["success"] is False
                assert example["error"]["code"]
                assert "regex" not in example["error"]["message"]
            elif status.startswith("2") and _envelope(media.get("schema")):
                assert example["success"] is True


def _envelope(schema: Any) -> bool:
    refs = [schema or {}, *((schema or {}).get("allOf") or ())]
    return any(str(r.get("$ref", "")).endswith("Envelope") for r in refs)


def _media(owner: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    return list(((owner or {}).get("content") or {}).items())


@pytest.mark.parametrize(
    ("name", "operation"), [o for o in OPERATIONS if _api(o[0])], ids=[i for i in IDS if _api(i)]
)
def test_error_codes_and_popups_are_enums_per_operation(
    name: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        content = response.get("content") or {}
        schema = content["application/json"]["schema"] if "application/json" in content else {}
        if status[0] in "45":
            codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
            assert codes, (name, status)
            for code in codes:
                assert str(STATUS_BY_CODE.get(code, 408)) == status, (name, code, status)
            examples = response["content"]["application/json"]["examples"]
            assert set(examples) == set(codes), (name, status)
        elif status.startswith("2") and _envelope(schema):
            popup = _popup_schema(schema)
            assert "enum" in popup or popup == {"type": "null"}, (name, popup)


def _popup_schema(schema: dict[str, Any]) -> dict[str, Any]:
    for variant in schema.get("allOf") or ():
        if "popup" in (variant.get("properties") or {}):
            popup: dict[str, Any] = variant["properties"]["popup"]
            return popup
    return dict(_resolve(schema)["properties"]["popup"])


def test_timestamps_dates_and_ids_have_formats() -> None:
    for where, name, schema in _properties(DOCUMENT):
        if "/not" in where:  # "not both due_date and due_at": no value is described there
            continue
        formats = _formats(schema)
        if name.endswith("_at") or name in {"timestamp", "week_start", "week_end"}:
            assert "date-time" in formats, where
        if name.endswith("_date") or name in {"date", "due_from", "due_to"}:
            assert "date" in formats, where
        if name == "id" or (name.endswith("_id") and name != "request_id"):
            assert "uuid" in formats, where
        if name.endswith("_ids"):
            assert "uuid" in formats, where


def test_every_header_has_a_format() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters") or []:
                if parameter["in"] == "header":
                    schema = parameter["schema"]
                    assert schema.get("pattern") or schema.get("format"), (path, method)
            for response in operation["responses"].values():
                for header, spec in (response.get("headers") or {}).items():
                    schema = spec["schema"]
                    assert (
                        schema.get("pattern")
                        or schema.get("format")
                        or schema.get("enum")
                        or schema.get("maxLength")
                        or schema.get("minLength")
                    ), (path, method, header)


def test_if_match_is_a_quoted_version_or_a_star() -> None:
    found = [
        p["schema"]["pattern"]
        for _, operation in OPERATIONS
        for p in operation.get("parameters") or []
        if p["name"] == "If-Match"
    ]
    assert found
    for pattern in found:
        matches = re.compile(pattern)
        assert matches.search('"3"')
        assert matches.search("*")
        assert matches.search('"3", "4"')
        assert not matches.search("3")
        assert not matches.search('W/"3"')


def test_creates_link_to_the_operations_on_what_they_created() -> None:
    links = DOCUMENT["paths"]["/api/v1/tasks"]["post"]["responses"]["201"]["links"]
    assert links["completeTask"]["parameters"]["task_id"] == "$response.body#/data/id"
    assert links["updateTask"]["parameters"]["header.If-Match"] == "$response.header.ETag"
    for _, operation in OPERATIONS:
        for response in operation["responses"].values():
            for link in (response.get("links") or {}).values():
                assert link["operationId"] in {o["operationId"] for _, o in OPERATIONS}


def test_time_zones_are_strings_checked_by_the_server() -> None:
    for _, operation in OPERATIONS:
        for parameter in operation.get("parameters") or []:
            if parameter["name"] == "tz":
                assert parameter["schema"]["type"] == "string"
                assert "enum" not in parameter["schema"]
    assert "ZoneName" not in SCHEMAS


def test_the_document_is_the_same_whatever_the_hash_seed() -> None:
    """Generated clients are compared with it (0021): two processes with different hash
    seeds (Litestar keeps a handler's methods in a set) must print the same bytes."""
    script = (
        "import sys\n"
        "from taskapp.config import Settings\n"
        "from taskapp.entrypoints.cli import openapi_json\n"
        "sys.stdout.write(openapi_json(Settings(jwt_secret='only-for-the-document-' + 'x' * 20)))\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
        )
        for seed in ("1", "2")
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1]
