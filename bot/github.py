"""GitHub access for the App, built on PyGithub's requester, App JWT and exceptions.

- App JWT (RS256, `iat` 60 s in the past, `exp` 5 min ahead, `iss` = App id) -> installation token,
  cached per installation until 5 minutes before it expires (`TokenCache`, one per process).
- One `Client` per job: PyGithub with its fixed sleeps off (`seconds_between_requests/writes=None`)
  and its urllib3 retries off; this module decides instead:
  * reads (GET, and the GraphQL query, which only reads) retry 5xx answers and timeouts with
    exponential backoff;
  * writes are sent once: a POST that timed out or got a 502 may have landed, so the job fails with
    `Transient` and its re-run finds what landed (check run by name, comments by marker);
  * 403/429 rate limits raise `RateLimited(wait)` with the wait GitHub asked for (`Retry-After`, else
    `x-ratelimit-reset`, else one minute for a secondary limit); the queue re-schedules the job
    instead of sleeping in a worker.
- `Client.calls` records every request (method, route): the call-budget test and metrics read it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, GithubIntegration

from bot.settings import Settings

TOKEN_MARGIN = 300  # refresh an installation token this many seconds before it expires
READ_ATTEMPTS = 3
BACKOFF = 0.5  # seconds; doubled per attempt
SECONDARY_WAIT = 60  # GitHub: without Retry-After or a reset time, wait at least one minute
TIMEOUT = 20
GRAPHQL_TEXT_LIMIT = 512_000  # GraphQL Blob.text is truncated at this size: fetch such files by REST


class GitHubError(Exception):
    """A GitHub answer the job cannot use (4xx other than rate limits)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Transient(GitHubError):
    """Worth re-running the job later: 5xx or timeout after retries, or a write whose fate is unknown."""


class RateLimited(GitHubError):
    def __init__(self, message: str, wait: float, status: int):
        super().__init__(message, status)
        self.wait = wait


class TokenCache:
    """Installation tokens per installation id, shared by all jobs of a process."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.clock = clock
        self._tokens: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _integration(self) -> GithubIntegration:
        auth = Auth.AppAuth(self.settings.app_id, self.settings.private_key)
        return GithubIntegration(auth=auth, base_url=self.settings.api_url, timeout=TIMEOUT, retry=None,
                                 seconds_between_requests=None, seconds_between_writes=None)

    def token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - TOKEN_MARGIN > self.clock():
                return cached[0]
        try:
            grant = self._integration().get_access_token(installation_id)
        except GithubException as exc:
            raise classify(exc, "POST /app/installations/{id}/access_tokens") from None
        except requests.RequestException as exc:
            raise Transient(f"minting an installation token: {exc}") from None
        with self._lock:
            self._tokens[installation_id] = (grant.token, grant.expires_at.timestamp())
        return grant.token

    def invalidate(self, installation_id: int) -> None:
        with self._lock:
            self._tokens.pop(installation_id, None)


def classify(exc: GithubException, what: str, clock: Callable[[], float] = time.time) -> GitHubError:
    """Turn PyGithub's exception into RateLimited / Transient / GitHubError."""
    status = exc.status
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    message = (exc.data or {}).get("message", "") if isinstance(exc.data, dict) else str(exc.data or "")
    text = f"{what}: {status} {message}".strip()
    if status in (403, 429):
        wait = rate_limit_wait(headers, message, clock())
        if wait is not None or status == 429:  # a 429 is always a rate limit, header or not
            return RateLimited(text, wait or float(SECONDARY_WAIT), status)
    if status and status >= 500:
        return Transient(text, status)
    return GitHubError(text, status)


def rate_limit_wait(headers: dict[str, str], message: str, now: float) -> float | None:
    """Seconds to wait before retrying a 403/429, or None when it is not a rate limit."""
    if headers.get("retry-after", "").strip().isdigit():
        return float(headers["retry-after"])
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
        return max(float(headers["x-ratelimit-reset"]) - now, 1.0)
    if "rate limit" in message.lower() or headers.get("x-ratelimit-remaining") == "0":
        return float(SECONDARY_WAIT)
    return None


@dataclass
class Blob:
    path: str
    text: str | None  # None: missing, binary or not fetched
    size: int = 0
    binary: bool = False
    truncated: bool = False
    missing: bool = False


@dataclass
class Client:
    """One job's access to one installation's repositories."""

    settings: Settings
    tokens: TokenCache
    installation_id: int
    sleep: Callable[[float], None] = time.sleep
    backoff: float = BACKOFF
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._github: Github | None = None

    @property
    def requester(self):
        if self._github is None:
            token = self.tokens.token(self.installation_id)
            self._github = Github(auth=Auth.Token(token), base_url=self.settings.api_url, timeout=TIMEOUT,
                                  retry=None, seconds_between_requests=None, seconds_between_writes=None,
                                  per_page=100, lazy=True)
        return self._github.requester

    def refresh_token(self) -> None:
        """After a 401: forget the cached token so the next request mints a new one."""
        self.tokens.invalidate(self.installation_id)
        self._github = None

    # --- transport -------------------------------------------------------------------------

    def _send(self, verb: str, route: str, call: Callable[[], Any], read: bool) -> Any:
        attempts = READ_ATTEMPTS if read else 1
        for attempt in range(attempts):
            self.calls.append((verb, route))
            try:
                return call()
            except GithubException as exc:
                error = classify(exc, f"{verb} {route}")
            except requests.RequestException as exc:
                error = Transient(f"{verb} {route}: {type(exc).__name__}: {exc}")
            if not isinstance(error, Transient) or attempt == attempts - 1:
                raise error
            self.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def request(self, verb: str, route: str, path: str, params: dict | None = None, body: Any = None,
                headers: dict | None = None) -> tuple[dict, Any]:
        """A REST call; `route` is the templated path used to name the call in logs and counts."""
        return self._send(verb, route, lambda: self.requester.requestJsonAndCheck(
            verb, path, parameters=params, input=body, headers=headers), read=verb == "GET")

    def pages(self, route: str, path: str, params: dict | None = None, limit: int = 30) -> Iterator[Any]:
        """Items of a paginated list, following `page=` until a short page (GitHub's Link order)."""
        params = dict(params or {}, per_page=100)
        for page in range(1, limit + 1):
            _, items = self.request("GET", route, path, dict(params, page=page))
            yield from items
            if len(items) < 100:
                return

    def graphql(self, query: str, variables: dict) -> dict:
        """A GraphQL read (retried like a GET). Returns `data`."""
        def call():
            _, data = self.requester.graphql_query(query, variables)
            return data["data"]
        return self._send("POST", "/graphql", call, read=True)

    def raw_file(self, owner: str, repo: str, path: str, ref: str) -> str:
        """A file's text through the contents API (raw media type: up to 100 MB)."""
        url = f"/repos/{owner}/{repo}/contents/{quote(path)}"

        def call():
            status, headers, body = self.requester.requestJson(
                "GET", url, parameters={"ref": ref}, headers={"Accept": "application/vnd.github.raw+json"})
            if status >= 400:
                raise GithubException(status, {"message": body[:200]}, headers)
            return body
        return self._send("GET", "/repos/{owner}/{repo}/contents/{path}", call, read=True)


# --- one GraphQL read for a review ---------------------------------------------------------------

BLOB = "... on Blob { text byteSize isBinary isTruncated }"
MAX_ALIASES = 80  # blobs per query: keeps each query well under GraphQL's 10 s limit


@dataclass
class Snapshot:
    """What one GraphQL read tells a review job about the pull request."""

    head_sha: str | None = None
    state: str | None = None
    author: str | None = None
    blobs: dict[str, Blob] = field(default_factory=dict)
    check_run_ids: list[int] = field(default_factory=list)  # our runs on the head SHA
    comments: list[dict] = field(default_factory=list)  # {id, body} of the bot's own issue comments
    review_bodies: list[str] = field(default_factory=list)  # first comments of the bot's review threads
    config: Blob | None = None  # the configuration file on the default branch


def snapshot_query(n_blobs: int, with_pr: bool) -> str:
    variables = ["$owner: String!", "$name: String!"] + [f"$e{i}: String!" for i in range(n_blobs)]
    parts = [f"f{i}: object(expression: $e{i}) {{ {BLOB} }}" for i in range(n_blobs)]
    if with_pr:
        variables += ["$number: Int!", "$sha: GitObjectID!", "$appId: Int!", "$check: String!", "$config: String!"]
        parts.insert(0, """config: defaultBranchRef { target { ... on Commit {
      file(path: $config) { object { BLOB } } } } }
    pullRequest(number: $number) {
      headRefOid state author { login }
      comments(last: 100) { nodes { databaseId body viewerDidAuthor } }
      reviewThreads(last: 100) { nodes { comments(first: 1) { nodes { body viewerDidAuthor } } } }
    }
    head: object(oid: $sha) { ... on Commit {
      checkSuites(first: 20, filterBy: {appId: $appId}) { nodes {
        checkRuns(first: 20, filterBy: {checkName: $check}) { nodes { databaseId } } } } } }""".replace("BLOB", BLOB))
    body = "\n    ".join(parts)
    return f"query({', '.join(variables)}) {{\n  repository(owner: $owner, name: $name) {{\n    {body}\n  }}\n}}"


def read_snapshot(client: Client, owner: str, repo: str, number: int, sha: str, paths: list[str],
                  with_pr: bool = True, config_path: str = ".github/mfbot.yml") -> Snapshot:
    """The PR's state, our earlier output, the configuration on the default branch and the files at
    `sha`: one query (more for > 80 files)."""
    snap = Snapshot()
    chunks = [paths[i:i + MAX_ALIASES] for i in range(0, len(paths), MAX_ALIASES)] or [[]]
    for n, chunk in enumerate(chunks):
        variables: dict[str, Any] = {"owner": owner, "name": repo}
        variables.update({f"e{i}": f"{sha}:{p}" for i, p in enumerate(chunk)})
        first = n == 0 and with_pr
        if first:
            variables.update(number=number, sha=sha, appId=client.settings.app_id, check=client.settings.check_name,
                             config=config_path)
        data = client.graphql(snapshot_query(len(chunk), first), variables)
        repository = data.get("repository") or {}
        if first:
            _read_pr_state(snap, repository)
        for i, path in enumerate(chunk):
            snap.blobs[path] = _blob(path, repository.get(f"f{i}"))
    return snap


def _read_pr_state(snap: Snapshot, repository: dict) -> None:
    config = (((repository.get("config") or {}).get("target") or {}).get("file") or {}).get("object")
    snap.config = _blob("config", config)
    pr = repository.get("pullRequest") or {}
    snap.head_sha, snap.state = pr.get("headRefOid"), pr.get("state")
    snap.author = (pr.get("author") or {}).get("login")
    snap.comments = [{"id": c["databaseId"], "body": c.get("body") or ""}
                     for c in _nodes(pr.get("comments")) if c.get("viewerDidAuthor")]
    for thread in _nodes(pr.get("reviewThreads")):
        snap.review_bodies += [c.get("body") or "" for c in _nodes(thread.get("comments")) if c.get("viewerDidAuthor")]
    for suite in _nodes((repository.get("head") or {}).get("checkSuites")):
        snap.check_run_ids += [r["databaseId"] for r in _nodes(suite.get("checkRuns"))]


def _nodes(connection: dict | None) -> list[dict]:
    return [n for n in (connection or {}).get("nodes") or [] if n]


def _blob(path: str, obj: dict | None) -> Blob:
    if obj is None:
        return Blob(path, None, missing=True)
    size = int(obj.get("byteSize") or 0)
    binary = bool(obj.get("isBinary")) or (obj.get("text") is None and size > 0)
    return Blob(path, None if binary else obj.get("text") or "", size, binary, bool(obj.get("isTruncated")))
