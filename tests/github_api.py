"""GitHub's own REST description (tests/data/github/openapi-subset.json) as a test oracle.

`Api.check_request` says what is wrong with a request the bot sent: an endpoint GitHub does not
have, an undeclared query parameter, a body that breaks the operation's schema (51 annotations, a
70,000-character summary, `annotation_level: "error"`...). `Api.check_response` does the same for
what a stand-in answered, so mocks cannot drift from GitHub's real shapes. GraphQL is not in the
REST description: its envelope and blob expressions are checked by hand.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DATA = Path(__file__).parent / "data" / "github"
SPEC_URI = "urn:github-openapi-subset"
_GRAPHQL_VAR = re.compile(r"\$(\w+)\s*:")
_EXPRESSION = re.compile(r"^[0-9a-f]{40}:[^:].*$")


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Api:
    def __init__(self, spec_path: Path = DATA / "openapi-subset.json"):
        self.spec = json.loads(spec_path.read_text())
        self.registry = Registry().with_resource(SPEC_URI, Resource.from_contents(self.spec, DRAFT4))
        self.routes = []
        for template, ops in self.spec["paths"].items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            if template.endswith("/contents/{path}"):  # the path parameter spans folders
                pattern = pattern[: -len("[^/]+")] + ".+"
            rx = re.compile("^" + pattern + "$")
            for method in ops:
                if method in ("get", "post", "patch", "put", "delete"):
                    self.routes.append((rx, method.upper(), template))

    def example(self, name: str):
        """A fresh copy of one of GitHub's sample bodies (components/examples)."""
        return copy.deepcopy(self.spec["components"]["examples"][name]["value"])

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        for rx, verb, template in self.routes:
            if verb == method and rx.match(path):
                return template, self.spec["paths"][template][method.lower()]
        return None

    @lru_cache(maxsize=None)
    def _validator(self, *pointer: str) -> OAS30Validator:
        return OAS30Validator({"$ref": f"{SPEC_URI}#/{_pointer(*pointer)}"}, registry=self.registry)

    def _errors(self, instance, *pointer: str) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
                for e in self._validator(*pointer).iter_errors(instance)]

    def _parameters(self, op: dict) -> list[dict]:
        out = []
        for p in op.get("parameters", []):
            if "$ref" in p:
                p = self.spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
            out.append(p)
        return out

    def check_request(self, method: str, url: str, body: bytes | str | None) -> list[str]:
        parts = urlsplit(url)
        path = unquote(parts.path).removeprefix("/api/v3")  # GitHub Enterprise Server's REST prefix
        if path.endswith("/graphql"):
            return check_graphql(method, body)
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path}: not an operation of GitHub's REST API subset"]
        template, op = found
        where = f"{method} {template}"
        problems = []
        declared = {p["name"]: p for p in self._parameters(op) if p["in"] == "query"}
        for name, value in parse_qsl(parts.query):
            if name not in declared:
                problems.append(f"{where}: undeclared query parameter {name!r}")
            elif declared[name].get("schema", {}).get("type") == "integer" and not value.isdigit():
                problems.append(f"{where}: {name}={value!r} is not an integer")
            elif name == "per_page" and int(value) > 100:
                problems.append(f"{where}: per_page={value} over GitHub's maximum of 100")
        if "requestBody" in op:
            if not body:
                if op["requestBody"].get("required"):
                    problems.append(f"{where}: request body required")
            else:
                try:
                    data = json.loads(body)
                except ValueError:
                    return problems + [f"{where}: request body is not JSON"]
                pointer = ("paths", template, method.lower(), "requestBody", "content", "application/json", "schema")
                problems += [f"{where}: {e}" for e in self._errors(data, *pointer)]
        elif body:
            problems.append(f"{where}: sends a body the operation does not take")
        return problems

    def check_response(self, method: str, path: str, status: int, data) -> list[str]:
        found = self.operation(method, unquote(path))
        if found is None or not 200 <= status < 300 or data is None:
            return []
        template, op = found
        response = op["responses"].get(str(status))
        if response is None:
            return [f"{method} {template}: GitHub does not answer {status}"]
        content = response.get("content", {}).get("application/json")
        if content is None:
            return []
        pointer = ("paths", template, method.lower(), "responses", str(status), "content", "application/json", "schema")
        return [f"response of {method} {template}: {e}" for e in self._errors(data, *pointer)]


def check_graphql(method: str, body) -> list[str]:
    if method != "POST":
        return [f"{method} /graphql: GraphQL takes POST"]
    try:
        data = json.loads(body or b"")
    except ValueError:
        return ["POST /graphql: body is not JSON"]
    if not isinstance(data.get("query"), str) or not isinstance(data.get("variables", {}), dict):
        return ["POST /graphql: body must be {query: string, variables: object}"]
    declared = set(_GRAPHQL_VAR.findall(data["query"]))
    given = set(data.get("variables", {}))
    problems = [f"POST /graphql: variable ${v} declared but not given" for v in sorted(declared - given)]
    problems += [f"POST /graphql: variable {v!r} given but not declared" for v in sorted(given - declared)]
    problems += [f"POST /graphql: {v}={value!r} is not 'SHA:path'" for v, value in data["variables"].items()
                 if re.fullmatch(r"e\d+", v) and not _EXPRESSION.match(str(value))]
    if data["query"].count("{") != data["query"].count("}"):
        problems.append("POST /graphql: unbalanced braces in the query")
    return problems


@lru_cache(maxsize=1)
def api() -> Api:
    return Api()
