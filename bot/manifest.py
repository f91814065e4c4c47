"""The GitHub App manifest (`mfbot manifest`), the permission each GitHub call needs, and the
registration flow: an HTML form that posts the manifest to GitHub, a callback page that shows the
one-time code, and the code exchange that returns the App id, key and webhook secret.

The permission table is the single place that says which GitHub endpoint needs which permission;
`tests/test_manifest.py` scans the bot's code for the calls it makes and checks the manifest asks
for exactly what they need. `endpoint_template` also names endpoints in the metrics.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, request

ACCESS = {"read": 1, "write": 2}

# What the App asks for. tests/test_manifest.py checks that this is exactly what the code's calls need.
PERMISSIONS = {"checks": "write", "contents": "read", "issues": "write", "metadata": "read", "pull_requests": "write"}

# Mandatory for every App with repository permissions; GitHub adds it even when not asked.
MANDATORY = {"metadata": "read"}

# Events the bot handles -> the permission GitHub requires to subscribe to it (None: always
# delivered and not subscribable: GitHub rejects a manifest listing it, "Default events unsupported").
EVENTS: dict[str, str | None] = {
    "pull_request": "pull_requests",
    "issue_comment": "issues",
    "check_run": "checks",
    "check_suite": "checks",
    "installation": None,
}

# "METHOD /path template" -> (permission, access); (None, None): App JWT or no token needed.
ENDPOINTS: dict[str, tuple[str | None, str | None]] = {
    "POST /app/installations/{id}/access_tokens": (None, None),
    "GET /app": (None, None),
    "GET /app/installations": (None, None),
    "GET /app/installations/{id}": (None, None),
    "GET /repos/{owner}/{repo}/installation": (None, None),
    "POST /app-manifests/{code}/conversions": (None, None),
    "GET /": (None, None),
    "GET /repos/{owner}/{repo}": ("metadata", "read"),
    "GET /repos/{owner}/{repo}/collaborators/{user}/permission": ("metadata", "read"),
    "GET /repos/{owner}/{repo}/pulls/{id}": ("pull_requests", "read"),
    "GET /repos/{owner}/{repo}/pulls/{id}/files": ("pull_requests", "read"),
    "GET /repos/{owner}/{repo}/pulls/{id}/comments": ("pull_requests", "read"),
    "GET /repos/{owner}/{repo}/pulls/{id}/reviews": ("pull_requests", "read"),
    "POST /repos/{owner}/{repo}/pulls/{id}/reviews": ("pull_requests", "write"),
    "POST /repos/{owner}/{repo}/pulls/{id}/comments": ("pull_requests", "write"),
    "GET /repos/{owner}/{repo}/commits/{sha}/pulls": ("pull_requests", "read"),
    "GET /repos/{owner}/{repo}/commits/{sha}": ("contents", "read"),
    "GET /repos/{owner}/{repo}/contents/{path}": ("contents", "read"),
    "GET /repos/{owner}/{repo}/git/blobs/{sha}": ("contents", "read"),
    "POST /graphql": (None, None),  # what a query needs depends on its fields: GRAPHQL_FIELDS
    "POST /repos/{owner}/{repo}/check-runs": ("checks", "write"),
    "PATCH /repos/{owner}/{repo}/check-runs/{id}": ("checks", "write"),
    "GET /repos/{owner}/{repo}/check-runs/{id}": ("checks", "read"),
    "GET /repos/{owner}/{repo}/commits/{sha}/check-runs": ("checks", "read"),
    "GET /repos/{owner}/{repo}/issues/{id}": ("issues", "read"),
    "GET /repos/{owner}/{repo}/issues/{id}/comments": ("issues", "read"),
    "POST /repos/{owner}/{repo}/issues/{id}/comments": ("issues", "write"),
    "GET /repos/{owner}/{repo}/issues/comments/{id}": ("issues", "read"),
    "PATCH /repos/{owner}/{repo}/issues/comments/{id}": ("issues", "write"),
    "POST /repos/{owner}/{repo}/issues/comments/{id}/reactions": ("issues", "write"),
}

# PyGithub methods -> endpoint. A list is keyed by a word of the receiver's name (`run.edit`,
# `comment.edit`): the same method name means different endpoints on different classes.
_R = "/repos/{owner}/{repo}"
PYGITHUB: dict[str, str | list[tuple[str, str]]] = {
    "get_access_token": "POST /app/installations/{id}/access_tokens",
    "get_repo_installation": "GET /repos/{owner}/{repo}/installation",
    "get_app_installation": "GET /app/installations/{id}",
    "get_installations": "GET /app/installations",
    "get_repo": f"GET {_R}",
    "get_pull": f"GET {_R}/pulls/{{id}}",
    "get_files": f"GET {_R}/pulls/{{id}}/files",
    "get_review_comments": f"GET {_R}/pulls/{{id}}/comments",
    "get_reviews": f"GET {_R}/pulls/{{id}}/reviews",
    "create_review": f"POST {_R}/pulls/{{id}}/reviews",
    "create_review_comment": f"POST {_R}/pulls/{{id}}/comments",
    "get_commit": f"GET {_R}/commits/{{sha}}",
    "get_pulls": f"GET {_R}/commits/{{sha}}/pulls",
    "get_contents": f"GET {_R}/contents/{{path}}",
    "get_git_blob": f"GET {_R}/git/blobs/{{sha}}",
    "graphql_query": "POST /graphql",
    "create_check_run": f"POST {_R}/check-runs",
    "get_check_run": f"GET {_R}/check-runs/{{id}}",
    "get_check_runs": f"GET {_R}/commits/{{sha}}/check-runs",
    "get_collaborator_permission": f"GET {_R}/collaborators/{{user}}/permission",
    "get_collaborator_role_name": f"GET {_R}/collaborators/{{user}}/permission",
    "get_issue": f"GET {_R}/issues/{{id}}",
    "get_issue_comments": f"GET {_R}/issues/{{id}}/comments",
    "get_issue_comment": f"GET {_R}/issues/comments/{{id}}",
    "create_issue_comment": f"POST {_R}/issues/{{id}}/comments",
    "get_comments": [("issue", f"GET {_R}/issues/{{id}}/comments"), ("pull", f"GET {_R}/pulls/{{id}}/comments"),
                     ("pr", f"GET {_R}/pulls/{{id}}/comments")],
    "create_comment": [("issue", f"POST {_R}/issues/{{id}}/comments")],
    "edit": [("run", f"PATCH {_R}/check-runs/{{id}}"), ("check", f"PATCH {_R}/check-runs/{{id}}"),
             ("comment", f"PATCH {_R}/issues/comments/{{id}}"), ("summary", f"PATCH {_R}/issues/comments/{{id}}")],
    "create_reaction": [("comment", f"POST {_R}/issues/comments/{{id}}/reactions")],
}


def endpoint_template(method: str, url: str) -> str:
    """`PATCH https://ghe.example/api/v3/repos/o/r/check-runs/7?x=1` -> `PATCH /repos/{owner}/{repo}/check-runs/{id}`:
    names with low cardinality (no owner, number, sha or path in them). Route templates written with
    names (`/pulls/{pull_number}`) map to the same name."""
    path = re.sub(r"^(?:[a-z]+://[^/]+|\{\})", "", url).split("?", 1)[0]
    path = re.sub(r"^/api/v3(?=/|$)", "", path)
    path = re.sub(r"^/api(?=/graphql)", "", path)
    parts = [p for p in path.split("/") if p]
    out: list[str] = []
    i = 0
    while i < len(parts):
        part, prev = parts[i], (out[-1] if out else "")
        if prev == "repos" and i + 1 < len(parts):
            out += ["{owner}", "{repo}"]
            i += 2
            continue
        if prev == "contents":
            out.append("{path}")
            break
        if re.fullmatch(r"\{\w+\}", part):  # a route template written with names: /pulls/{number}
            part = "{}"
        if prev == "collaborators":
            out.append("{user}")
        elif prev == "app-manifests":
            out.append("{code}")
        elif re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", part) or (prev in ("commits", "blobs") and part != "{}"):
            out.append("{sha}")
        elif part.isdigit() or part == "{}":
            out.append("{sha}" if prev in ("commits", "blobs") else "{id}")
        else:
            out.append(part)
        i += 1
    return f"{method.upper()} /" + "/".join(out)


def build_manifest(url: str, name: str = "mfbot", public: bool = False) -> dict:
    """The App manifest for a deployment reachable at `url` (no trailing slash needed)."""
    base = url.rstrip("/")
    return {
        "name": name,
        "url": base,
        "hook_attributes": {"url": f"{base}/webhook", "active": True},
        "redirect_url": f"{base}{CALLBACK_PATH}",
        "description": "Reviews MODEL_FAILURES.md reports of IaC training-data pull requests: "
                       "check run with annotations, review comments, one summary comment, /recheck.",
        "public": public,
        "default_permissions": dict(PERMISSIONS),
        "default_events": [e for e, perm in EVENTS.items() if perm],
    }


# -- the registration flow ---------------------------------------------------------------------

CALLBACK_PATH = "/manifest/callback"


def registration_form(manifest: dict, org: str | None = None, web_url: str = "https://github.com") -> str:
    """A page that posts the manifest to GitHub when its button is clicked (the manifest flow)."""
    target = f"{web_url}/organizations/{org}/settings/apps/new" if org else f"{web_url}/settings/apps/new"
    value = html.escape(json.dumps(manifest), quote=True)
    return (f'<!doctype html>\n<html><body>\n<form action="{html.escape(target)}" method="post">\n'
            f'<input type="hidden" name="manifest" value="{value}">\n'
            f'<button type="submit">Register {html.escape(manifest["name"])} on GitHub</button>\n'
            "</form>\n</body></html>\n")


blueprint = Blueprint("mfbot_manifest", __name__)


@blueprint.get(CALLBACK_PATH)
def manifest_callback():
    """GitHub redirects here with a one-time `code` after the App was registered from the manifest."""
    code = request.args.get("code", "")
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,100}", code):
        return "No registration code in this link.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    body = (f"The App is registered. Within one hour, run:\n\n    mfbot manifest --exchange {code}\n\n"
            "It prints the App id and webhook secret and writes the private key to a file.\n")
    return body, 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@dataclass
class Credentials:
    app_id: int
    slug: str
    webhook_secret: str
    pem: str
    html_url: str


def exchange_code(code: str, api_url: str = "https://api.github.com", timeout: float = 10) -> Credentials:
    """`POST /app-manifests/{code}/conversions` (no authentication; the code is valid for one hour)."""
    import requests

    resp = requests.post(f"{api_url.rstrip('/')}/app-manifests/{code}/conversions",
                         headers={"Accept": "application/vnd.github+json"}, timeout=timeout)
    if resp.status_code != 201:
        raise RuntimeError(f"GitHub answered {resp.status_code} to the code exchange (codes expire after "
                           f"one hour and work once): {resp.text[:200]}")
    data = resp.json()
    return Credentials(data["id"], data.get("slug", ""), data["webhook_secret"], data["pem"],
                       data.get("html_url", ""))


def save_credentials(creds: Credentials, key_path: Path) -> str:
    """Write the private key with owner-only permissions; return the environment lines to set."""
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(creds.pem)
    return (f"GITHUB_APP_ID={creds.app_id}\nGITHUB_PRIVATE_KEY_PATH={key_path.resolve()}\n"
            f"GITHUB_WEBHOOK_SECRET={creds.webhook_secret}\n")


# -- what the code calls ------------------------------------------------------------------------

# GraphQL fields the bot reads -> the permission each needs; a mutation is never expected.
GRAPHQL_FIELDS: dict[str, tuple[str, str]] = {
    "object(": ("contents", "read"),
    "pullRequest(": ("pull_requests", "read"),
    "checkSuites(": ("checks", "read"),
    "checkRuns(": ("checks", "read"),
    "issue(": ("issues", "read"),
}
ENDPOINTS.update({f"GRAPHQL {name.rstrip('(')}": need for name, need in GRAPHQL_FIELDS.items()})
# Generic transports (PyGithub's requester): the endpoint is named where the path is written.
TRANSPORTS = {"requestJsonAndCheck", "requestJson", "requestBlobAndCheck", "requestBlob", "requestMultipart",
              "requestMultipartAndCheck", "requestMemoryBlobAndCheck", "graphql_query", "graphql_query_class",
              "graphql_node", "graphql_node_class"}


@dataclass(frozen=True)
class ApiCall:
    path: str  # file
    line: int
    endpoint: str | None  # None: a GitHub call this table cannot name (the test reports it)
    source: str  # the code, for the message


_VERBS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_REST = re.compile(r"^(?:https?://[^/]+|\{\})?(?:/api/v3)?/(repos|app|app-manifests|installation|graphql)(?:/|$)")
_GRAPHQL = re.compile("|".join(re.escape(f) for f in GRAPHQL_FIELDS))


def api_calls(source: str, path: str, pygithub_names: set[str], own_names: set[str] = frozenset()) -> list[ApiCall]:
    """GitHub calls in one module: PyGithub object methods (any name in `pygithub_names` not defined
    by the bot itself in `own_names`), REST paths written as strings next to their verb (a path
    with no verb beside it, as in a pagination helper, counts as GET), and GraphQL fields read."""
    tree = ast.parse(source, path)
    # Module-level string constants, so `pages(FILES_ROUTE, ...)` is read as the route it names.
    constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                 for t in n.targets if isinstance(t, ast.Name)}
    calls: list[ApiCall] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found = _string_path(node, constants)
            if found is not None:
                verb, rest = found
                calls.append(ApiCall(path, node.lineno, endpoint_template(verb, rest), ast.unparse(node)[:120]))
            elif isinstance(node.func, ast.Attribute) and node.func.attr not in TRANSPORTS:
                name = node.func.attr
                if name in PYGITHUB or (name in pygithub_names and name not in own_names):
                    calls.append(ApiCall(path, node.lineno, _pygithub_endpoint(name, node), ast.unparse(node)[:120]))
        elif isinstance(node, (ast.Constant, ast.JoinedStr)):
            text = _literal(node) or ""
            if re.search(r"\bmutation\b[^{]*\{", text):
                calls.append(ApiCall(path, node.lineno, None, "a GraphQL mutation"))
            for field_name in sorted(set(_GRAPHQL.findall(text))) if "{" in text else ():
                calls.append(ApiCall(path, node.lineno, f"GRAPHQL {field_name.rstrip('(')}", text.strip()[:120]))
    return calls


def _pygithub_endpoint(name: str, node: ast.Call) -> str | None:
    target = PYGITHUB.get(name)
    if isinstance(target, list):
        receiver = ast.unparse(node.func.value).lower()
        return next((ep for hint, ep in target if hint in receiver), None)
    return target


def _string_path(node: ast.Call, constants: dict[str, str]) -> tuple[str, str] | None:
    """(verb, path) when a call's arguments hold a REST path, e.g. `request("GET", route, f"/repos/...")`."""
    verb, rest = None, None
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        text = constants.get(arg.id) if isinstance(arg, ast.Name) else _literal(arg)
        if text is None:
            continue
        if text.upper() in _VERBS:
            verb = text.upper()
        elif rest is None and _REST.match(text):
            rest = text
    if rest is None:
        return None
    if verb is None and isinstance(node.func, ast.Attribute) and node.func.attr.upper() in _VERBS:
        verb = node.func.attr.upper()  # requests.post(url), session.get(url)
    return verb or "GET", rest


def _literal(node: ast.expr) -> str | None:
    """A string constant, or an f-string with `{}` for each formatted value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def scan_package(root: Path, pygithub_names: set[str]) -> list[ApiCall]:
    """Every GitHub call in the Python files under `root` (the `bot` package)."""
    sources = {p: p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py"))}
    own = {n.name for text in sources.values() for n in ast.walk(ast.parse(text))
           if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return [c for p, text in sources.items() for c in api_calls(text, str(p), pygithub_names, own)]


def needed_permissions(calls: list[ApiCall]) -> dict[str, str]:
    """The least permissions that cover `calls` (plus the mandatory metadata: read)."""
    need = dict(MANDATORY)
    for call in calls:
        perm, access = ENDPOINTS[call.endpoint]
        if perm and ACCESS[access] > ACCESS.get(need.get(perm, ""), 0):
            need[perm] = access
    return dict(sorted(need.items()))
