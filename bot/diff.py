"""Changed lines from the unified-diff `patch` GitHub gives for each pull request file.

GitHub accepts a review comment only on a line inside a diff hunk (right side = the new file), and a
multi-line comment only when both ends lie in the same hunk; one bad line rejects the whole review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Hunk:
    start: int  # first right-side line of the hunk
    end: int  # last right-side line (inclusive)
    added: set[int] = field(default_factory=set)


def parse_patch(patch: str | None) -> list[Hunk]:
    """Right-side hunks of a patch; [] for None (binary or too large: GitHub omits `patch`)."""
    hunks: list[Hunk] = []
    line = 0
    for text in (patch or "").split("\n"):
        m = _HUNK.match(text)
        if m:
            line = int(m.group(1))
            count = int(m.group(2)) if m.group(2) is not None else 1
            hunks.append(Hunk(line, line + count - 1))
            continue
        if not hunks or text.startswith("\\"):  # "\ No newline at end of file"
            continue
        if text.startswith("+"):
            hunks[-1].added.add(line)
            line += 1
        elif text.startswith(" ") or text == "":
            line += 1
        # "-" lines exist only on the left side
    return hunks


def added_lines(hunks: list[Hunk]) -> set[int]:
    return set().union(*(h.added for h in hunks)) if hunks else set()


def commentable(hunks: list[Hunk], start: int, end: int) -> bool:
    """True when lines start..end lie in one hunk and at least one of them was added."""
    return any(h.start <= start <= end <= h.end and any(n in h.added for n in range(start, end + 1))
               for h in hunks)
