"""`mfbot doctor`: check the configuration a deployment was given and say in plain words what is
wrong. It reads the same environment variables as the App (docs/configuration.md), never prints a
secret, and exits 1 when something must be fixed before the App can work.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlparse

from bot.settings import DEFAULT_API_URL, DEFAULT_QUEUE, Settings, SettingsError

TIMEOUT = 5.0


@dataclass
class Check:
    name: str
    ok: bool
    message: str


def run_checks(env: Mapping[str, str], timeout: float = TIMEOUT) -> list[Check]:
    checks = [check_settings(env), check_app_id(env)]
    key_check, key = check_private_key(env)
    checks += [key_check, check_webhook_secret(env), check_api(env, timeout)]
    if checks[1].ok and key is not None and checks[-1].ok:
        checks.append(check_app_auth(env, key, timeout))
    checks.append(check_queue(env, timeout))
    return checks


def check_settings(env: Mapping[str, str]) -> Check:
    """The App's own parser accepts every variable (numbers are numbers, URLs are URLs)."""
    try:
        Settings.from_env(env)
    except SettingsError as exc:
        return Check("settings", False, f"{exc}.")
    return Check("settings", True, "every variable parses.")


def check_app_id(env: Mapping[str, str]) -> Check:
    value = env.get("GITHUB_APP_ID", "").strip()
    if not value:
        return Check("App id", False, "GITHUB_APP_ID is not set: copy the App ID from the App's settings page "
                                      "(General, About).")
    if not value.isdigit() or int(value) == 0:
        return Check("App id", False, f"GITHUB_APP_ID must be the App's numeric id, not {value!r} "
                                      "(the Client ID starting with 'Iv' is a different number).")
    return Check("App id", True, f"GITHUB_APP_ID is {value}.")


def check_private_key(env: Mapping[str, str]):
    """(Check, key object or None). The key is the PEM text in GITHUB_PRIVATE_KEY or the file at
    GITHUB_PRIVATE_KEY_PATH; GitHub issues unencrypted RSA keys."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text, path = env.get("GITHUB_PRIVATE_KEY", ""), env.get("GITHUB_PRIVATE_KEY_PATH", "")
    if text.strip():
        source = "GITHUB_PRIVATE_KEY"
        data = text.replace("\\n", "\n").encode()  # one-line config stores often keep literal \n
    elif path.strip():
        source = f"GITHUB_PRIVATE_KEY_PATH ({path})"
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return Check("private key", False, f"cannot read the key file {path}: {exc.strerror or exc}."), None
    else:
        return Check("private key", False, "no private key: set GITHUB_PRIVATE_KEY_PATH to the .pem file GitHub "
                                           "gave you (App settings, Private keys) or GITHUB_PRIVATE_KEY to its text."), None
    if b"-----BEGIN" not in data:
        return Check("private key", False, f"{source} does not hold a PEM key (it should start with "
                                           "'-----BEGIN RSA PRIVATE KEY-----')."), None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        return Check("private key", False, f"{source} is encrypted with a passphrase; use the key exactly as "
                                           "GitHub generated it."), None
    except ValueError:
        return Check("private key", False, f"{source} looks like PEM but is not a valid private key (truncated, "
                                           "or line breaks lost when it was pasted)."), None
    if not isinstance(key, RSAPrivateKey):
        return Check("private key", False, f"{source} is not an RSA key; GitHub Apps sign with RSA keys."), None
    return Check("private key", True, f"{source} is a valid {key.key_size}-bit RSA key."), key


def check_webhook_secret(env: Mapping[str, str]) -> Check:
    secrets = [s for s in env.get("GITHUB_WEBHOOK_SECRET", "").split(",") if s.strip()]
    if not secrets:
        return Check("webhook secret", False, "GITHUB_WEBHOOK_SECRET is not set: every delivery would be "
                                              "rejected. Use the secret entered in the App's webhook settings.")
    n = len(secrets)
    return Check("webhook secret", True, f"{n} secret{'s' * (n != 1)} accepted" +
                 (" (rotation in progress)." if n > 1 else "."))


def check_api(env: Mapping[str, str], timeout: float) -> Check:
    import requests

    url = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return Check("GitHub API", False, f"GITHUB_API_URL {url!r} is not a URL; use https://api.github.com or "
                                          "https://HOST/api/v3 for GitHub Enterprise Server.")
    try:
        resp = requests.get(url.rstrip("/") + "/", timeout=timeout, headers={"Accept": "application/vnd.github+json"})
    except requests.Timeout:
        return Check("GitHub API", False, f"{url} did not answer within {timeout:g} s (firewall, proxy or wrong host?).")
    except requests.ConnectionError as exc:
        return Check("GitHub API", False, f"cannot connect to {url}: {_reason(exc)}.")
    if resp.status_code >= 500 or resp.status_code == 404:
        hint = " (on GitHub Enterprise Server the API is at https://HOST/api/v3)" if resp.status_code == 404 else ""
        return Check("GitHub API", False, f"{url} answered HTTP {resp.status_code}{hint}.")
    return Check("GitHub API", True, f"{url} is reachable (HTTP {resp.status_code}).")


def check_app_auth(env: Mapping[str, str], key, timeout: float) -> Check:
    """The id and key belong together: GitHub accepts a JWT signed with the key for that App id."""
    import jwt
    import requests

    url = (env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")
    now = int(time.time())
    token = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": env["GITHUB_APP_ID"].strip()}, key, "RS256")
    try:
        resp = requests.get(f"{url}/app", timeout=timeout, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"})
    except requests.RequestException as exc:
        return Check("App credentials", False, f"cannot ask GitHub about the App: {_reason(exc)}.")
    if resp.status_code == 200:
        data = resp.json()
        return Check("App credentials", True, f"GitHub knows this key as App {data.get('slug') or data.get('id')}.")
    if resp.status_code == 401:
        return Check("App credentials", False, "GitHub rejects the App id with this key: the key belongs to another "
                                               "App, was deleted, or this machine's clock is off by minutes.")
    return Check("App credentials", False, f"GitHub answered HTTP {resp.status_code} when asked about the App.")


def check_queue(env: Mapping[str, str], timeout: float) -> Check:
    url = env.get("MFBOT_QUEUE", "").strip() or DEFAULT_QUEUE
    if url.startswith("sqlite://"):
        return _check_sqlite(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _check_redis(url, timeout)
    return Check("queue", False, f"MFBOT_QUEUE {url!r} is neither sqlite:///PATH nor redis://HOST:PORT/DB.")


def _check_sqlite(url: str) -> Check:
    from bot.queue import sqlite_path

    try:  # the App's own reading: sqlite:///q.db is relative to the working directory, sqlite:////x/q.db absolute
        path = Path(sqlite_path(url))
    except ValueError as exc:
        return Check("queue", False, f"{exc}.")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return Check("queue", False, f"the SQLite queue {path} exists but this user cannot write it.")
        try:
            with sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1) as db:
                db.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            return Check("queue", False, f"{path} is not a usable SQLite database: {exc}.")
        return Check("queue", True, f"SQLite queue {path} is writable.")
    # The App creates missing folders: the nearest existing one must be writable.
    folder = next(p for p in path.absolute().parents if p.exists())
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        return Check("queue", False, f"cannot create the SQLite queue {path}: {folder} is not a folder this user "
                                     "can write.")
    return Check("queue", True, f"SQLite queue {path} will be created (in {folder}, writable).")


def _check_redis(url: str, timeout: float) -> Check:
    import redis

    parsed = urlparse(url)
    where = parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[-1]).geturl()  # without the password
    try:
        redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except redis.AuthenticationError:
        return Check("queue", False, f"Redis at {where} refused the password in MFBOT_QUEUE.")
    except redis.RedisError as exc:
        return Check("queue", False, f"cannot reach Redis at {where}: {_reason(exc)}.")
    return Check("queue", True, f"Redis at {where} answers.")


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    for clue, words in (("NameResolution", "the host name does not resolve (DNS)"),
                        ("Name or service not known", "the host name does not resolve (DNS)"),
                        ("Connection refused", "connection refused (nothing listens on that port)"),
                        ("CERTIFICATE_VERIFY_FAILED", "the TLS certificate is not trusted"),
                        ("timed out", "timed out")):
        if clue in text:
            return words
    return text.splitlines()[0][:200]


def report(checks: list[Check], out: Callable[[str], None] = print) -> int:
    for c in checks:
        out(f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.message}")
    failed = [c for c in checks if not c.ok]
    out(f"{len(failed)} problem{'s' * (len(failed) != 1)} found." if failed else "Everything needed is in place.")
    return 1 if failed else 0


def main(env: Mapping[str, str] | None = None) -> int:
    return report(run_checks(os.environ if env is None else env))
