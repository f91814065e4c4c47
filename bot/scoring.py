"""The training-quality rubric of the anchor repository, recomputed from a report's stated fixes.

    Final = base 8 + fixes adjustment + complexity adjustment, clamped to 0..10, rounded half up.

Fixes adjustment: Category A, one fix +1, two or more +2 (overrides C penalties); Category B +/-0
(and cancels C/D penalties); reports whose fixes are all Category C: 4-5 fixes -1, 6+ -2; "minimal"
reports of 1-2 C fixes -4, 3-4 fixes -3. Four C-only fixes hit both the C rule (-1) and the minimal
rule (-3): the rubric does not say which wins, so both are kept and the result is a range.
Complexity: +1 each for integrated services, security, high availability, advanced patterns,
capped at +2; a single service -1. When the report does not state it, the whole span -1..+2 is used.

Other repositories score differently: every number is a setting (`settings.score.rubric`), and
`settings.score.rubric: off` turns the recomputation off.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


class RubricError(ValueError):
    """A rubric setting is malformed; the message names it."""


@dataclass(frozen=True)
class Rubric:
    base: int = 8
    a_one: int = 1  # one Category A fix
    a_many: int = 2  # two or more
    c_only: tuple[tuple[int, int], ...] = ((4, -1), (6, -2))  # (at least N fixes, adjustment), all C
    minimal: tuple[tuple[int, int], ...] = ((1, -4), (3, -3))  # (at least N fixes, adjustment), all C
    minimal_max: int = 4  # "minimal" means at most this many fixes
    complexity_min: int = -1
    complexity_max: int = 2
    low: int = 0
    high: int = 10

    @classmethod
    def from_setting(cls, value: Any) -> "Rubric | None":
        """`settings.score.rubric`: absent -> the anchor rubric; off/false -> None; a mapping overrides keys."""
        if value is None or value is True:
            return cls()
        if value is False or (isinstance(value, str) and value.lower() in ("off", "false", "no")):
            return None
        if not isinstance(value, dict):
            raise RubricError("settings.score.rubric: expected a mapping of rubric keys, or off")
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise RubricError(f"settings.score.rubric: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        conv = {k: tuple(tuple(int(x) for x in pair) for pair in v) if isinstance(v, list) else int(v)
                for k, v in value.items()}
        return replace(cls(), **conv)


@dataclass(frozen=True)
class Outcome:
    low: int
    high: int
    steps: str  # how the range was computed, for the evidence
    ambiguity: str = ""

    def allows(self, score: float) -> bool:
        return self.low <= score <= self.high

    def shown(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def round_half_up(value: float) -> int:
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _step(table: tuple[tuple[int, int], ...], n: int) -> int | None:
    adj = None
    for at_least, value in sorted(table):
        if n >= at_least:
            adj = value
    return adj


def fix_adjustments(rubric: Rubric, counts: dict[str, int]) -> tuple[list[int], str, str]:
    """The possible fixes adjustments for category counts {"A": 2, "B": 3, ...}, why, and any ambiguity."""
    a, b, c = counts.get("A", 0), counts.get("B", 0), counts.get("C", 0) + counts.get("D", 0)
    if a:
        adj = rubric.a_many if a >= 2 else rubric.a_one
        return [adj], f"Category A: {a} fix{'es' if a > 1 else ''} {adj:+d}", ""
    if b:
        return [0], f"Category B: {b} (+0, no C penalty)", ""
    options: dict[int, str] = {}
    c_adj = _step(rubric.c_only, c)
    if c_adj is not None:
        options[c_adj] = f"C-only rule: {c} fixes {c_adj:+d}"
    m_adj = _step(rubric.minimal, c) if c <= rubric.minimal_max else None
    if m_adj is not None:
        options[m_adj] = f"minimal rule: {c} fixes {m_adj:+d}"
    if not options:
        return [0], f"Category C: {c} fixes (+0)", ""
    ambiguity = ""
    if len(options) > 1:
        ambiguity = (f"the rubric is ambiguous for {c} C-only fixes: the C rule gives {c_adj:+d}, the minimal rule "
                     f"{m_adj:+d}; both are allowed")
    return sorted(options), "; ".join(options.values()), ambiguity


def evaluate(rubric: Rubric, counts: dict[str, int], complexity: int | None = None) -> Outcome:
    """The score range the rubric gives for the category counts and the complexity adjustment
    (None: not stated, any value the rubric allows)."""
    adjs, why, ambiguity = fix_adjustments(rubric, counts)
    if complexity is None:
        cx = list(range(rubric.complexity_min, rubric.complexity_max + 1))
        cx_why = f"complexity not stated ({rubric.complexity_min:+d}..{rubric.complexity_max:+d})"
    else:
        capped = max(rubric.complexity_min, min(rubric.complexity_max, complexity))
        cx = [capped]
        cx_why = f"complexity {complexity:+d}" + (f" capped at {capped:+d}" if capped != complexity else "")
    results = [max(rubric.low, min(rubric.high, round_half_up(rubric.base + a + c))) for a in adjs for c in cx]
    steps = f"base {rubric.base}; {why}; {cx_why}; clamped to {rubric.low}..{rubric.high}"
    return Outcome(min(results), max(results), steps, ambiguity)
