"""Settings from the environment, the GitHub client's retries, rate limits, tokens and GraphQL batch."""

from __future__ import annotations

import time

import pytest

from bot.github import Client, RateLimited, TokenCache, Transient, rate_limit_wait, read_snapshot, snapshot_query
from bot.settings import Settings, SettingsError
from tests.github_api import check_graphql
from tests.github_kit import SHA, github, make_settings, private_key, task_files  # noqa: F401


def test_settings_from_env(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(private_key())
    s = Settings.from_env({"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY_PATH": str(key),
                           "GITHUB_WEBHOOK_SECRET": "old, new", "PORT": "8080"})
    assert (s.app_id, s.webhook_secrets, s.port, s.queue_url) == (12, ("old", "new"), 8080, "sqlite:///mfbot-queue.db")
    assert s.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert s.api_url == "https://api.github.com" and s.graphql_url == "https://api.github.com/graphql"
    assert s.problems() == []


def test_ghes_graphql_url():
    s = Settings.from_env({"GITHUB_API_URL": "https://ghe.example.com/api/v3/"})
    assert s.api_url == "https://ghe.example.com/api/v3" and s.graphql_url == "https://ghe.example.com/api/graphql"


def test_escaped_newlines_in_a_key_variable_are_read():
    s = Settings.from_env({"GITHUB_PRIVATE_KEY": private_key().replace("\n", "\\n")})
    assert s.private_key == private_key().strip()


@pytest.mark.parametrize("env,message", [
    ({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID: expected an integer"),
    ({"GITHUB_PRIVATE_KEY": "hunter2"}, "not a PEM private key"),
    ({"GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "cannot read /nonexistent/key.pem"),
    ({"MFBOT_QUEUE": "postgres://x"}, "MFBOT_QUEUE: expected sqlite"),
    ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL: expected an http(s) URL"),
])
def test_bad_settings_say_which_variable(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_missing_settings_are_listed():
    assert Settings.from_env({}).problems() == [
        "GITHUB_APP_ID is not set", "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is not set",
        "GITHUB_WEBHOOK_SECRET is not set (every delivery would be rejected)"]


def test_rate_limit_waits():
    now = 1_000_000.0
    assert rate_limit_wait({"retry-after": "30"}, "", now) == 30
    assert rate_limit_wait({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 90)}, "", now) == 90
    assert rate_limit_wait({}, "You have exceeded a secondary rate limit", now) == 60
    assert rate_limit_wait({}, "Resource not accessible by integration", now) is None


def test_tokens_are_cached_per_installation(github, tmp_path):
    tokens = TokenCache(make_settings(tmp_path))
    a1, b1, a2 = tokens.token(1), tokens.token(2), tokens.token(1)
    assert a1 == a2 and a1 != b1 and len(github.tokens) == 2
    assert [r.path for r in github.log] == ["/app/installations/1/access_tokens", "/app/installations/2/access_tokens"]


def test_no_fixed_sleeps_between_writes(github, tmp_path):
    github.add_pull(2, SHA, {"a.md": "x\n"})
    client = Client(make_settings(tmp_path), TokenCache(make_settings(tmp_path)), 1)
    started = time.monotonic()
    for _ in range(5):
        client.request("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                       "/repos/Codertocat/Hello-World/issues/2/comments", body={"body": "x"})
    assert time.monotonic() - started < 1.0  # PyGithub's default would sleep 1 s per write


def test_reads_give_up_after_three_attempts(github, tmp_path):
    github.fail("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 503, times=5)
    waits = []
    client = Client(make_settings(tmp_path), TokenCache(make_settings(tmp_path)), 1, sleep=waits.append)
    with pytest.raises(Transient, match="503"):
        client.request("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/Codertocat/Hello-World/pulls/2")
    assert waits == [0.5, 1.0] and len(client.calls) == 3


def test_a_write_is_sent_once_even_on_502(github, tmp_path):
    github.fail("POST", "/repos/{owner}/{repo}/check-runs", 502)
    client = Client(make_settings(tmp_path), TokenCache(make_settings(tmp_path)), 1)
    with pytest.raises(Transient):
        client.request("POST", "/repos/{owner}/{repo}/check-runs", "/repos/Codertocat/Hello-World/check-runs",
                       body={"name": "mfbot", "head_sha": SHA})
    assert len(github.calls("POST", "/repos/{owner}/{repo}/check-runs")) == 1


def test_rate_limit_on_the_token_itself(github, tmp_path):
    github.fail("POST", "/app/installations/{installation_id}/access_tokens", 429, headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as info:
        TokenCache(make_settings(tmp_path)).token(1)
    assert info.value.wait == 12


def test_graphql_batch_is_one_query_with_aliased_blobs(github, tmp_path):
    files = task_files()
    github.add_pull(2, SHA, files)
    client = Client(make_settings(tmp_path), TokenCache(make_settings(tmp_path)), 1)
    paths = sorted(files) + ["missing.txt"]
    snap = read_snapshot(client, "Codertocat", "Hello-World", 2, SHA, paths)
    assert len(github.calls("POST", "/graphql")) == 1
    assert snap.head_sha == SHA and snap.state == "OPEN" and snap.author == "octocat"
    assert snap.blobs["lib/PROMPT.md"].text == files["lib/PROMPT.md"]
    assert snap.blobs["missing.txt"].missing
    assert snap.config.text.startswith("rules:\n")  # the default branch's .github/mfbot.yml, same query


def test_graphql_batches_split_past_eighty_files(github, tmp_path):
    files = {f"lib/f{i}.ts": f"// {i}\n" for i in range(170)}
    github.add_pull(2, SHA, files)
    client = Client(make_settings(tmp_path), TokenCache(make_settings(tmp_path)), 1)
    snap = read_snapshot(client, "Codertocat", "Hello-World", 2, SHA, sorted(files))
    assert len(github.calls("POST", "/graphql")) == 3
    assert all(snap.blobs[p].text == files[p] for p in files)


def test_the_snapshot_query_is_well_formed():
    query = snapshot_query(2, with_pr=True)
    body = {"query": query, "variables": {"owner": "o", "name": "r", "e0": f"{SHA}:a", "e1": f"{SHA}:b/c",
                                          "number": 1, "sha": SHA, "appId": 1, "check": "mfbot",
                                          "config": ".github/mfbot.yml"}}
    import json
    assert check_graphql("POST", json.dumps(body)) == []
    assert "f1: object(expression: $e1)" in query and "filterBy: {appId: $appId}" in query


def test_ghes_rest_and_graphql_urls(tmp_path):
    import responses

    from tests.fakegithub import FakeGitHub

    fake = FakeGitHub(owner="Codertocat", repo="Hello-World")
    fake.add_pull(2, SHA, {"a.md": "x\n"})
    settings = make_settings(tmp_path, api_url="https://ghe.example.com/api/v3")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock, base="https://ghe.example.com")
        client = Client(settings, TokenCache(settings), 1)
        read_snapshot(client, "Codertocat", "Hello-World", 2, SHA, ["a.md"])
        client.request("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/Codertocat/Hello-World/pulls/2")
        urls = [c.request.url for c in mock.calls]
    assert urls == ["https://ghe.example.com:443/api/v3/app/installations/1/access_tokens",
                    "https://ghe.example.com:443/api/graphql",
                    "https://ghe.example.com:443/api/v3/repos/Codertocat/Hello-World/pulls/2"]
    assert settings.graphql_url == "https://ghe.example.com/api/graphql"
