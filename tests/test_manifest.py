"""The App manifest asks for exactly what the bot's GitHub calls need, and the registration flow works."""

from __future__ import annotations

import inspect
import json
import stat
from pathlib import Path

import pytest
import responses
from flask import Flask

from bot import manifest
from bot.cli import main
from bot.manifest import (ENDPOINTS, EVENTS, PERMISSIONS, api_calls, build_manifest, endpoint_template,
                          needed_permissions, scan_package)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_URL = "https://mfbot.example.com"


def pygithub_method_names() -> set[str]:
    """Public methods of the PyGithub classes a bot like this touches: calling one is a GitHub call."""
    from github.CheckRun import CheckRun
    from github.CheckSuite import CheckSuite
    from github.Commit import Commit
    from github.GithubIntegration import GithubIntegration
    from github.Installation import Installation
    from github.Issue import Issue
    from github.IssueComment import IssueComment
    from github.MainClass import Github
    from github.PullRequest import PullRequest
    from github.PullRequestComment import PullRequestComment
    from github.Repository import Repository

    generic = {"close", "load", "dump", "update", "delete", "merge", "compare", "complete", "lock", "unlock"}
    names = set()
    for cls in (CheckRun, CheckSuite, Commit, GithubIntegration, Installation, Issue, IssueComment, Github,
                PullRequest, PullRequestComment, Repository):
        for name in dir(cls):
            if not name.startswith("_") and not isinstance(inspect.getattr_static(cls, name), property) \
                    and callable(getattr(cls, name)):
                names.add(name)
    return names - generic


@pytest.fixture(scope="module")
def calls():
    return scan_package(ROOT / "bot", pygithub_method_names())


def test_checked_in_manifest_is_what_mfbot_manifest_prints():
    on_disk = json.loads((ROOT / "deploy" / "app-manifest.json").read_text())
    assert on_disk == build_manifest(EXAMPLE_URL)


def test_permissions_are_the_five_the_issue_lists():
    assert build_manifest(EXAMPLE_URL)["default_permissions"] == {
        "checks": "write", "pull_requests": "write", "contents": "read", "issues": "write", "metadata": "read"}


def test_every_github_call_in_the_code_is_mapped(calls):
    unmapped = [f"{c.path}:{c.line}: {c.source}" for c in calls if c.endpoint not in ENDPOINTS]
    assert not unmapped, "GitHub calls with no permission entry in bot/manifest.py ENDPOINTS/PYGITHUB:\n" + \
        "\n".join(unmapped)


def test_manifest_permissions_are_exactly_what_the_calls_need(calls):
    # Both directions: a call needing more than declared fails on GitHub (403 "Resource not accessible by
    # integration"); a declared permission no call needs is a permission installers grant for nothing.
    assert needed_permissions(calls) == PERMISSIONS


def test_the_scan_sees_the_apps_core_calls(calls):
    # Guards the scanner itself: if the App's calls stopped being recognised, the test above would pass
    # on an empty list of calls.
    seen = {c.endpoint for c in calls}
    assert {"POST /repos/{owner}/{repo}/check-runs", "POST /app/installations/{id}/access_tokens",
            "GET /repos/{owner}/{repo}/pulls/{id}/files", "GRAPHQL object"} <= seen


def test_events_are_subscribable_and_covered_by_permissions():
    m = build_manifest(EXAMPLE_URL)
    # GitHub rejects `installation` in default_events ("Default events unsupported: installation"): it is
    # delivered to every App anyway, so the bot still handles it.
    assert "installation" not in m["default_events"]
    assert set(m["default_events"]) | {"installation"} == set(EVENTS)
    for event in m["default_events"]:
        assert EVENTS[event] in m["default_permissions"], event


def test_webhook_and_callback_urls():
    m = build_manifest("https://bot.example.org/")
    assert m["hook_attributes"] == {"url": "https://bot.example.org/webhook", "active": True}
    assert m["redirect_url"] == "https://bot.example.org/manifest/callback"


@pytest.mark.parametrize("method,url,template", [
    ("GET", "https://api.github.com:443/repos/o/r/pulls/5/files?per_page=100&page=2",
     "GET /repos/{owner}/{repo}/pulls/{id}/files"),
    ("PATCH", "/api/v3/repos/o/r/check-runs/77", "PATCH /repos/{owner}/{repo}/check-runs/{id}"),
    ("POST", "https://ghe.example/api/graphql", "POST /graphql"),
    ("GET", "/repos/o/r/contents/lib/deep/MODEL_FAILURES.md?ref=abc", "GET /repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/o/r/git/blobs/" + "a" * 40, "GET /repos/{owner}/{repo}/git/blobs/{sha}"),
    ("GET", "/repos/o/r/collaborators/octo-cat/permission",
     "GET /repos/{owner}/{repo}/collaborators/{user}/permission"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/pulls", "GET /repos/{owner}/{repo}/commits/{sha}/pulls"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments",
     "POST /repos/{owner}/{repo}/issues/{id}/comments"),
])
def test_endpoint_template(method, url, template):
    assert endpoint_template(method, url) == template


SAMPLE = '''
ROUTE = "/repos/{owner}/{repo}/pulls/{pull_number}/files"
def publish(client, repo, pr, run, comment, owner, name, n):
    repo.create_check_run(name="mfbot", head_sha="abc")
    run.edit(status="completed")
    comment.edit(body="x")
    pr.get_files()
    client.request("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", f"/repos/{owner}/{name}/issues/{n}/comments")
    client.pages(ROUTE, f"{base}/pulls/{n}/files")
    repo.get_branch("main")
    thing.edit(x=1)
    Q = "query($e0: String!) { repository(owner: $o, name: $n) { f0: object(expression: $e0) { oid } } }"
    M = "mutation { addComment(input: {}) { clientMutationId } }"
'''


def test_scanner_names_calls_and_flags_what_it_cannot_name():
    found = {(c.line, c.endpoint) for c in api_calls(SAMPLE, "sample.py", {"get_branch", "edit", "get_files"})}
    assert (4, "POST /repos/{owner}/{repo}/check-runs") in found
    assert (5, "PATCH /repos/{owner}/{repo}/check-runs/{id}") in found
    assert (6, "PATCH /repos/{owner}/{repo}/issues/comments/{id}") in found
    assert (7, "GET /repos/{owner}/{repo}/pulls/{id}/files") in found
    assert (8, "POST /repos/{owner}/{repo}/issues/{id}/comments") in found
    assert (9, "GET /repos/{owner}/{repo}/pulls/{id}/files") in found  # no verb beside the path: a GET
    assert (10, None) in found  # a PyGithub method nobody mapped
    assert (11, None) in found  # `edit` on a receiver whose name does not say what it is
    assert (12, "GRAPHQL object") in found
    assert (13, None) in found  # a GraphQL mutation


def test_needed_permissions_takes_the_strongest_access():
    calls = api_calls(SAMPLE.split("    repo.get_branch")[0], "s.py", {"get_files"})
    assert needed_permissions(calls) == {"checks": "write", "issues": "write", "metadata": "read",
                                         "pull_requests": "read"}


def test_cli_prints_the_manifest_and_the_form(capsys):
    assert main(["manifest", "--url", EXAMPLE_URL]) == 0
    assert json.loads(capsys.readouterr().out) == build_manifest(EXAMPLE_URL)
    assert main(["manifest", "--url", EXAMPLE_URL, "--form", "--org", "acme"]) == 0
    page = capsys.readouterr().out
    assert 'action="https://github.com/organizations/acme/settings/apps/new" method="post"' in page
    assert "&quot;default_permissions&quot;" in page  # the JSON is attribute-escaped
    assert main(["manifest"]) == 2


def test_callback_shows_the_code_and_rejects_anything_else():
    app = Flask(__name__)
    app.register_blueprint(manifest.blueprint)
    client = app.test_client()
    ok = client.get("/manifest/callback?code=a1B2_c3&state=x")
    assert ok.status_code == 200 and "mfbot manifest --exchange a1B2_c3" in ok.get_data(as_text=True)
    assert ok.headers["Content-Type"].startswith("text/plain")
    bad = client.get("/manifest/callback?code=<script>alert(1)</script>")
    assert bad.status_code == 400 and "<script>" not in bad.get_data(as_text=True)


@responses.activate
def test_exchange_writes_the_key_owner_only_and_prints_the_environment(tmp_path, capsys):
    responses.post("https://api.github.com/app-manifests/c0de/conversions", status=201, json={
        "id": 4242, "slug": "mfbot-acme", "webhook_secret": "whsec", "pem": "-----BEGIN RSA PRIVATE KEY-----\nx\n",
        "html_url": "https://github.com/apps/mfbot-acme", "client_id": "Iv1.x", "client_secret": "s"})
    key = tmp_path / "key.pem"
    assert main(["manifest", "--exchange", "c0de", "--key-file", str(key)]) == 0
    out = capsys.readouterr().out
    assert "GITHUB_APP_ID=4242\n" in out and "GITHUB_WEBHOOK_SECRET=whsec\n" in out
    assert f"GITHUB_PRIVATE_KEY_PATH={key.resolve()}" in out
    assert key.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@responses.activate
def test_an_expired_code_is_a_clear_error(tmp_path, capsys):
    responses.post("https://api.github.com/app-manifests/old/conversions", status=404, json={"message": "Not Found"})
    assert main(["manifest", "--exchange", "old", "--key-file", str(tmp_path / "k.pem")]) == 2
    assert "expire after one hour" in capsys.readouterr().err
    assert not (tmp_path / "k.pem").exists()


def test_every_subscribed_event_has_a_handler_and_every_handler_is_subscribed():
    from bot.webhooks import router

    handled = {event for event, _action in router._handlers}
    subscribed = set(build_manifest(EXAMPLE_URL)["default_events"])
    assert subscribed == handled, "subscribe to exactly the events bot/webhooks.py handles"
