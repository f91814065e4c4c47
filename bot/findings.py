"""What a rule reports: a Finding, and the levels findings are ranked by."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass


class Level(enum.IntEnum):
    """Severity of a finding. Ordered so that `level >= fail_on` decides failure."""

    NOTICE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Level":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown level {text!r}: use error, warning or notice") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One defect at one place. `path` is relative to the reviewed root."""

    rule: str
    kind: str
    level: Level
    path: str
    line: int
    message: str
    evidence: str = ""
    end_line: int | None = None
    replacement: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["level"] = str(self.level)
        data["end_line"] = self.end_line or self.line
        return data

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.rule, self.message)
