"""The review job against a FakeGitHub behind `responses`: budget, idempotency, limits, failures."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives import serialization

from bot.github import TokenCache
from bot.publish import SUMMARY_MARKER
from bot.review import Job, run_job
from tests.github_kit import SHA, SHA2, context, github, make_settings, private_key, task_files  # noqa: F401

OWNER, REPO = "Codertocat", "Hello-World"


def review_job(number: int = 2, sha: str = SHA) -> Job:
    return Job("review", 1, OWNER, REPO, number=number, sha=sha)


def calls_after_token(github) -> list[str]:
    return [f"{r.method} {r.template}" for r in github.log if not r.template.startswith("/app/")]


def test_typical_review_costs_five_calls_and_publishes_everything(github, tmp_path):
    github.add_pull(2, SHA, task_files(garbled=2))
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "published", result.detail
    assert calls_after_token(github) == [
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
        "POST /graphql",
        "POST /repos/{owner}/{repo}/check-runs",
        "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ]
    assert len(result.calls) == 5
    [run] = github.runs_for(SHA)
    assert run["name"] == "mfbot" and run["external_id"] == "Codertocat/Hello-World#2"
    assert run["conclusion"] == "failure"  # MF101 is an error and fail_on defaults to error
    assert {a["annotation_level"] for a in run["annotations"]} == {"failure"}
    assert len(run["annotations"]) == 2
    comments = github.review_comments(2)
    assert len(comments) == 2 and all(c["path"] == "lib/MODEL_FAILURES.md" and c["side"] == "RIGHT" for c in comments)
    assert "```suggestion\n- Item 0: the model’s policy allowed `s3:*`.\n```" in comments[0]["body"]
    assert "<!-- mfbot:fp=" in comments[0]["body"]
    [summary] = github.summaries(2)
    assert "| MOJIBAKE | 2 |" in summary["body"] and "Total" not in summary["body"].split("|")[0]


def test_with_every_rule_on_a_task_pr_still_costs_at_most_five_calls(github, tmp_path):
    github.default_branch.clear()
    github.add_pull(2, SHA, task_files(garbled=3))
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "published" and len(result.calls) <= 5
    assert len(calls_after_token(github)) <= 5 and len(github.runs_for(SHA)) == 1


def test_the_graphql_read_asks_for_report_siblings_changed_code_and_config(github, tmp_path):
    files = task_files() | {"README.md": "hi\n", "other/notes.txt": "x\n"}
    github.add_pull(2, SHA, files)
    run_job(review_job(), context(make_settings(tmp_path)))
    [query] = github.calls("POST", "/graphql")
    variables = query.json()["variables"]
    assert variables["config"] == ".github/mfbot.yml"  # read from the default branch in the same query
    asked = {v.split(":", 1)[1] for k, v in variables.items() if k.startswith("e")}
    assert asked == {"lib/MODEL_FAILURES.md", "lib/MODEL_RESPONSE.md", "lib/IDEAL_RESPONSE.md",
                     "lib/PROMPT.md", "metadata.json", "lib/AWS_REGION", "lib/tap-stack.ts",
                     "test/tap-stack.unit.test.ts"}


def test_rerun_on_the_same_head_edits_instead_of_duplicating(github, tmp_path):
    github.add_pull(2, SHA, task_files(garbled=2))
    ctx = context(make_settings(tmp_path))
    run_job(review_job(), ctx)
    second = run_job(review_job(), ctx)
    assert second.status == "published"
    assert len(github.runs_for(SHA)) == 1 and len(github.summaries(2)) == 1
    assert len(github.review_comments(2)) == 2  # fingerprints: nothing posted twice
    assert [f"{m} {t}" for m, t in second.calls] == [
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/files", "POST /graphql",
        "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"]  # summary unchanged: not re-sent


def test_more_than_fifty_findings_are_sent_fifty_at_a_time_to_the_same_run(github, tmp_path):
    github.add_pull(2, SHA, task_files(garbled=120))
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "published"
    [run] = github.runs_for(SHA)
    assert len(run["annotations"]) == 120
    patches = github.calls("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
    assert [len(p.json()["output"]["annotations"]) for p in patches] == [50, 20]
    assert len(github.calls("POST", "/repos/{owner}/{repo}/check-runs")[0].json()["output"]["annotations"]) == 50
    [review] = github.reviews
    assert len(review["comments"]) == 30  # one review stays under GitHub's abuse limits; the rest are annotations


def test_push_during_the_review_publishes_nothing(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    heads = {}
    # A synchronize delivery arrives while the job reads files: the webhook records the new head.
    github.hook("POST", "/graphql", lambda r: heads.__setitem__("Codertocat/Hello-World#2", SHA2))
    result = run_job(review_job(), context(make_settings(tmp_path), heads=heads))
    assert result.status == "stale"
    assert github.check_runs == [] and github.comments == [] and github.reviews == []


def test_head_moved_on_github_before_the_job_ran(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.push(2, SHA2)
    result = run_job(review_job(sha=SHA), context(make_settings(tmp_path)))
    assert result.status == "stale" and github.check_runs == []


def test_read_502_is_retried_with_backoff(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 502, times=2)
    waits = []
    result = run_job(review_job(), context(make_settings(tmp_path), sleep=waits.append))
    assert result.status == "published" and waits == [0.5, 1.0]


def test_write_502_is_not_blindly_retried_and_the_rerun_finds_what_landed(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 502)
    ctx = context(make_settings(tmp_path))
    first = run_job(review_job(), ctx)
    assert first.status == "retry" and first.retry_in == 30
    assert len(github.calls("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")) == 1
    second = run_job(review_job(), ctx)
    assert second.status == "published"
    assert len(github.runs_for(SHA)) == 1 and len(github.summaries(2)) == 1 and len(github.reviews) == 1


def test_secondary_rate_limit_403_waits_a_minute_without_sleeping(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("POST", "/graphql", 403, body={"message": "You have exceeded a secondary rate limit."})
    slept = []
    result = run_job(review_job(), context(make_settings(tmp_path), sleep=slept.append))
    assert result.status == "retry" and result.retry_in == 60 and slept == []
    assert len(github.calls("POST", "/graphql")) == 1


def test_429_honours_retry_after(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("POST", "/repos/{owner}/{repo}/check-runs", 429, headers={"Retry-After": "7"})
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "retry" and result.retry_in == 7


def test_429_without_retry_after_waits_a_minute(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 429, body={"message": "Too Many Requests"})
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "retry" and result.retry_in == 60


def test_a_403_that_is_no_rate_limit_fails_without_retry(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.fail("POST", "/repos/{owner}/{repo}/check-runs", 403, body={"message": "Resource not accessible by integration"})
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "failed" and "Resource not accessible by integration" in result.detail


def test_primary_rate_limit_waits_until_reset(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    reset = int(time.time()) + 120
    github.fail("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 403,
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                body={"message": "API rate limit exceeded for installation ID 1."})
    result = run_job(review_job(), context(make_settings(tmp_path)))
    assert result.status == "retry" and 100 < result.retry_in <= 121


def test_expiring_token_is_renewed_and_a_revoked_one_is_replaced(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    settings = make_settings(tmp_path)
    now = [time.time()]
    tokens = TokenCache(settings, clock=lambda: now[0])
    ctx = context(settings, tokens)
    run_job(review_job(), ctx)
    run_job(review_job(), ctx)
    assert len(github.tokens) == 1  # cached between jobs
    now[0] += 3600 - 200  # within 5 minutes of expiry
    run_job(review_job(), ctx)
    assert len(github.tokens) == 2
    now[0] = time.time()  # the new token is fresh again
    github.fail("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 401, body={"message": "Bad credentials"})
    result = run_job(review_job(), ctx)
    assert result.status == "published" and len(github.tokens) == 3


def test_app_jwt_claims(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    before = int(time.time())
    run_job(review_job(), context(make_settings(tmp_path)))
    token = github.tokens[0]["jwt"]
    public = serialization.load_pem_private_key(private_key().encode(), None).public_key()
    claims = jwt.decode(token, public, algorithms=["RS256"])
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == "4242"
    assert claims["iat"] <= before - 59 and claims["exp"] - claims["iat"] <= 600 and claims["exp"] > before


def test_a_5_mb_report_is_refused_with_a_clear_message_and_no_download(github, tmp_path):
    files = task_files()
    files["lib/MODEL_FAILURES.md"] = "# Model Failures\n" + "x" * 5_000_000
    github.add_pull(2, SHA, files)
    result = run_job(review_job(), context(make_settings(tmp_path)))
    [run] = github.runs_for(SHA)
    assert run["conclusion"] == "neutral"
    assert "report not reviewed: 5.0 MB, over the 2 MB limit" in run["output"]["text"]
    assert github.calls("GET", "/repos/{owner}/{repo}/contents/{path}") == []
    assert github.reviews == [] and result.status == "published"


def test_a_binary_report_is_refused(github, tmp_path):
    files = task_files()
    files["lib/MODEL_FAILURES.md"] = b"\x89PNG\r\n\x1a\n\x00\x00binary"
    github.add_pull(2, SHA, files)
    run_job(review_job(), context(make_settings(tmp_path)))
    [run] = github.runs_for(SHA)
    assert "report not reviewed: binary file" in run["output"]["text"]


def test_a_report_over_the_graphql_text_limit_is_fetched_by_rest(github, tmp_path):
    files = task_files(garbled=1)
    files["lib/MODEL_FAILURES.md"] += "\n" + ("padding line\n" * 50_000)  # ~650 kB
    github.add_pull(2, SHA, files)
    run_job(review_job(), context(make_settings(tmp_path)))
    [raw] = github.calls("GET", "/repos/{owner}/{repo}/contents/{path}")
    assert raw.path.endswith("/contents/lib/MODEL_FAILURES.md") and raw.query == {"ref": SHA}
    assert len(github.runs_for(SHA)[0]["annotations"]) == 1


def test_no_report_gives_a_skipped_run_and_no_comment(github, tmp_path):
    github.add_pull(2, SHA, {"README.md": "hello\n"})
    run_job(review_job(), context(make_settings(tmp_path)))
    [run] = github.runs_for(SHA)
    assert run["conclusion"] == "skipped" and github.comments == [] and github.reviews == []


def test_a_bad_config_becomes_a_failing_run_that_says_why(github, tmp_path):
    github.default_branch[".github/mfbot.yml"] = "rules:\n  MF101: loud\n"
    github.add_pull(2, SHA, task_files())
    run_job(review_job(), context(make_settings(tmp_path)))
    [run] = github.runs_for(SHA)
    assert run["conclusion"] == "failure" and run["output"]["title"] == "Configuration error in .github/mfbot.yml"
    assert "MF101" in run["output"]["summary"] and "loud" in run["output"]["summary"]


def test_config_turns_a_rule_off(github, tmp_path):
    github.default_branch[".github/mfbot.yml"] = "rules:\n  MF101: off\n"
    github.add_pull(2, SHA, task_files())
    run_job(review_job(), context(make_settings(tmp_path)))
    assert all(a["title"].split()[0] != "MF101" for a in github.runs_for(SHA)[0]["annotations"])


def test_a_pull_request_cannot_switch_rules_off_for_itself(github, tmp_path):
    github.add_pull(2, SHA, task_files() | {".github/mfbot.yml": "rules:\n  MF101: off\n"})
    run_job(review_job(), context(make_settings(tmp_path)))
    assert [a["title"].split()[0] for a in github.runs_for(SHA)[0]["annotations"]] == ["MF101", "MF101"]


def test_findings_outside_the_diff_go_to_the_check_run_only(github, tmp_path):
    files = task_files(garbled=3)
    report = files["lib/MODEL_FAILURES.md"]
    n = report.split("\n").index(next(line for line in report.split("\n") if "Item 1" in line)) + 1
    # Only the line of item 1 changed in this push.
    patch = f"@@ -{n},1 +{n},1 @@\n-old\n+" + report.split("\n")[n - 1]
    github.add_pull(2, SHA, files, patches={"lib/MODEL_FAILURES.md": patch})
    run_job(review_job(), context(make_settings(tmp_path)))
    assert len(github.runs_for(SHA)[0]["annotations"]) == 3
    assert [c["line"] for c in github.review_comments(2)] == [n]


def test_recheck_by_a_writer_reacts_and_reviews(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.permissions["maria"] = "write"
    job = Job("recheck", 1, OWNER, REPO, number=2, comment_id=77, user="maria", author="octocat")
    result = run_job(job, context(make_settings(tmp_path)))
    assert result.status == "published"
    assert github.reactions == [{"comment_id": 77, "content": "+1"}]
    assert len(github.runs_for(SHA)) == 1


def test_recheck_by_the_author_needs_no_permission_lookup(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    job = Job("recheck", 1, OWNER, REPO, number=2, comment_id=77, user="octocat", author="octocat")
    assert run_job(job, context(make_settings(tmp_path))).status == "published"
    assert github.calls("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") == []


def test_recheck_by_an_outsider_gets_one_polite_reply_only(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    github.permissions["reader"] = "read"
    ctx = context(make_settings(tmp_path))
    for user in ("stranger", "stranger", "reader"):
        job = Job("recheck", 1, OWNER, REPO, number=2, comment_id=77, user=user, author="octocat")
        assert run_job(job, ctx).status == "denied"
    assert [c["body"][:30] for c in github.comments] == ["Thanks! Only the author of thi"] * 2  # stranger once, reader once
    assert github.check_runs == [] and github.reactions == []


def test_rerequest_without_pull_requests_finds_the_pr_by_commit(github, tmp_path):
    github.add_pull(2, SHA, task_files())
    job = Job("rerequest", 1, OWNER, REPO, number=None, sha=SHA)
    assert run_job(job, context(make_settings(tmp_path))).status == "published"
    assert len(github.calls("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls")) == 1
    assert len(github.runs_for(SHA)) == 1


def test_summary_is_sticky_across_pushes(github, tmp_path):
    github.add_pull(2, SHA, task_files(garbled=2))
    ctx = context(make_settings(tmp_path))
    run_job(review_job(), ctx)
    github.push(2, SHA2)
    github.blobs[(SHA2, "lib/MODEL_FAILURES.md")] = task_files(garbled=0)["lib/MODEL_FAILURES.md"]
    run_job(review_job(sha=SHA2), ctx)
    [summary] = github.summaries(2)
    assert summary["body"].startswith(SUMMARY_MARKER) and "No findings" in summary["body"]
    assert len(github.runs_for(SHA2)) == 1 and github.runs_for(SHA2)[0]["conclusion"] == "success"
