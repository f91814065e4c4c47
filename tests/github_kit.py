"""Shared pieces of the App tests: a key pair, settings, signed deliveries, a typical task, and the
`github` fixture (a FakeGitHub behind `responses`, every request checked against GitHub's schema)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from functools import lru_cache
from pathlib import Path

import pytest
import responses

from bot.github import TokenCache
from bot.review import Context
from bot.settings import Settings
from tests.fakegithub import FakeGitHub

WEBHOOKS = Path(__file__).parent / "data" / "github" / "webhooks"
SECRET = "It's a Secret to Everybody"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # head of PR #2 in octokit's pull_request examples
SHA2 = "1111111111111111111111111111111111111111"


@lru_cache(maxsize=1)
def private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(app_id=4242, private_key=private_key(), webhook_secrets=(SECRET,),
                  queue_url=f"sqlite:///{tmp_path / 'queue.db'}", job_lease=5.0)
    values.update(overrides)
    return Settings(**values)


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload_bytes(name: str) -> bytes:
    return (WEBHOOKS / f"{name}.json").read_bytes()


def headers(event: str, body: bytes, secret: str | None = SECRET, delivery: str | None = None) -> dict:
    out = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
           "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/test"}
    if secret is not None:
        out["X-Hub-Signature-256"] = signature(body, secret)
    return out


def post_delivery(client, name: str, secret: str | None = SECRET, delivery: str | None = None, body: bytes | None = None,
                  event: str | None = None):
    body = payload_bytes(name) if body is None else body
    return client.post("/webhook", data=body, headers=headers(event or name.split(".")[0], body, secret, delivery))


def garbled_lines(n: int) -> str:
    return "\n".join(f"- Item {i}: the model’s policy allowed `s3:*`.".replace("’", "â€™") for i in range(n))


def only_mf101() -> str:
    """`.github/mfbot.yml` turning off every rule but MF101, so counts do not move as rules are added."""
    from bot.rules import all_rules

    return "rules:\n" + "".join(f"  {r.id}: off\n" for r in all_rules() if r.id != "MF101")


def task_files(garbled: int = 2) -> dict[str, str]:
    """A typical task PR: report, siblings, IaC and tests (MF101 mojibake planted `garbled` times)."""
    report = ("# Model Failures\n\n## Summary\n\nTotal: 2 failures.\n\n### 1. Bucket policy\n\n**Severity:** High\n\n"
              + garbled_lines(garbled) + "\n\n### 2. Logging\n\n**Severity:** Medium\n\nLogs were not encrypted.\n")
    return {
        "lib/MODEL_FAILURES.md": report,
        "lib/MODEL_RESPONSE.md": "# Model response\n\n```ts\nnew s3.Bucket(this, 'B');\n```\n",
        "lib/IDEAL_RESPONSE.md": "# Ideal response\n\n```ts\nnew s3.Bucket(this, 'B', { encryption: s3.BucketEncryption.KMS });\n```\n",
        "lib/PROMPT.md": "Create an encrypted bucket.\n",
        "metadata.json": json.dumps({"platform": "cdk", "language": "ts", "complexity": "medium"}),
        "lib/AWS_REGION": "us-east-1\n",
        "lib/tap-stack.ts": "import * as s3 from 'aws-cdk-lib/aws-s3';\nnew s3.Bucket(this, 'B', { encryption: s3.BucketEncryption.KMS });\n",
        "test/tap-stack.unit.test.ts": "test('bucket', () => { expect(1).toBe(1); });\n",
        "package.json": "{}\n",
    }


def fake_github() -> FakeGitHub:
    """A stand-in whose default branch configures only MF101 (see only_mf101)."""
    fake = FakeGitHub(owner="Codertocat", repo="Hello-World")
    fake.default_branch[".github/mfbot.yml"] = only_mf101()
    return fake


@pytest.fixture
def github():
    """FakeGitHub as api.github.com; fails the test if any request or answer breaks GitHub's schema."""
    fake = fake_github()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake
    assert fake.violations == [], "\n".join(fake.violations)


def context(settings: Settings, tokens: TokenCache | None = None, heads: dict | None = None, **kw) -> Context:
    heads = {} if heads is None else heads
    seen: set[str] = set()

    def once(key: str) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True
    return Context(settings, tokens or TokenCache(settings), head=heads.get, set_head=heads.__setitem__, once=once,
                   sleep=kw.pop("sleep", lambda s: None), **kw)
