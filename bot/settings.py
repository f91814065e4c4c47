"""The App's configuration, read once from the environment into a frozen dataclass.

    GITHUB_APP_ID             the App's numeric id (JWT `iss`)
    GITHUB_PRIVATE_KEY        the App's private key (PEM text), or
    GITHUB_PRIVATE_KEY_PATH   a file holding it
    GITHUB_WEBHOOK_SECRET     webhook secret; several, comma-separated, while rotating (old,new)
    GITHUB_API_URL            https://api.github.com (default) or https://HOST/api/v3 (GHES)
    MFBOT_QUEUE               sqlite:///path/queue.db (default ./mfbot-queue.db) or redis://host:6379/0
    MFBOT_WORKERS             worker threads per process (default 2)
    MFBOT_JOB_LEASE           seconds a running job may go without a heartbeat before it is re-run (default 120)
    PORT                      HTTP port of `mfbot serve` (default 3000)
    MFBOT_METRICS_PORT        port where `mfbot worker` serves its Prometheus metrics (default 0: none)

Nothing reads os.environ except `Settings.from_env()`; tests build Settings directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_QUEUE = "sqlite:///mfbot-queue.db"
CHECK_NAME = "mfbot"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    app_id: int
    private_key: str = ""
    webhook_secrets: tuple[str, ...] = ()
    api_url: str = DEFAULT_API_URL
    queue_url: str = DEFAULT_QUEUE
    port: int = 3000
    workers: int = 2
    job_lease: float = 120.0
    check_name: str = CHECK_NAME
    metrics_port: int = 0

    @property
    def graphql_url(self) -> str:
        """GitHub.com: api.github.com/graphql; GHES: HOST/api/v3 -> HOST/api/graphql."""
        parts = urlsplit(self.api_url.rstrip("/"))
        path = parts.path
        path = path[: -len("/v3")] + "/graphql" if path.endswith("/api/v3") else path + "/graphql"
        return urlunsplit(parts._replace(path=path))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        app_id = _int(env, "GITHUB_APP_ID", None)
        key = env.get("GITHUB_PRIVATE_KEY", "").replace("\\n", "\n").strip()
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
        if not key and key_path:
            try:
                key = Path(key_path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror or exc}") from None
        if key and "PRIVATE KEY-----" not in key:
            raise SettingsError("GITHUB_PRIVATE_KEY: not a PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')")
        secrets = tuple(s.strip() for s in env.get("GITHUB_WEBHOOK_SECRET", "").split(",") if s.strip())
        api_url = env.get("GITHUB_API_URL", DEFAULT_API_URL).strip().rstrip("/") or DEFAULT_API_URL
        if urlsplit(api_url).scheme not in ("http", "https"):
            raise SettingsError(f"GITHUB_API_URL: expected an http(s) URL, not {api_url!r}")
        queue = env.get("MFBOT_QUEUE", DEFAULT_QUEUE).strip() or DEFAULT_QUEUE
        if not queue.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
            raise SettingsError(f"MFBOT_QUEUE: expected sqlite:///path or redis://host:port/db, not {queue!r}")
        return cls(
            app_id=app_id or 0, private_key=key, webhook_secrets=secrets, api_url=api_url, queue_url=queue,
            port=_int(env, "PORT", 3000), workers=_int(env, "MFBOT_WORKERS", 2),
            job_lease=float(_int(env, "MFBOT_JOB_LEASE", 120)),
            metrics_port=_int(env, "MFBOT_METRICS_PORT", 0),
        )

    def problems(self) -> list[str]:
        """What stops the App from working, for `serve`/`worker` to refuse early with a clear message."""
        out = []
        if not self.app_id:
            out.append("GITHUB_APP_ID is not set")
        if not self.private_key:
            out.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is not set")
        if not self.webhook_secrets:
            out.append("GITHUB_WEBHOOK_SECRET is not set (every delivery would be rejected)")
        return out


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, not {raw!r}") from None
