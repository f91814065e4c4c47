"""A stateful stand-in for the parts of GitHub the App calls, checked against GitHub's schema.

One `FakeGitHub` holds repositories (pull requests, files at a commit), and records what the bot
creates (check runs, reviews, comments, reactions). It answers with GitHub's own sample bodies
(openapi-subset.json `components/examples`) adjusted to its state, and records every request and
every schema violation (`violations`) of requests and answers. Two ways in:

- `install(responses_mock)`: serve it through `responses` (in-process tests: the network is the
  only thing replaced);
- `serve()`: a real HTTP server on loopback (subprocess workers, benchmarks), optional latency.

Faults: `fail(method, template, status, headers=..., times=n)` answers the next n matching requests
with an error; `hook(method, template, fn)` runs `fn(request)` before a request is handled (block
it, simulate a push, ...).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.github_api import api

GRAPHQL_TEXT_LIMIT = 512_000
BOT_LOGIN = "mfbot[bot]"


@dataclass
class PullRequest:
    number: int
    head_sha: str
    files: list[dict]  # {filename, status, patch?}
    author: str = "octocat"
    state: str = "open"


@dataclass
class Request:
    method: str
    path: str
    template: str
    query: dict
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when the request arrived

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    method: str
    template: str
    status: int
    headers: dict
    body: dict
    times: int


@dataclass
class FakeGitHub:
    owner: str = "octo"
    repo: str = "tasks"
    app_id: int = 4242
    token_lifetime: float = 3600.0
    latency: float = 0.0  # seconds added to every answer (the benchmark uses 0.05)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    blobs: dict[tuple[str, str], str | bytes] = field(default_factory=dict)  # (sha, path) -> content
    default_branch: dict[str, str] = field(default_factory=dict)  # path -> text on the default branch
    permissions: dict[str, str] = field(default_factory=dict)  # user -> admin/write/read; else 404
    check_runs: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)  # issue comments
    reviews: list[dict] = field(default_factory=list)
    reactions: list[dict] = field(default_factory=list)
    tokens: list[dict] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._hooks: dict[tuple[str, str], Callable[[Request], None]] = {}

    # --- set-up --------------------------------------------------------------------------------

    def add_pull(self, number: int, sha: str, files: dict[str, str | bytes], patches: dict[str, str] | None = None,
                 author: str = "octocat", removed: tuple[str, ...] = ()) -> PullRequest:
        """A PR whose head `sha` holds `files`; each is listed as added with an all-added patch unless
        `patches` gives one (None: GitHub omits the patch, as for binary or huge files)."""
        patches = patches or {}
        listed = []
        for path, content in files.items():
            self.blobs[(sha, path)] = content
            entry = {"filename": path, "status": "added"}
            patch = patches.get(path, _added_patch(content)) if path in patches or isinstance(content, str) else None
            if patch is not None:
                entry["patch"] = patch
            listed.append(entry)
        listed += [{"filename": p, "status": "removed", "patch": "@@ -1 +0,0 @@\n-x"} for p in removed]
        pr = PullRequest(number, sha, listed, author)
        self.pulls[number] = pr
        return pr

    def push(self, number: int, sha: str) -> None:
        """A new head for the PR with the same files."""
        pr = self.pulls[number]
        for path in [f["filename"] for f in pr.files]:
            if (pr.head_sha, path) in self.blobs:
                self.blobs[(sha, path)] = self.blobs[(pr.head_sha, path)]
        pr.head_sha = sha

    def fail(self, method: str, template: str, status: int, headers: dict | None = None,
             body: dict | None = None, times: int = 1) -> None:
        self._faults.append(Fault(method, template, status, headers or {}, body or {"message": "fault"}, times))

    def hook(self, method: str, template: str, fn: Callable[[Request], None]) -> None:
        self._hooks[(method, template)] = fn

    # --- queries for assertions -------------------------------------------------------------------

    def calls(self, method: str | None = None, template: str | None = None) -> list[Request]:
        return [r for r in self.log if (method is None or r.method == method) and (template is None or r.template == template)]

    def runs_for(self, sha: str) -> list[dict]:
        return [r for r in self.check_runs if r["head_sha"] == sha]

    def summaries(self, number: int) -> list[dict]:
        return [c for c in self.comments if c["number"] == number and c["body"].startswith("<!-- mfbot:summary -->")]

    def review_comments(self, number: int) -> list[dict]:
        return [c for r in self.reviews if r["number"] == number for c in r["comments"]]

    # --- transport ---------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, dict, bytes]:
        parts = urlsplit(url)
        path = unquote(parts.path).removeprefix("/api/v3")  # GitHub Enterprise Server's REST prefix
        query = dict(parse_qsl(parts.query))
        body = body or b""
        if isinstance(body, str):
            body = body.encode()
        found = api().operation(method, path)
        template = "/graphql" if path.endswith("/graphql") else (found[0] if found else path)
        request = Request(method, path, template, query, {k.lower(): v for k, v in headers.items()}, body)
        with self._lock:
            self.log.append(request)
            self.violations += api().check_request(method, url, body)
        hook = self._hooks.get((method, template))
        if hook:
            hook(request)
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            fault = next((f for f in self._faults if f.method == method and f.template == template and f.times), None)
            if fault:
                fault.times -= 1
                return fault.status, {"Content-Type": "application/json", **fault.headers}, json.dumps(fault.body).encode()
            status, data = self._route(request)
            if isinstance(data, str):  # raw file content
                return status, {"Content-Type": "application/vnd.github.raw+json"}, data.encode()
            self.violations += api().check_response(method, path, status, data)
            return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

    def install(self, mock, base: str = "https://api.github.com") -> None:
        """Answer every request to `base` through a `responses.RequestsMock`."""
        def callback(req):
            status, headers, body = self.handle(req.method, req.url, dict(req.headers), req.body)
            return status, headers, body
        pattern = re.compile(re.escape(urlsplit(base).hostname) + r"(:\d+)?/.*")
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            mock.add_callback(method, re.compile(r"https?://" + pattern.pattern), callback=callback)

    def serve(self):
        """A real HTTP server on a free loopback port; returns (base_url, shutdown)."""
        from werkzeug.serving import WSGIRequestHandler, make_server
        from werkzeug.wrappers import Request as WRequest, Response

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):
                pass

        def wsgi(environ, start_response):
            req = WRequest(environ)
            status, headers, body = self.handle(req.method, req.url, dict(req.headers), req.get_data())
            return Response(body, status=status, headers=headers)(environ, start_response)

        server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        return f"http://127.0.0.1:{server.server_port}", server.shutdown

    # --- endpoints ---------------------------------------------------------------------------------

    def _route(self, r: Request):
        handlers = {
            "/app/installations/{installation_id}/access_tokens": self._token,
            "/graphql": self._graphql,
            "/repos/{owner}/{repo}/pulls/{pull_number}/files": self._files,
            "/repos/{owner}/{repo}/pulls/{pull_number}": self._pull,
            "/repos/{owner}/{repo}/contents/{path}": self._contents,
            "/repos/{owner}/{repo}/check-runs": self._create_run,
            "/repos/{owner}/{repo}/check-runs/{check_run_id}": self._update_run,
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews": self._review,
            "/repos/{owner}/{repo}/issues/{issue_number}/comments": self._comment,
            "/repos/{owner}/{repo}/issues/comments/{comment_id}": self._edit_comment,
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": self._react,
            "/repos/{owner}/{repo}/collaborators/{username}/permission": self._permission,
            "/repos/{owner}/{repo}/commits/{commit_sha}/pulls": self._commit_pulls,
        }
        handler = handlers.get(r.template)
        if handler is None:
            return 404, {"message": "Not Found"}
        if r.template != "/graphql" and not r.template.startswith("/app/") and \
                not r.path.startswith(f"/repos/{self.owner}/{self.repo}/"):
            return 404, {"message": "Not Found"}
        if r.template.startswith("/app/"):
            if not r.headers.get("authorization", "").startswith("Bearer "):
                return 401, {"message": "A JSON web token could not be decoded"}
        elif not self._token_ok(r.headers.get("authorization", "")):
            return 401, {"message": "Bad credentials"}
        return handler(r)

    def _token_ok(self, header: str) -> bool:
        value = header.split(" ", 1)[-1]
        now = datetime.now(timezone.utc)
        return any(t["token"] == value and t["expires"] > now for t in self.tokens)

    def _token(self, r: Request):
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.token_lifetime)
        token = f"ghs_fake{len(self.tokens) + 1:04d}"
        self.tokens.append({"token": token, "expires": expires, "jwt": r.headers["authorization"][7:]})
        data = api().example("installation-token")
        data.update(token=token, expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"))
        return 201, data

    def _pr(self, r: Request) -> PullRequest | None:
        m = re.search(r"/(?:pulls|issues)/(\d+)", r.path)
        return self.pulls.get(int(m.group(1))) if m else None

    def _files(self, r: Request):
        pr = self._pr(r)
        if pr is None:
            return 404, {"message": "Not Found"}
        per_page, page = int(r.query.get("per_page", 30)), int(r.query.get("page", 1))
        out = []
        for f in pr.files[(page - 1) * per_page: page * per_page]:
            item = api().example("diff-entry-items")[0]
            item.update(filename=f["filename"], status=f["status"])
            item.pop("patch", None)
            if "patch" in f:
                item["patch"] = f["patch"]
            out.append(item)
        return 200, out

    def _pull(self, r: Request):
        pr = self._pr(r)
        if pr is None:
            return 404, {"message": "Not Found"}
        data = api().example("pull-request")
        data["number"], data["state"] = pr.number, pr.state
        data["head"]["sha"] = pr.head_sha
        data["user"]["login"] = pr.author
        data["requested_teams"] = []  # GitHub's own example lacks a field its schema now requires
        return 200, data

    def _contents(self, r: Request):
        path = r.path.split("/contents/", 1)[1]
        content = self.blobs.get((r.query.get("ref"), path))
        if content is None:
            return 404, {"message": "Not Found"}
        if "raw" in r.headers.get("accept", ""):
            return 200, content if isinstance(content, str) else content.decode("latin-1")
        data = api().example("content-file-response-if-content-is-a-file")
        raw = content.encode() if isinstance(content, str) else content
        data.update(path=path, size=len(raw), content=base64.b64encode(raw).decode())
        return 200, data

    def _run_view(self, run: dict) -> dict:
        data = api().example("check-run-example-of-completed-conclusion")
        data.update({k: run[k] for k in ("id", "head_sha", "name", "external_id", "status", "conclusion")})
        data["output"].update(title=run["output"].get("title"), summary=run["output"].get("summary"),
                              text=run["output"].get("text"), annotations_count=len(run["annotations"]))
        data["pull_requests"] = []
        return data

    def _create_run(self, r: Request):
        body = r.json()
        run = {"id": next(self._ids), "head_sha": body["head_sha"], "name": body["name"],
               "external_id": body.get("external_id", ""), "status": body.get("status", "queued"),
               "conclusion": body.get("conclusion"), "output": dict(body.get("output") or {}), "annotations": []}
        run["annotations"] += run["output"].pop("annotations", [])
        self.check_runs.append(run)
        return 201, self._run_view(run)

    def _update_run(self, r: Request):
        run_id = int(r.path.rsplit("/", 1)[1])
        run = next((x for x in self.check_runs if x["id"] == run_id), None)
        if run is None:
            return 404, {"message": "Not Found"}
        body = r.json()
        output = dict(body.get("output") or {})
        run["annotations"] += output.pop("annotations", [])  # GitHub appends annotations
        run["output"].update(output)
        for key in ("status", "conclusion", "external_id", "name"):
            if key in body:
                run[key] = body[key]
        if "conclusion" in body:
            run["status"] = "completed"
        return 200, self._run_view(run)

    def _review(self, r: Request):
        pr, body = self._pr(r), r.json()
        for c in body.get("comments", []):
            if not self._in_diff(pr, c):
                return 422, {"message": "Unprocessable Entity",
                             "errors": ["Pull request review thread line must be part of the diff"]}
        review = {"id": next(self._ids), "number": pr.number, "commit_id": body.get("commit_id"),
                  "body": body.get("body"), "comments": body.get("comments", [])}
        self.reviews.append(review)
        data = api().example("pull-request-review")
        data.update(id=review["id"], body=review["body"] or "", commit_id=review["commit_id"])
        return 200, data

    def _in_diff(self, pr: PullRequest, c: dict) -> bool:
        from bot.diff import parse_patch  # the fake shares only the hunk arithmetic with the bot
        entry = next((f for f in pr.files if f["filename"] == c["path"]), None)
        if entry is None or "patch" not in entry:
            return False
        hunks = parse_patch(entry["patch"])
        start = c.get("start_line", c["line"])
        return any(h.start <= start <= c["line"] <= h.end for h in hunks)

    def _comment(self, r: Request):
        pr = self._pr(r)
        if pr is None:
            return 404, {"message": "Not Found"}
        comment = {"id": next(self._ids), "number": pr.number, "body": r.json()["body"], "bot": True}
        self.comments.append(comment)
        return 201, self._comment_view(comment)

    def _comment_view(self, comment: dict) -> dict:
        data = api().example("issue-comment")
        data.update(id=comment["id"], body=comment["body"])
        data["user"]["login"] = BOT_LOGIN if comment["bot"] else comment.get("user", "octocat")
        return data

    def _edit_comment(self, r: Request):
        comment_id = int(r.path.rsplit("/", 1)[1])
        comment = next((c for c in self.comments if c["id"] == comment_id), None)
        if comment is None:
            return 404, {"message": "Not Found"}
        comment["body"] = r.json()["body"]
        return 200, self._comment_view(comment)

    def _react(self, r: Request):
        comment_id = int(r.path.split("/comments/")[1].split("/")[0])
        content = r.json()["content"]
        again = any(x["comment_id"] == comment_id and x["content"] == content for x in self.reactions)
        if not again:
            self.reactions.append({"comment_id": comment_id, "content": content})
        data = api().example("reaction")
        data["content"] = content
        return (200 if again else 201), data

    def _permission(self, r: Request):
        user = r.path.split("/collaborators/")[1].split("/")[0]
        if user not in self.permissions:
            return 404, {"message": "Not Found"}
        data = api().example("repository-collaborator-permission-response-if-user-has-admin-permissions")
        data["permission"] = data["role_name"] = self.permissions[user]
        data["user"].update(login=user, role_name=self.permissions[user])  # the example predates role_name
        return 200, data

    def _commit_pulls(self, r: Request):
        sha = r.path.split("/commits/")[1].split("/")[0]
        out = []
        for pr in self.pulls.values():
            if pr.head_sha == sha:
                item = api().example("pull-request-simple-items")[0]
                item.update(number=pr.number, state=pr.state, requested_teams=[])  # see _pull
                item["head"]["sha"] = sha
                out.append(item)
        return 200, out

    def _graphql(self, r: Request):
        v = r.json()["variables"]
        repository: dict = {}
        if "number" in v:
            pr = self.pulls.get(v["number"])
            repository["pullRequest"] = None if pr is None else {
                "headRefOid": pr.head_sha, "state": pr.state.upper(), "author": {"login": pr.author},
                "comments": {"nodes": [{"databaseId": c["id"], "body": c["body"], "viewerDidAuthor": c["bot"]}
                                       for c in self.comments if c["number"] == pr.number][-100:]},
                "reviewThreads": {"nodes": [{"comments": {"nodes": [{"body": c["body"], "viewerDidAuthor": True}]}}
                                            for c in self.review_comments(pr.number)][-100:]},
            }
            runs = [{"databaseId": x["id"]} for x in self.check_runs if x["head_sha"] == v["sha"] and x["name"] == v["check"]]
            repository["head"] = {"checkSuites": {"nodes": [{"checkRuns": {"nodes": runs}}] if runs else []}}
        if "config" in v:
            blob = _blob_node(self.default_branch.get(v["config"]))
            repository["config"] = {"target": {"file": blob and {"object": blob}}}
        for key, expression in v.items():
            if re.fullmatch(r"e\d+", key):
                sha, path = expression.split(":", 1)
                repository["f" + key[1:]] = _blob_node(self.blobs.get((sha, path)))
        return 200, {"data": {"repository": repository}}


def _blob_node(content: str | bytes | None) -> dict | None:
    if content is None:
        return None
    raw = content.encode() if isinstance(content, str) else content
    if isinstance(content, bytes) and b"\x00" in content:
        return {"text": None, "byteSize": len(raw), "isBinary": True, "isTruncated": False}
    text = raw.decode("utf-8", "replace")
    truncated = len(raw) > GRAPHQL_TEXT_LIMIT
    return {"text": raw[:GRAPHQL_TEXT_LIMIT].decode("utf-8", "ignore") if truncated else text,
            "byteSize": len(raw), "isBinary": False, "isTruncated": truncated}


def _added_patch(content: str | bytes) -> str:
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + line for line in lines)
