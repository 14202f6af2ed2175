"""The OpenAPI document: it validates, names exactly what the app serves, and answers
generated from it conform to it (schemathesis, in-process, on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
from typing import Any

import falcon
import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance

from taskflow_core import Taskflow
from taskflow_core.application.feed import MAX_WAIT
from taskflow_core.application.idempotency import MAX_KEY_LENGTH
from taskflow_core.application.query import MAX_LIMIT, MAX_OFFSET
from taskflow_core.memory import MemoryStore
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from taskflow_falcon.openapi import openapi_document

JSON = "application/json"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Examples per operation in the suite; `nox -s fuzz` runs many more.
EXAMPLES = int(os.environ.get("TASKFLOW_FUZZ_EXAMPLES", "25"))


def served_routes(app: falcon.App[Any, Any]) -> set[tuple[str, str]]:
    """(template, method) of every responder the app's router holds, OPTIONS aside."""
    found: set[tuple[str, str]] = set()
    stack = list(app._router._roots)
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.method_map:
            for method, responder in node.method_map.items():
                # falcon fills the methods a resource lacks with its own 405 responder.
                if method in METHODS and not getattr(responder, "__name__", "").startswith(
                    "method_not_allowed"
                ):
                    found.add((node.uri_template, method))
    return found


def documented_routes() -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def test_the_document_is_valid_openapi_3_1(memory_store: Store) -> None:
    validate(openapi_document())
    client = falcon.testing.TestClient(create_app(Taskflow(memory_store)))
    served = client.simulate_get("/openapi.json")
    assert served.status_code == 200
    assert served.json["openapi"] == "3.1.0"


def test_the_document_names_exactly_the_routes_the_app_serves(memory_store: Store) -> None:
    # The case browser's pages (/ui/..., docs/browser.md) are for people, not part of the
    # API the document describes: the API is the app without them, and they add only /ui.
    api = served_routes(create_app(Taskflow(memory_store), ui=False))
    assert documented_routes() == api
    pages = served_routes(create_app(Taskflow(memory_store))) - api
    assert pages
    assert all(path == "/ui" or path.startswith("/ui/") for path, _ in pages)


def test_every_operation_has_a_unique_name_and_a_declared_tag() -> None:
    document = openapi_document()
    declared = {tag["name"] for tag in document["tags"]}
    operations = [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]
    names = [operation["operationId"] for operation in operations]
    assert len(names) == len(set(names))
    assert all(len(op["tags"]) == 1 and op["tags"][0] in declared for op in operations)


def test_every_json_answer_and_body_has_an_example_its_schema_accepts() -> None:
    document = openapi_document()
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            json_answer = operation["responses"].get("200", {}).get("content", {}).get(JSON)
            contents = [json_answer] if json_answer else []
            contents += (operation.get("requestBody") or {}).get("content", {}).values()
            for content in contents:
                assert "example" in content, (method, path)
                # The schema's references point into the document: validate from its root.
                root = {"components": document["components"], "allOf": [content["schema"]]}
                Draft202012Validator(root).validate(content["example"])
                checked += 1
    assert checked > 25


def test_the_document_names_its_server_and_how_it_authenticates() -> None:
    document = openapi_document()
    assert document["servers"] == [{"url": "/", "description": "This server"}]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "forwardedUser"}
    assert {} in document["security"]  # unauthenticated by default (taskflow serve --auth none)
    assert document["paths"]["/_health"]["get"]["security"] == []
    assert document["paths"]["/_ready"]["get"]["security"] == []


def test_the_limits_are_the_ones_the_code_enforces() -> None:
    paths = openapi_document()["paths"]
    by_name = {p["name"]: p for p in paths["/"]["get"]["parameters"]}
    assert by_name["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert by_name["offset"]["schema"]["maximum"] == MAX_OFFSET
    feed = {p["name"]: p for p in paths["/_changes"]["get"]["parameters"]}
    assert feed["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert feed["wait"]["schema"]["maximum"] == MAX_WAIT
    key = next(p for p in paths["/"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["maxLength"] == MAX_KEY_LENGTH


def test_the_docs_page_is_served_without_anything_from_elsewhere(memory_store: Store) -> None:
    client = falcon.testing.TestClient(create_app(Taskflow(memory_store)))
    page = client.simulate_get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # Without JavaScript, the plain reference shows.
    assert "PUT</span> /{case_id}/status" in page.text.split("<noscript>")[1]
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts == [
        '<script src="docs/assets/swagger-ui-bundle.js">',
        '<script src="docs/assets/docs.js">',
    ]
    assert "http://" not in page.text
    assert "https://" not in page.text
    for asset in re.findall(r'(?:src|href)="(docs/assets/[^"]+)"', page.text):
        served = client.simulate_get("/" + asset)
        assert served.status_code == 200, asset
        assert served.headers["x-content-type-options"] == "nosniff"
        assert len(served.content) > 400
    start = client.simulate_get("/docs/assets/docs.js").text
    assert "validatorUrl: null" in start  # no badge fetched from validator.swagger.io


def test_the_docs_page_serves_only_its_own_files(memory_store: Store) -> None:
    client = falcon.testing.TestClient(create_app(Taskflow(memory_store)))
    for name in ("package.json", "..%2Fapi.py", "swagger-ui.js.map", "x"):
        answer = client.simulate_get(f"/docs/assets/{name}")
        assert answer.status_code == 404
        assert answer.json["message"]
    licence = client.simulate_get("/docs/assets/LICENSE")
    assert licence.status_code == 200
    assert "Apache License" in licence.text


def test_docs_with_a_trailing_slash_moves_to_docs(memory_store: Store) -> None:
    client = falcon.testing.TestClient(create_app(Taskflow(memory_store)))
    answer = client.simulate_get("/docs/")
    assert answer.status_code == 301
    assert answer.headers["location"].endswith("/docs")


class Dispatch:
    """A WSGI app passing each request to the app of the running test: schemathesis reads
    the schema once, at collection, while each test needs a fresh store of its own."""

    def __init__(self) -> None:
        self.target: Any = create_app(Taskflow(MemoryStore()))

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.target(environ, start_response)


DISPATCH = Dispatch()
schema = schemathesis.openapi.from_wsgi("/openapi.json", DISPATCH)


@pytest.fixture(params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue(f"{request.param}_store")
    flow = Taskflow(store)
    flow.create({"subject": "seed"}, user={"profile": {"id": "alice"}})  # a listing to page
    DISPATCH.target = create_app(flow, feed=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_requests_get_no_5xx_and_answers_conform(case: Any, served: None) -> None:
    # Every check but "a valid request is accepted": JSON Schema cannot say that no string
    # anywhere in a case's data may hold NUL or a lone surrogate, which no store can keep,
    # so such bodies are valid to the document and still (rightly) refused with a 400.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
