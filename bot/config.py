"""Review configuration: `.github/mfbot.yml` in a repository or `--config FILE` locally.

    rules:                # by id, short name or kind: off, or a level
      MF105: off
      mojibake: error
    report_glob: "**/MODEL_FAILURES.md"
    fail_on: error        # error, warning, notice or never
    settings:             # options of rule families, documented with each rule
      score: {integer_only: true}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.findings import Level

DEFAULT_REPORT_GLOB = "**/MODEL_FAILURES.md"
CONFIG_PATH = ".github/mfbot.yml"
KEYS = {"rules", "report_glob", "fail_on", "settings"}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class Config:
    off: frozenset[str] = frozenset()  # rule ids, names or kinds turned off
    levels: dict[str, Level] = field(default_factory=dict)  # rule id, name or kind -> level
    report_glob: str = DEFAULT_REPORT_GLOB
    fail_on: Level | None = Level.ERROR  # None: never fail
    settings: dict[str, Any] = field(default_factory=dict)

    def setting(self, family: str, key: str, default: Any) -> Any:
        value = self.settings.get(family, {})
        return value.get(key, default) if isinstance(value, dict) else default

    @classmethod
    def from_yaml(cls, text: str, source: str = CONFIG_PATH) -> "Config":
        try:
            data = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {exc}") from None
        return cls.from_dict(data or {}, source)

    @classmethod
    def from_dict(cls, data: Any, source: str = CONFIG_PATH) -> "Config":
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        unknown = set(data) - KEYS
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(KEYS))}")
        off, levels = set(), {}
        rules = data.get("rules") or {}
        if not isinstance(rules, dict):
            raise ConfigError(f"{source}: rules must map a rule id, name or kind to off or a level")
        for key, value in rules.items():
            word = "off" if value is False else str(value).strip().lower()
            if word in ("off", "false", "disable", "disabled"):
                off.add(str(key))
            else:
                try:
                    levels[str(key)] = Level.parse(word)
                except ValueError as exc:
                    raise ConfigError(f"{source}: rules.{key}: {exc} (or off)") from None
        glob = data.get("report_glob", DEFAULT_REPORT_GLOB)
        if not isinstance(glob, str) or not glob:
            raise ConfigError(f"{source}: report_glob must be a non-empty string")
        settings = data.get("settings") or {}
        if not isinstance(settings, dict):
            raise ConfigError(f"{source}: settings must be a mapping")
        return cls(frozenset(off), levels, glob, parse_fail_on(data.get("fail_on", "error"), source), settings)


def parse_fail_on(value: Any, source: str = "--fail-on") -> Level | None:
    word = str(value).strip().lower()
    if word == "never":
        return None
    try:
        return Level.parse(word)
    except ValueError:
        raise ConfigError(f"{source}: fail_on must be error, warning, notice or never, not {value!r}") from None
