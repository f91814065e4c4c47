"""Hygiene rules: text damage and leftovers that make a report unusable as training data."""

from __future__ import annotations

import re

from bot.findings import Level
from bot.rules import Rule, register
from bot.task import IDEAL_RESPONSE, PROMPT

# The documents of a task that become training text.
TRAINING_DOCS = (PROMPT, IDEAL_RESPONSE)


def _byte_table(encoding: str) -> dict[str, int]:
    table = {}
    for b in range(0x80, 0x100):
        try:
            table[bytes([b]).decode(encoding)] = b
        except UnicodeDecodeError:
            pass
    return table


# UTF-8 bytes read as Windows-1252 (`â€™`, `Ã©`, `ðŸ”`) or Mac Roman (`‚úÖ`, `‚ùå`).
_CODEPAGES = [("cp1252", _byte_table("cp1252"), 2), ("mac_roman", _byte_table("mac_roman"), 3)]
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def find_mojibake(line: str) -> list[tuple[str, str]]:
    """(garbled, meant) pairs in a line. Only sequences that decode as valid UTF-8 count, so
    legitimate accented or non-Latin text never matches."""
    found = []
    for run in _NON_ASCII_RUN.finditer(line):
        text = run.group(0)
        for _, table, min_len in _CODEPAGES:
            i = 0
            while i < len(text):
                n = _utf8_length(table.get(text[i]))
                chunk = text[i:i + n]
                if n >= min_len and len(chunk) == n and all(0x80 <= table.get(c, 0) <= 0xBF for c in chunk[1:]):
                    try:
                        meant = bytes(table[c] for c in chunk).decode("utf-8")
                    except UnicodeDecodeError:
                        meant = ""
                    if meant:
                        # Emoji come as two sequences (U+1F5xx then a variation selector): join neighbours.
                        if found and found[-1][0] and line.find(found[-1][0] + chunk) >= 0:
                            found[-1] = (found[-1][0] + chunk, found[-1][1] + meant)
                        else:
                            found.append((chunk, meant))
                        i += n
                        continue
                i += 1
            if found:
                break
    return found


def _utf8_length(byte: int | None) -> int:
    if byte is None:
        return 0
    if 0xC2 <= byte <= 0xDF:
        return 2
    if 0xE0 <= byte <= 0xEF:
        return 3
    if 0xF0 <= byte <= 0xF4:
        return 4
    return 0


@register
class Mojibake(Rule):
    id = "MF101"
    name = "mojibake"
    kind = "MOJIBAKE"
    level = Level.ERROR
    summary = "Text garbled by reading UTF-8 through another code page (`â€™`, `Ã©`, `‚ùå`) or replaced by U+FFFD."
    why = ("Garbled characters are learned as if they were real text: a model trained on `donâ€™t` writes "
           "`donâ€™t`. The damage comes from an editor or a pipeline that decoded UTF-8 as Windows-1252 or "
           "Mac Roman; the original text can be restored exactly, which is what the suggestion shows.")
    bad = {"lib/MODEL_FAILURES.md": "# Model Failures\n\n### 1. Bucket policy\n\nThe modelâ€™s policy allowed `s3:*`.\n"}
    good = {"lib/MODEL_FAILURES.md": "# Model Failures\n\n### 1. Bucket policy\n\nThe model’s policy allowed `s3:*` (café, 東京 stay as they are).\n"}

    def check(self, task, config):
        for path in (task.report_path, *TRAINING_DOCS):
            text = task.get(path)
            if not text:
                continue
            for n, line in enumerate(text.split("\n"), 1):
                pairs = find_mojibake(line)
                if pairs:
                    fixed = line
                    for garbled, meant in pairs:
                        fixed = fixed.replace(garbled, meant)
                    shown = ", ".join(f"`{g}` for `{m}`" for g, m in pairs[:3])
                    yield self.finding(path, n, f"Garbled text: {shown} (UTF-8 read as another code page).",
                                       evidence=line.strip()[:200], replacement=fixed)
                elif "\ufffd" in line:
                    yield self.finding(path, n, "U+FFFD replacement character: the original text was lost in decoding.",
                                       evidence=line.strip()[:200])
