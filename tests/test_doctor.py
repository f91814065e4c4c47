"""`mfbot doctor` says in plain words what is wrong with a deployment's configuration."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.cli import main
from bot.doctor import check_api, check_app_auth, check_app_id, check_private_key, check_queue, run_checks

API = "https://ghe.example.com/api/v3"


def pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def good_env(rsa_pem, tmp_path):
    return {"GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": rsa_pem, "GITHUB_WEBHOOK_SECRET": "old,new",
            "GITHUB_API_URL": API, "MFBOT_QUEUE": f"sqlite:///{tmp_path}/q.db"}


def by_name(checks):
    return {c.name: c for c in checks}


@responses.activate
def test_a_good_configuration_passes(good_env, capsys, monkeypatch):
    responses.get(f"{API}/", json={"current_user_url": f"{API}/user"})
    responses.get(f"{API}/app", json={"id": 4242, "slug": "mfbot-acme"})
    checks = run_checks(good_env)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert by_name(checks)["App credentials"].message == "GitHub knows this key as App mfbot-acme."
    assert by_name(checks)["webhook secret"].message == "2 secrets accepted (rotation in progress)."
    # the JWT doctor sent is RS256 and names the App id
    import jwt
    token = responses.calls[1].request.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == "4242"
    for name, value in good_env.items():
        monkeypatch.setenv(name, value)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Everything needed is in place." in out
    assert good_env["GITHUB_PRIVATE_KEY"].splitlines()[1] not in out  # never prints the key


def test_nothing_set_lists_every_problem(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with responses.RequestsMock() as mock:
        mock.get("https://api.github.com/", body=requests.ConnectionError("Failed to resolve 'api.github.com'"))
        for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
                     "GITHUB_API_URL", "MFBOT_QUEUE"):
            monkeypatch.delenv(name, raising=False)
        assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  App id: GITHUB_APP_ID is not set" in out
    assert "FAIL  private key: no private key" in out
    assert "FAIL  webhook secret: GITHUB_WEBHOOK_SECRET is not set" in out
    assert "FAIL  GitHub API: cannot connect to https://api.github.com" in out
    assert "ok    queue: SQLite queue mfbot-queue.db will be created" in out
    assert "4 problems found." in out


@pytest.mark.parametrize("value,words", [
    ("Iv1.8a61f9b3a7aba766", "numeric id"),
    ("0", "numeric id"),
])
def test_app_id_must_be_the_numeric_id(good_env, value, words):
    good_env["GITHUB_APP_ID"] = value
    check = check_app_id(good_env)
    assert not check.ok and words in check.message


def test_key_problems_in_plain_words(tmp_path, rsa_pem):
    missing = check_private_key({"GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "nope.pem")})[0]
    assert not missing.ok and "cannot read the key file" in missing.message

    not_pem = check_private_key({"GITHUB_PRIVATE_KEY": "just some text"})[0]
    assert not not_pem.ok and "does not hold a PEM key" in not_pem.message

    lines = rsa_pem.splitlines()
    truncated = check_private_key({"GITHUB_PRIVATE_KEY": "\n".join(lines[:5] + lines[-1:])})[0]
    assert not truncated.ok and "not a valid private key" in truncated.message

    ec_key = check_private_key({"GITHUB_PRIVATE_KEY": pem(ec.generate_private_key(ec.SECP256R1()))})[0]
    assert not ec_key.ok and "not an RSA key" in ec_key.message

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    locked = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.BestAvailableEncryption(b"pw")).decode()
    enc = check_private_key({"GITHUB_PRIVATE_KEY": locked})[0]
    assert not enc.ok and "passphrase" in enc.message


def test_key_from_a_file_and_from_one_line_with_escaped_newlines(tmp_path, rsa_pem):
    path = tmp_path / "app.pem"
    path.write_text(rsa_pem)
    assert check_private_key({"GITHUB_PRIVATE_KEY_PATH": str(path)})[0].message.endswith("is a valid 2048-bit RSA key.")
    one_line = rsa_pem.replace("\n", "\\n")  # how many config stores keep it
    assert check_private_key({"GITHUB_PRIVATE_KEY": one_line})[0].ok


@responses.activate
def test_api_unreachable_slow_or_wrong():
    responses.get("https://slow.example/", body=requests.Timeout())
    responses.get("https://ghe.example/", status=404)
    responses.get("https://down.example/", status=503)
    slow = check_api({"GITHUB_API_URL": "https://slow.example"}, timeout=0.5)
    assert not slow.ok and "did not answer within 0.5 s" in slow.message
    wrong = check_api({"GITHUB_API_URL": "https://ghe.example"}, timeout=1)
    assert not wrong.ok and "https://HOST/api/v3" in wrong.message
    down = check_api({"GITHUB_API_URL": "https://down.example"}, timeout=1)
    assert not down.ok and "HTTP 503" in down.message
    assert not check_api({"GITHUB_API_URL": "api.github.com"}, timeout=1).ok


@responses.activate
def test_id_and_key_that_do_not_belong_together(good_env):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    responses.get(f"{API}/app", status=401, json={"message": "A JSON web token could not be decoded"})
    key = load_pem_private_key(good_env["GITHUB_PRIVATE_KEY"].encode(), None)
    check = check_app_auth(good_env, key, timeout=1)
    assert not check.ok and "key belongs to another App" in check.message


def test_settings_the_app_would_refuse(good_env):
    good_env["MFBOT_WORKERS"] = "two"
    check = by_name(run_checks({**good_env, "GITHUB_API_URL": "ftp://x"}, timeout=0.1))["settings"]
    assert not check.ok and "GITHUB_API_URL" in check.message


def test_sqlite_queue(tmp_path):
    assert check_queue({"MFBOT_QUEUE": f"sqlite:///{tmp_path}/q.db"}, 1).ok
    assert check_queue({"MFBOT_QUEUE": f"sqlite:///{tmp_path}/new/folder/q.db"}, 1).ok  # the App creates folders
    (tmp_path / "file").write_text("x")
    blocked = check_queue({"MFBOT_QUEUE": f"sqlite:///{tmp_path}/file/q.db"}, 1)
    assert not blocked.ok and "not a folder this user can write" in blocked.message
    assert not check_queue({"MFBOT_QUEUE": "sqlite:///"}, 1).ok
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    bad = check_queue({"MFBOT_QUEUE": f"sqlite:///{junk}"}, 1)
    assert not bad.ok and "not a usable SQLite database" in bad.message
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        ro = check_queue({"MFBOT_QUEUE": f"sqlite:///{locked}/q.db"}, 1)
        assert not ro.ok and "not writable" in ro.message
    assert not check_queue({"MFBOT_QUEUE": "amqp://rabbit"}, 1).ok


def test_redis_queue_unreachable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check = check_queue({"MFBOT_QUEUE": f"redis://:pw@127.0.0.1:{port}/0"}, 1)
    assert not check.ok and "cannot reach Redis at redis://127.0.0.1" in check.message
    assert "pw" not in check.message.replace("redis://", "")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path_factory.mktemp("redis"))], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(5)


@pytest.mark.redis
def test_redis_queue_reachable(redis_url):
    check = check_queue({"MFBOT_QUEUE": redis_url}, 2)
    assert check.ok and check.message.startswith("Redis at redis://127.0.0.1")
