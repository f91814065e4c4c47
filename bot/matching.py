"""Find quoted code in a task's files, tolerating the edits report authors make to quotes.

Quotes in reports are re-indented, commented (`# Too broad`), elided (`...`, `// ... other config`),
JSON re-serialised, wrapped, condensed, and have their quotes swapped. Both sides are normalised alike:

- comments are stripped from the quote per language (`//`, `#`, `/* */`, `--`, `<!-- -->`), string
  literals kept (the haystack keeps its comments: a quoted line is then found as part of a line);
- all whitespace, `,` and `;` are removed (re-indenting, wrapping, re-serialised JSON and trailing
  commas then compare equal), `'` and `` ` `` become `"`;
- an elision (`...` not followed by an identifier, `…`) is dropped; a line that held one is matched
  by its parts; lines of punctuation only (`});`) do not count;
- a line not found whole, nor as part of a line or across wrapped lines, is found when all its names
  and literals (three at least) stand close together: condensed code and reordered keys.

A haystack (files of a task) is indexed once: normalised line -> positions, plus one flat string
for lines quoted in part or wrapped differently. A quote's score is the share of its lines found in
order with gaps allowed (the longest chain of increasing positions), so a quote whose lines appear
scattered over unrelated places does not pass as present. Short code (inline spans, one-liners) is
compared by its identifiers and literals.
"""

from __future__ import annotations

import bisect
from functools import cached_property, lru_cache
from itertools import accumulate
import json
import re
from dataclasses import dataclass

# Comment syntax per language (fence info string or file extension).
_SLASH = {"ts", "tsx", "typescript", "js", "jsx", "javascript", "mjs", "cjs", "go", "golang", "java", "kotlin",
          "kt", "c", "cpp", "cs", "csharp", "groovy", "scala", "rust", "rs", "swift", "json", "jsonc", "json5", "php"}
_HASH = {"py", "python", "python3", "yaml", "yml", "sh", "bash", "shell", "zsh", "toml", "ruby", "rb",
         "dockerfile", "properties", "ini", "cfg", "makefile", "make", "r", "perl", "conf", "tfvars", "pl"}
_BOTH = {"hcl", "tf", "terraform", "php"}  # `#`, `//` and `/* */`
_DASH = {"sql", "lua", "haskell", "hs", "psql", "mysql", "plsql"}
_HTML = {"xml", "html", "htm", "md", "markdown", "svg", "vue"}
_NONE = {"text", "txt", "plaintext", "csv", "diff"}
_EXT_LANG = {".ts": "ts", ".tsx": "ts", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "js", ".py": "py",
             ".go": "go", ".java": "java", ".tf": "hcl", ".hcl": "hcl", ".tfvars": "hcl", ".yaml": "yaml",
             ".yml": "yaml", ".json": "json", ".sh": "sh", ".md": "md", ".sql": "sql", ".toml": "toml",
             ".xml": "xml", ".html": "html", ".kt": "kotlin", ".cfg": "cfg", ".ini": "ini", ".txt": "text"}

_STRING = r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`"
_SLASH_C = r"(?<![:\\])//[^\n]*|/\*[^\n]*?\*/"
_HASH_C = r"(?:(?<=\s)|^)#(?![{!\[])[^\n]*"
# Comments within one line; a string literal is matched first so a comment marker in it is kept.
_COMMENT_RX = {
    "slash": re.compile(rf"({_STRING})|{_SLASH_C}", re.M),
    "hash": re.compile(rf"({_STRING})|{_HASH_C}", re.M),
    "both": re.compile(rf"({_STRING})|{_SLASH_C}|{_HASH_C}", re.M),
    "dash": re.compile(rf"({_STRING})|--[^\n]*|/\*[^\n]*?\*/", re.M),
}
# What every comment of a style starts with.
_MARKERS = {"slash": ("//", "/*"), "hash": ("#",), "both": ("//", "/*", "#"), "dash": ("--", "/*")}
# Comments over several lines: replaced by their newlines so line numbers hold.
_BLOCK_RX = {"slash": re.compile(rf"({_STRING})|/\*.*?\*/", re.S), "html": re.compile(r"()<!--.*?-->", re.S)}
# ASCII characters dropped or turned into `"`, as one byte translation (UTF-8 never puts an ASCII byte
# inside a multi-byte character); the non-ASCII ones are replaced first, when present.
_ASCII_TABLE = bytes.maketrans(b"'`", b'""')
_ASCII_DROP = b" \t,;\f\v"
_REPLACE_WIDE = [("\u2018", '"'), ("\u2019", '"'), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", "")]
# `…` stays `…`, so only `...` needs the pattern.
_ELISION = re.compile(r"\.\.\.(?![\w$({\[\"'])")
_INFORMATIVE = re.compile(r"[A-Za-z0-9]")
_TOKEN = re.compile(r"[A-Za-z_$][\w$-]*[\w$]|[A-Za-z_$]|\d+(?:\.\d+)*")
# Lines that carry no evidence on their own.
_FILLER = {"else", "}else{", "end", "try", "try:", "else:", "return", "pass", "break", "continue", "finally:",
           "default:", "begin", "do", "then", "fi", "done", "esac", "---", "```", "EOF", "<<EOF"}


def lang_of(name: str) -> str:
    """A language key from a fence info string (`ts`, `typescript`) or a path (`lib/x.tf`)."""
    name = name.strip().lower()
    dot = name.rfind(".")
    if "/" in name or (dot > 0 and name[dot:] in _EXT_LANG):
        return _EXT_LANG.get(name[dot:], "") if dot >= 0 else ""
    return name.split()[0].lstrip(".{") if name else ""


def _comment_style(lang: str) -> str | None:
    if lang in _BOTH:
        return "both"
    if lang in _SLASH:
        return "slash"
    if lang in _HASH:
        return "hash"
    if lang in _DASH:
        return "dash"
    if lang in _HTML:
        return "html"
    if lang in _NONE:
        return None
    return "both"  # unknown or unlabelled: strip every common comment style


def strip_comments(text: str, lang: str) -> str:
    """Remove comments, keeping string literals and the line structure."""
    style = _comment_style(lang)
    if style is None:
        return text
    block = "html" if style == "html" else "slash"
    if ("<!--" if block == "html" else "/*") in text:
        text = _BLOCK_RX[block].sub(lambda m: m.group(1) or "\n" * m.group(0).count("\n"), text)
    if style == "html" or not any(marker in text for marker in _MARKERS[style]):
        return text  # no comment can start here: the pattern would keep every string literal as it is
    return _COMMENT_RX[style].sub(r"\1", text)


def _normal_text(text: str, lang: str) -> str:
    """The whole text normalised, one output line per input line (elisions become `…`)."""
    return _normal_code(strip_comments(one_newline(text), lang))


def one_newline(text: str) -> str:
    """The text with "\\n" line ends only (a copy only when it has others: most texts have none)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@lru_cache(maxsize=4096)  # read by `normalise` and, line by line, by `match_block`
def _quote_code(text: str, lang: str) -> str:
    """A quote without its comments, line endings normalised."""
    return strip_comments(one_newline(text), lang)


def _normal_code(code: str) -> str:
    """Code normalised line by line. One byte translation: faster than regex, `str.translate` or a
    `str.replace` chain here."""
    code = _squash(code)
    return _ELISION.sub("…", code) if "..." in code else code


def _squash(text: str) -> str:
    """No whitespace (but newlines), no `,` or `;`, one kind of quote."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE, _ASCII_DROP).decode("ascii")
    for old, new in _REPLACE_WIDE:
        if old in text:
            text = text.replace(old, new)
    return text.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE, _ASCII_DROP).decode("utf-8", "surrogatepass")


@lru_cache(maxsize=4096)  # a quote is normalised by several rules
def normalise(text: str, lang: str = "", every: bool = False) -> tuple[tuple[str, int, bool], ...]:
    """(normalised line, 0-based source line, held an elision marker) for each line that carries
    evidence; with `every`, also the punctuation-only ones (not the empty ones). A line that held an
    elision keeps one `…` marker and is then matched by its parts."""
    return tuple((line, i, "…" in line) for i, line in enumerate(_normal_code(_quote_code(text, lang)).split("\n"))
                 if line and (every or counts(line)))


def normal_lines(path: str, text: str) -> list[str]:
    """One normalised line per line of a haystack file. Comments are kept here (stripping them costs
    more than the rest of the normalisation): a quote line is found in a commented haystack line as
    a part of it, and full-line comments are gaps."""
    return _normal_text(text, "text").split("\n")


def counts(norm: str) -> bool:
    """Whether a normalised line is evidence on its own (not `});`, `else`, `...`)."""
    return bool(_INFORMATIVE.search(norm)) and norm not in _FILLER


def json_compact(text: str) -> str | None:
    """A JSON quote re-serialised and normalised like the haystack, so any layout compares equal."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        dumped = json.dumps(json.loads(stripped), separators=("", ":"), ensure_ascii=False)
    except ValueError:
        return None
    return _squash(dumped)


@dataclass
class Match:
    """How much of a quote a haystack holds, and where the closest match is."""

    score: float  # share of the quote's lines found in order (1.0 for an exact inline match)
    found: int  # lines (or tokens) found
    total: int  # lines (or tokens) of the quote that count
    path: str | None = None  # where the matched chain starts
    line: int | None = None  # 1-based
    end_line: int | None = None

    def where(self) -> str:
        if self.path is None:
            return "nowhere"
        span = f"{self.line}-{self.end_line}" if self.end_line and self.end_line != self.line else f"{self.line}"
        return f"{self.path}:{span}"

    def describe(self, unit: str = "lines") -> str:
        """`lib/tap-stack.ts:42-50 (68% of lines)` or `nowhere`."""
        if self.path is None or self.found == 0:
            return "no line found anywhere"
        return f"{self.where()} ({round(100 * self.score)}% of {unit})"


class Haystack:
    """Files of a task, normalised and indexed once: one normalised line per source line."""

    def __init__(self, files: list[tuple[str, str]] | None = None,
                 parts: list[tuple[str, int, list[str]]] | None = None):
        """From files (path, text), or from already normalised parts (path, first line, lines)."""
        if files is not None:
            parts = [(path, 1, normal_lines(path, text)) for path, text in files]
        self.parts = parts or []
        self.starts: list[int] = []  # position of each part's first line
        lines: list[str] = []
        for _, _, part in self.parts:
            self.starts.append(len(lines))
            lines.extend(part)
        self.lines = lines
        self.flat = "".join(lines)
        # Answers of `positions`: several rules look up the same quoted lines (read-only lists).
        self._found: dict[tuple[str, bool, int, str], list[int]] = {}

    # The indices are built on first use: a quote found whole in `flat` needs none of the dicts.
    @cached_property
    def _last(self) -> dict[str, int]:
        """The last position of each line (with `_first`, built by C-level calls; the rare repeated
        lines are enumerated on demand)."""
        return dict(zip(self.lines, range(len(self.lines))))

    @cached_property
    def _first(self) -> dict[str, int]:
        return dict(zip(reversed(self.lines), range(len(self.lines) - 1, -1, -1)))

    @cached_property
    def offsets(self) -> list[int]:
        """Start of each line in `flat`."""
        return list(accumulate(map(len, self.lines), initial=0))

    def window(self, path: str, first: int, last: int) -> "Haystack":
        """The part of this haystack from `path` lines `first`..`last` (1-based, inclusive)."""
        for p, start_line, part in self.parts:
            if p == path:
                lo = max(first, start_line)
                return Haystack(parts=[(p, lo, part[lo - start_line:last - start_line + 1])])
        return Haystack(parts=[])

    def __bool__(self) -> bool:
        return bool(self.flat)

    def positions(self, norm: str, elided: bool, limit: int = 40, raw: str = "") -> list[int]:
        """Positions of one quoted line: exact, else as part of a line or across wrapped lines, else
        by its names close together (`raw`: the line before normalising, whose names are not run
        together)."""
        key = (norm, elided, limit, raw)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._positions(norm, elided, limit, raw)
        return found

    def _positions(self, norm: str, elided: bool, limit: int, raw: str) -> list[int]:
        first = self._first.get(norm)
        if first is not None:
            if self._last[norm] == first:
                return [first]
            out, k = [first], first
            while len(out) < limit and k < self._last[norm]:
                k = self.lines.index(norm, k + 1)
                out.append(k)
            return out
        if elided:
            return self._parts(norm) or self._tokens_near(raw)
        if len(norm) < 8:
            return []
        return self._substring(norm, limit) or self._tokens_near(raw)

    def _tokens_near(self, raw: str, span: int = 300) -> list[int]:
        """A line condensed or with its keys reordered (`vpc = Vpc(self, f"vpc", tags={...})` for five
        lines of code): every name and literal of it close together. Lines with fewer than three names
        are not matched this way: too little to go on."""
        tokens = sorted(set(_TOKEN.findall(raw)), key=lambda t: (-len(t), t))  # ties broken by text: stable across runs
        if len(tokens) < 3 or sum(map(len, tokens)) < 12:
            return []
        out = []
        for k in self._offsets_of(tokens[0], 20):
            near = self.flat[max(0, k - span):k + span]
            if all(t in near for t in tokens[1:]):
                out.append(self._line_at(k))
        return out

    def _offsets_of(self, needle: str, limit: int) -> list[int]:
        out, start = [], 0
        while len(out) < limit:
            k = self.flat.find(needle, start)
            if k < 0:
                break
            out.append(k)
            start = k + 1
        return out

    def _line_at(self, k: int) -> int:
        return bisect.bisect_right(self.offsets, k) - 1

    def _substring(self, needle: str, limit: int) -> list[int]:
        return [self._line_at(k) for k in self._offsets_of(needle, limit)]

    def _parts(self, norm: str) -> list[int]:
        """A line that held an elision (`new Bucket(this, 'B', { ... })`): its parts in order, close together."""
        parts = [p for p in norm.split("…") if len(p) >= 3]
        if not parts:
            return []
        out = []
        for first in self._substring(parts[0], 20):
            k = self.offsets[first]
            ok = True
            for part in parts[1:]:
                nxt = self.flat.find(part, k, k + 400 + len(part))
                if nxt < 0:
                    ok = False
                    break
                k = nxt + len(part)
            if ok:
                out.append(first)
        return out

    def location(self, pos: int) -> tuple[str, int]:
        """(path, 1-based line) of a position."""
        i = bisect.bisect_right(self.starts, pos) - 1
        path, first_line, _ = self.parts[i]
        return path, first_line + pos - self.starts[i]


def match_block(text: str, lang: str, hay: Haystack) -> Match:
    """Share of a quoted block's lines found in `hay` in order, and where the best chain lies."""
    qlines = normalise(text, lang)
    total = len(qlines)
    if total == 0 or not hay:
        return Match(0.0, 0, total)
    whole = _contiguous(text, lang, qlines, hay)
    if whole is not None:
        return whole
    raw = _quote_code(text, lang).split("\n")
    cands = [hay.positions(norm, elided, raw=raw[i] if i < len(raw) else "") for norm, i, elided in qlines]
    _join_wrapped(qlines, cands, hay)
    chain = _longest_chain(cands)
    if not chain:
        return Match(0.0, 0, total)
    path, line = hay.location(chain[0])
    end_path, end_line = hay.location(chain[-1])
    return Match(len(chain) / total, len(chain), total, path, line, end_line if end_path == path else line)


def _contiguous(text: str, lang: str, qlines, hay: Haystack) -> Match | None:
    """The whole quote as one run of the haystack (any wrapping; JSON in any layout)."""
    compact = json_compact(text) if lang in ("json", "", "jsonc") else None
    needle = compact if compact is not None else "".join(q for q, _, _ in normalise(text, lang, every=True))
    if "…" in needle or len(needle) < 8:
        return None
    k = hay.flat.find(needle)
    if k < 0:
        return None
    first, last = hay._line_at(k), hay._line_at(k + len(needle) - 1)
    path, line = hay.location(first)
    end_path, end_line = hay.location(last)
    return Match(1.0, len(qlines), len(qlines), path, line, end_line if end_path == path else line)


def _join_wrapped(qlines, cands: list[list[int]], hay: Haystack) -> None:
    """A long line wrapped over two or three lines of the quote: found joined, it counts for each part."""
    for i in range(len(qlines) - 1):
        if cands[i]:
            continue
        joined = qlines[i][0]
        for j in range(i + 1, min(i + 3, len(qlines))):
            joined += qlines[j][0]
            pos = hay.positions(joined, False, 5)
            if pos:
                for k in range(i, j + 1):
                    cands[k] = cands[k] or pos
                break


def _longest_chain(cands: list[list[int]]) -> list[int]:
    """The longest sequence of positions, one per quoted line at most, non-decreasing (LIS); two
    quoted lines may share a position when the quote wrapped a long line."""
    tails: list[int] = []  # tails[k]: smallest last position of a chain of length k+1
    tail_ids: list[int] = []
    prev: list[int] = []
    items: list[int] = []
    for pos_list in cands:
        updates = []
        for pos in sorted(set(pos_list)):
            k = bisect.bisect_right(tails, pos)  # equal positions chain: a wrapped line
            updates.append((k, pos, tail_ids[k - 1] if k else -1))
        # Apply after computing, so two positions of one quoted line never chain with each other.
        for k, pos, parent in updates:
            items.append(pos)
            prev.append(parent)
            if k == len(tails):
                tails.append(pos)
                tail_ids.append(len(items) - 1)
            elif pos < tails[k]:
                tails[k] = pos
                tail_ids[k] = len(items) - 1
    if not tails:
        return []
    out, node = [], tail_ids[-1]
    while node >= 0:
        out.append(items[node])
        node = prev[node]
    return out[::-1]


def code_tokens(text: str) -> list[str]:
    """Identifiers, names and numbers of short code (`noncurrentDays`, `aws-cdk-lib`, `30`)."""
    return _TOKEN.findall(text)


def match_inline(text: str, hay: Haystack) -> Match:
    """Short code: found whole after normalisation (score 1), else the share of its identifiers and
    literals present in the haystack."""
    lines = normalise(text, "")
    norm = "".join(line for line, _, _ in lines) or _squash(text)
    if not norm or not hay:
        return Match(0.0, 0, 1)
    k = hay.flat.find(norm)
    if k >= 0:
        path, line = hay.location(hay._line_at(k))
        return Match(1.0, 1, 1, path, line, line)
    tokens = code_tokens(text)
    if not tokens:
        return Match(0.0, 0, 1)
    present = [t for t in tokens if t in hay.flat]  # a lenient test: it can only make rules quieter
    where = None
    rare = max(present, key=len, default=None)
    if rare:
        pos = hay._substring(rare, 1)
        where = hay.location(pos[0]) if pos else None
    score = len(present) / len(tokens)
    if where:
        return Match(score, len(present), len(tokens), where[0], where[1], where[1])
    return Match(score, len(present), len(tokens))
