"""The webhook receiver, driven with GitHub's real example payloads signed in the test."""

from __future__ import annotations

import json

import pytest

from bot.app import create_app
from bot.queue import Queue
from bot.webhooks import MAX_BODY, RECHECK, Router, signature_ok
from tests.github_kit import SECRET, SHA, WEBHOOKS, github, headers, make_settings, payload_bytes, post_delivery  # noqa: F401


@pytest.fixture
def queue(tmp_path):
    return Queue(f"sqlite:///{tmp_path / 'queue.db'}")


@pytest.fixture
def client(tmp_path, queue):
    return create_app(make_settings(tmp_path), queue).test_client()


def queued(queue) -> list[dict]:
    return [task.args[0] for task in queue.huey.pending()]


def with_comment(body: str, installation: bool = True, **user) -> bytes:
    data = json.loads(payload_bytes("issue_comment.created.on-pr"))
    data["comment"]["body"] = body
    data["comment"]["user"].update(user)
    if installation:
        data["installation"] = {"id": 77}
    return json.dumps(data).encode()


def test_githubs_signature_test_vector():
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_ok(b"Hello, World!", header, ["It's a Secret to Everybody"])
    assert not signature_ok(b"Hello, World!", header, ["another secret"])
    assert not signature_ok(b"Hello, World!", None, ["It's a Secret to Everybody"])
    assert not signature_ok(b"Hello, World!", "sha1=" + "0" * 40, ["It's a Secret to Everybody"])


def test_pull_request_opened_is_queued_within_the_request(client, queue):
    r = post_delivery(client, "pull_request.opened")
    assert r.status_code == 202
    [job] = queued(queue)
    assert (job["kind"], job["installation_id"], job["owner"], job["repo"], job["number"], job["sha"]) == \
        ("review", 1, "Codertocat", "Hello-World", 2, SHA)
    assert r.get_json() == {"queued": [job["id"]]}


@pytest.mark.parametrize("name", ["pull_request.synchronize", "pull_request.reopened", "pull_request.opened.null-body"])
def test_other_pull_request_actions_review_the_head(client, queue, name):
    assert post_delivery(client, name).status_code == 202
    assert queued(queue)[0]["sha"] == SHA
    assert queue.ledger.head("Codertocat/Hello-World#2") == SHA


def test_a_redelivery_is_acknowledged_and_not_queued_twice(client, queue):
    first = post_delivery(client, "pull_request.opened", delivery="d-1")
    again = post_delivery(client, "pull_request.opened", delivery="d-1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.get_json() == {"duplicate": "d-1"}
    assert len(queued(queue)) == 1


def test_secrets_can_rotate(tmp_path, queue):
    client = create_app(make_settings(tmp_path, webhook_secrets=("old-secret", SECRET)), queue).test_client()
    assert post_delivery(client, "pull_request.opened", secret="old-secret").status_code == 202
    assert post_delivery(client, "pull_request.opened", secret=SECRET).status_code == 202
    assert post_delivery(client, "pull_request.opened", secret="other").status_code == 401


@pytest.mark.parametrize("secret,expected", [(None, "missing X-Hub-Signature-256"), ("wrong", "bad X-Hub-Signature-256")])
def test_unsigned_or_badly_signed_deliveries_are_refused_with_no_work(client, queue, secret, expected):
    r = post_delivery(client, "pull_request.opened", secret=secret)
    assert r.status_code == 401 and r.get_json()["error"].startswith(expected)
    assert queued(queue) == []


def test_a_signature_over_other_bytes_is_refused(client, queue):
    body = payload_bytes("pull_request.opened")
    h = headers("pull_request", body)
    r = client.post("/webhook", data=body.replace(b'"opened"', b'"closed"'), headers=h)
    assert r.status_code == 401 and queued(queue) == []


def test_an_oversized_body_is_refused_before_anything_else(client, queue):
    body = b"{" + b" " * (MAX_BODY + 1) + b"}"
    r = client.post("/webhook", data=body, headers=headers("pull_request", body))
    assert r.status_code == 413 and queued(queue) == []


def test_non_json_is_refused(client, queue):
    body = b"payload=%7B%7D"
    r = client.post("/webhook", data=body, headers=headers("pull_request", body))
    assert r.status_code == 400 and "not JSON" in r.get_json()["error"]
    assert queued(queue) == []


def test_ping_is_answered(client, queue):
    for name in ("ping", "ping.app"):
        r = post_delivery(client, name, event="ping")
        assert r.status_code == 200 and r.get_json() == {"pong": True}
    assert queued(queue) == []


@pytest.mark.parametrize("name,event,reason", [
    ("installation.created", None, "no handler for installation.created"),
    ("pull_request.closed", None, "no handler for pull_request.closed"),
    ("check_suite.requested", None, "no handler for check_suite.requested"),
    ("pull_request.opened", "star", "no handler for star.opened"),
    ("issue_comment.created.on-issue", None, "comment on an issue, not on a pull request"),
    ("issue_comment.created.on-pr", None, "no /recheck line in the comment"),
])
def test_events_without_work_get_a_2xx_and_a_reason(client, queue, name, event, reason):
    r = post_delivery(client, name, event=event)
    assert r.status_code == 200 and r.get_json() == {"ignored": reason}
    assert queued(queue) == []


def test_recheck_on_a_pull_request_is_queued_with_who_asked(client, queue):
    r = post_delivery(client, "issue_comment.created.on-pr", body=with_comment("Thanks!\n/recheck\n"))
    assert r.status_code == 202
    [job] = queued(queue)
    assert (job["kind"], job["number"], job["user"], job["author"], job["installation_id"]) == \
        ("recheck", 2, "lts-def", "lts-def", 77)


@pytest.mark.parametrize("body,user,reason", [
    ("please /recheck this", {}, "no /recheck line in the comment"),
    ("```\n/recheck\n```", {}, "no /recheck line in the comment"),
    ("> /recheck", {}, "no /recheck line in the comment"),
    ("/recheck", {"type": "Bot", "login": "mfbot[bot]"}, "comment written by a bot"),
])
def test_recheck_must_stand_alone_on_a_line_and_not_come_from_a_bot(client, queue, body, user, reason):
    r = post_delivery(client, "issue_comment.created.on-pr", body=with_comment(body, **user))
    assert r.get_json() == {"ignored": reason} and queued(queue) == []


def test_a_repository_webhook_without_installation_is_ignored(client, queue):
    r = post_delivery(client, "issue_comment.created.on-pr", body=with_comment("/recheck", installation=False))
    assert r.status_code == 200 and "no installation" in r.get_json()["ignored"]


def test_rerun_button_of_a_fork_pr_is_queued_without_a_number(client, queue):
    assert post_delivery(client, "check_run.rerequested").status_code == 202
    [job] = queued(queue)
    assert (job["kind"], job["number"], job["sha"]) == ("rerequest", None, "d6fde92930d4715a2b49857d24b940956b26d2d3")


def test_rerun_uses_our_external_id_when_pull_requests_is_empty(client, queue):
    data = json.loads(payload_bytes("check_run.rerequested"))
    data["check_run"]["external_id"] = "github/hello-world#17"
    post_delivery(client, "check_run.rerequested", body=json.dumps(data).encode())
    assert queued(queue)[0]["number"] == 17


def test_check_suite_rerequested_names_its_pull_request(client, queue):
    assert post_delivery(client, "check_suite.rerequested").status_code == 202
    assert queued(queue)[0]["number"] == 2


@pytest.mark.parametrize("name", sorted(p.stem for p in WEBHOOKS.glob("*.json")))
def test_no_real_payload_gets_a_server_error(client, name):
    event = name.split(".")[0]
    assert post_delivery(client, name, event=event).status_code in (200, 202)


def test_a_payload_missing_fields_gets_a_400(client):
    body = json.dumps({"action": "opened", "installation": {"id": 1}}).encode()
    r = client.post("/webhook", data=body, headers=headers("pull_request", body))
    assert r.status_code == 400 and "lacks a field" in r.get_json()["error"]


def test_queue_down_answers_503_and_a_redelivery_can_succeed(tmp_path, queue, monkeypatch):
    client = create_app(make_settings(tmp_path), queue).test_client()

    def down(task):
        raise ConnectionError("redis is down")
    monkeypatch.setattr(queue.huey, "enqueue", down)
    assert post_delivery(client, "pull_request.opened", delivery="d-9").status_code == 503
    monkeypatch.undo()
    # Nothing was kept: GitHub's redelivery is accepted once the queue is back, and no ghost job remains.
    assert queue.ledger.take_expired(float("inf"), 0) == []
    assert post_delivery(client, "pull_request.opened", delivery="d-9").status_code == 202
    assert len(queued(queue)) == 1


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"ok": True, "queue": "sqlite", "pending": 0}


def test_router_runs_handlers_in_registration_order_and_explains_declines():
    from bot.webhooks import Ignored

    router, seen = Router(), []

    @router.register("push")
    def first(payload):
        seen.append("first")
        raise Ignored("not a branch we review")

    @router.register("push")
    def second(payload):
        seen.append("second")
        raise Ignored("no report")

    with pytest.raises(Ignored, match="not a branch we review; no report"):
        router.dispatch("push", {})
    assert seen == ["first", "second"]


def test_recheck_regex_is_line_anchored():
    assert RECHECK.search("LGTM\n/recheck")
    assert RECHECK.search("  /recheck  ")
    assert not RECHECK.search("/recheck please")


# --- delivery to published review, in one process: Flask -> queue -> worker -> `responses` GitHub ------

def _drain(queue, settings):
    """Run every queued job once with the real worker handler (what `mfbot worker` does per task)."""
    from bot.review import queue_handler

    queue.handler = queue_handler(settings, queue)
    for task in queue.huey.pending():
        queue.huey.dequeue()
        queue._execute(task.args[0])


def test_a_signed_delivery_becomes_one_published_review(tmp_path, queue, github):
    from tests.github_kit import task_files

    github.add_pull(2, SHA, task_files(garbled=2))
    settings = make_settings(tmp_path)
    client = create_app(settings, queue).test_client()
    assert post_delivery(client, "pull_request.opened", delivery="d-42").status_code == 202
    assert post_delivery(client, "pull_request.opened", delivery="d-42").status_code == 200  # redelivery
    _drain(queue, settings)
    assert len(github.runs_for(SHA)) == 1 and len(github.summaries(2)) == 1 and len(github.reviews) == 1
    assert len(github.calls("POST", "/repos/{owner}/{repo}/check-runs")) == 1


def test_a_push_delivered_while_the_older_head_waits_skips_the_older_review(tmp_path, queue, github):
    from tests.github_kit import SHA2, task_files

    github.add_pull(2, SHA, task_files())
    github.push(2, SHA2)
    settings = make_settings(tmp_path)
    client = create_app(settings, queue).test_client()
    post_delivery(client, "pull_request.opened")
    data = json.loads(payload_bytes("pull_request.synchronize"))
    data["pull_request"]["head"]["sha"] = SHA2
    post_delivery(client, "pull_request.synchronize", body=json.dumps(data).encode())
    _drain(queue, settings)
    assert github.runs_for(SHA) == [] and len(github.runs_for(SHA2)) == 1
    assert github.calls("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files") and \
        len(github.calls("POST", "/graphql")) == 1  # the stale job made no GitHub call at all
