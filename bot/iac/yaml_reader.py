"""CloudFormation YAML read straight into `V` values, without a syntax tree.

`yaml_values` builds the value tree `YamlConverter` makes of tree-sitter-yaml's parse (same kinds, lines,
texts, keys, flags, the same keys left out) line by line: block mappings and sequences by their
indentation, a whole `Key: value` line in one regular expression, and a small parser for flow
collections (`[a, b]`, `{ Key: x }`, over several lines too). Scalars are typed, folded and unescaped by
the converter's own helpers.

The lines it gives follow tree-sitter's nodes: a block collection ends on the last non-blank line
(comments count) before the line that closes it, or at the end of the text; an empty `Key:` ends on
the line its mapping starts; a multi-line scalar ends on its last line.

It answers None whenever it is not sure, and the caller then parses with tree-sitter: tabs, carriage
returns and other control characters, anchors and aliases, directives and several documents, complex
keys, tags other than `!Name` and `!!str`, two tags on one node, block scalar headers with an
indentation digit or `+`, indentation or escapes tree-sitter would have to recover from, multi-line
plain scalars in flow collections, deep nesting, texts of more than 2**15 rows. On the corpus's
YAML (10.5 MB) it is twice as fast as parsing and converting, and gives up on 5% of the bytes, half of
them text tree-sitter rejects.
"""

from __future__ import annotations

import re

from bot.iac.convert import (MAX_DEPTH, SKIP_KEYS, _BOOL, _NULL, _SHORT_TAGS, _block_scalar, _fold,
                             yaml_double_quoted_text, yaml_plain_value)
from bot.iac.values import ARR, BOOL, COND, NULL, NUM, OBJ, STR, V

# Nesting the reader follows: a level is at most three of the converter's depth steps (node, content,
# tag), so the trees it builds stay well inside MAX_DEPTH; deeper text is left to tree-sitter.
_MAX_NESTING = MAX_DEPTH // 6
# tree-sitter-yaml fails on rows past 2**15 (its scanner keeps rows in 16 bits): longer texts are left to it,
# so that both paths agree.
_MAX_ROWS = 2 ** 15

# Characters whose handling the reader does not replicate (tabs and other control characters, YAML 1.1
# line breaks, a byte order mark but at the start): the whole text is left to tree-sitter.
_ODD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]")
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?= |$)", re.M)
_DOC_START = re.compile(r"---(?: +(?:#.*)?)?$")  # `---` alone on its line, maybe with a comment

# A plain scalar in block context (one line): it starts with no indicator (`-`, `?` and `:` followed by a
# non-blank are text), spaces inside are followed by neither `#` (a comment) nor `: `, and it holds no `: `.
_PLAIN_BLOCK = (r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=\S))"
                r"[^\s:]*+(?:(?::(?=\S)| +(?=[^\s#:]|:\S))[^\s:]*+)*+")
_DQ_LINE = r'"[^"\\]*(?:\\.[^"\\]*)*"'  # a double-quoted scalar ending on its line
_SQ_LINE = r"'[^']*(?:''[^']*)*'"
_KEY = r"(?:(?P<key>" + _PLAIN_BLOCK + r")|(?P<dkey>" + _DQ_LINE + r")|(?P<skey>" + _SQ_LINE + r")):(?= |$)"
_TAG = r"!!str|![A-Za-z][A-Za-z0-9]*"
_TAIL = r" *(?:(?<= )#.*)?$"  # the rest of a line after a value: blanks and a comment
# A value that ends on its line: a plain or quoted scalar, maybe after a tag.
_ONE_LINE = (r"(?:(?P<tag>" + _TAG + r") +)?(?:(?P<plain>" + _PLAIN_BLOCK + r")|(?P<dq>" + _DQ_LINE + r")|(?P<sq>"
             + _SQ_LINE + r"))(?=" + _TAIL + ")")
# A mapping entry: its key and, when it is of that shape, its one-line value (absent for a value on
# the next rows, or of another shape).
_PAIR = re.compile(_KEY + r"(?P<after>)(?: +" + _ONE_LINE + ")?")
_P_KEY, _P_DKEY, _P_SKEY, _P_AFTER, _P_TAG, _P_PLAIN, _P_DQ = (
    _PAIR.groupindex[g] for g in ("key", "dkey", "skey", "after", "tag", "plain", "dq"))
_ITEM = re.compile("- +" + _ONE_LINE)  # a sequence item holding a one-line value
_I_TAG, _I_PLAIN, _I_DQ = (_ITEM.groupindex[g] for g in ("tag", "plain", "dq"))
_PLAIN_LINE = re.compile("(" + _PLAIN_BLOCK + r") *(#.*)?$")
# A line that may continue a multi-line plain scalar: no indicator first, no `: `, no comment.
_PLAIN_MORE = re.compile(_PLAIN_BLOCK + " *$")
_TAIL_RX = re.compile(_TAIL)
_TAG_RX = re.compile("(" + _TAG + r")(?= |$) *")
_HEADER = re.compile(r"[|>]-?" + _TAIL)  # a block scalar's header: no indentation digit, no `+`
# Text of a double-quoted scalar up to its end or its line's end; of a single-quoted one.
_DQ_PART = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*')
_SQ_PART = re.compile(r"[^']*(?:''[^']*)*")
_ESCAPES = re.compile(r'\\(?:[0abtnvfre "/\\N_]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|$)', re.M)

# Flow collections: a plain scalar there also stops at `,[]{}`.
_FLOW_CHAR = r"[^\s,\[\]{}:]|:(?=[^\s,\[\]{}])"
_PLAIN_FLOW = re.compile(r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=[^\s,\[\]{}]))(?:" + _FLOW_CHAR
                         + r"| +(?=[^\s,\[\]{}:#]|:[^\s,\[\]{}]))*")
_SPACES = re.compile(" *")


_SKIPPED = 1 << 8  # a flag of values under a key the converter leaves out: never in a built value


class _Unsure(Exception):
    """The text is not something the reader fully understands: tree-sitter decides."""


def yaml_values(text: str, offset: int = 0) -> V | None:
    """The value tree `convert(langs.parse(text, "yaml"), "yaml", offset)` gives, or None when unsure."""
    if text.startswith("\ufeff"):  # a byte order mark, which tree-sitter skips
        text = text[1:]
    if _ODD_CHARS.search(text):
        return None
    try:
        return _Reader(text, offset).document()
    except (_Unsure, RecursionError):
        return None


def _quoted_value(raw: str, line: int, end: int, flags: int) -> V:
    if raw[0] == '"':
        inner = raw[1:-1]
        if "\\" in inner and "\\" in _ESCAPES.sub("", inner):  # an escape tree-sitter rejects
            raise _Unsure
        return V(STR, line, end, yaml_double_quoted_text(inner), (), "", flags)
    return V(STR, line, end, _fold(raw[1:-1]).replace("''", "'"), (), "", flags)


def _tagged(tag: str, inner: V, line: int, flags: int) -> V:
    """The value of a tagged node whose content is `inner`, on `line`, as YamlConverter maps the tag."""
    if tag == "!!str":
        if inner.kind in (NUM, BOOL, NULL):
            return V(STR, inner.line, inner.end, inner.text, (), "", flags)
        return inner
    name = tag[1:]
    if name == "GetAtt" and inner.kind == STR:
        first, _, rest = inner.text.partition(".")
        inner = V(ARR, inner.line, inner.end, "", [V(STR, line, line, first), V(STR, line, line, rest)])
    return V(OBJ, line, inner.end, "", [(_SHORT_TAGS.get(name) or "Fn::" + name, inner)], "", flags)


def _one_line(m: re.Match, k: int, plain: int, tag: int, line: int, flags: int) -> V:
    """The value `_ONE_LINE` matched in `m` (`k`: the group of its scalar; `plain`, `tag`: the groups'
    numbers in that expression)."""
    raw = m.group(k)
    t = m.group(tag)
    inner_flags = flags | COND if t == "!If" else flags
    value = yaml_plain_value(raw, line, line, inner_flags) if k == plain else _quoted_value(raw, line, line, inner_flags)
    return value if t is None else _tagged(t, value, line, flags)


def _is_item(line: str, col: int) -> bool:
    """Whether a block sequence item (`-` then a blank or the line's end) starts at `col`."""
    return line.startswith("-", col) and (len(line) == col + 1 or line[col + 1] == " ")


class _Reader:
    """One text, read once from the start, by rows (lines counted from 0). After each node, `row` is
    the first row after it holding content (the number of rows at the end of the text) and `indent`
    that row's indentation (-1 at the end)."""

    def __init__(self, text: str, offset: int):
        self.text = text
        self.lines = text.split("\n")
        self.base = offset + 1  # added to a row: its line
        self.row = 0
        self.indent = 0
        self.parent = -1  # in a flow collection: the indentation of the block node holding it
        self.low_row = -1  # in a flow collection: the row of a closing bracket at that indentation

    def advance(self, i: int) -> None:
        """`row` and `indent` to the first row from `i` on that holds content (not blank, not only a comment)."""
        lines = self.lines
        n = len(lines)
        while i < n:
            s = lines[i]
            st = s.lstrip(" ")
            if st and st[0] != "#":
                self.row, self.indent = i, len(s) - len(st)
                return
            i += 1
        self.row, self.indent = n, -1

    def end_before(self, i: int) -> int:
        """The end row of a collection that row `i` closes: the last non-blank row before it (comments
        count), or the last row at the end of the text."""
        lines = self.lines
        if i == len(lines):
            return i - 1
        i -= 1
        while not lines[i].strip(" "):
            i -= 1
        return i

    def document(self) -> V | None:
        lines = self.lines
        if len(lines) > _MAX_ROWS:
            raise _Unsure
        self.advance(0)
        i = self.row
        if i == len(lines):
            return None
        if lines[i].startswith("%"):  # a directive
            raise _Unsure
        text = self.text
        # (`in` first: scanning for `^---` with the regular expression costs five times more)
        markers = ("\n---" in text or "\n..." in text or text.startswith(("---", "..."))) and _DOC_MARKER.findall(text)
        if markers:
            if len(markers) > 1 or not _DOC_START.match(lines[i]):
                raise _Unsure
            self.advance(i + 1)
            i = self.row
            if i == len(lines):
                return None
        value = self.node(i, self.indent, -1, 0, 0, True)
        if self.row < len(lines):  # text after the root value
            raise _Unsure
        return value

    # ------------------------------------------------------------ block nodes

    def node(self, i: int, col: int, parent: int, flags: int, depth: int, line_start: bool) -> V:
        """The node whose text starts on row `i` at `col`; rows it continues on are indented deeper than
        `parent`. A mapping or a sequence may start there only at the start of a line (after `- ` too)."""
        if depth > _MAX_NESTING:
            raise _Unsure
        line = self.lines[i]
        c = line[col]
        if line_start:
            if c == "-" and _is_item(line, col):
                return self.sequence(i, col, flags, depth)
            m = _PAIR.match(line, col)
            if m is not None:
                return self.mapping(i, col, m, flags, depth)
        if c == "!":
            return self.tagged(i, col, parent, flags, depth, line_start)
        if c == "|" or c == ">":
            return self.block_scalar(i, col, parent, flags)
        if c == '"' or c == "'":
            raw, end, end_col = self.quoted(i, col, parent)
            if not _TAIL_RX.match(self.lines[end], end_col):
                raise _Unsure
            self.advance(end + 1)
            return _quoted_value(raw, i + self.base, end + self.base, flags)
        if c == "[" or c == "{":
            return self.flow_in_block(i, col, parent, flags, depth)
        return self.plain(i, col, parent, flags)

    def mapping(self, i: int, col: int, m: re.Match, flags: int, depth: int) -> V:
        """A block mapping whose first entry, `m`, is on row `i` at `col`, the others at the start of a
        line indented `col`. Under a key the converter leaves out (flag _SKIPPED), values are read but
        not built."""
        if depth > _MAX_NESTING:
            raise _Unsure
        lines, base, match = self.lines, self.base, _PAIR.match
        n = len(lines)
        start = i
        items = []
        skip_keys, p_plain = SKIP_KEYS, _P_PLAIN  # (locals: looked up on every row)
        while True:
            key = m.group(_P_KEY)
            if key is None:
                key = _quoted_value(m.group(_P_DKEY) or m.group(_P_SKEY), 0, 0, 0).text
            if key in skip_keys:
                vflags = flags | _SKIPPED
            elif key == "Fn::If":
                vflags = flags | COND
            else:
                vflags = flags
            k = m.lastindex
            if k >= p_plain:  # a one-line value, unless the next row goes on with it
                j = i + 1
                s = lines[j] if j < n else "#"
                st = s.lstrip(" ")
                if st and st[0] != "#":  # (most often the next row holds content)
                    ind = len(s) - len(st)
                else:
                    self.advance(j)
                    j, ind = self.row, self.indent
                if ind > col:  # a multi-line plain scalar (or text tree-sitter rejects): read again
                    value = self.node(i, _SPACES.match(lines[i], m.end(_P_AFTER)).end(), col, vflags, depth + 1, False)
                    j, ind = self.row, self.indent
                elif vflags & _SKIPPED:
                    if k == _P_DQ:
                        _quoted_value(m.group(k), 0, 0, 0)  # checked for escapes tree-sitter rejects
                elif k == p_plain and m.group(_P_TAG) is None:  # the most common value: inlined
                    raw = m.group(k)
                    line_no = i + base
                    if raw in _NULL or raw in _BOOL or raw[0] in "0123456789+-.":
                        value = yaml_plain_value(raw, line_no, line_no, vflags)
                    else:
                        value = V(STR, line_no, line_no, raw, (), "", vflags)
                else:
                    value = _one_line(m, k, _P_PLAIN, _P_TAG, i + base, vflags)
            elif not _TAIL_RX.match(lines[i], m.end()):  # a value of another shape on the row
                value = self.node(i, _SPACES.match(lines[i], m.end()).end(), col, vflags, depth + 1, False)
                j, ind = self.row, self.indent
            else:  # nothing after `:`: the value is on the next rows
                self.advance(i + 1)
                j, ind = self.row, self.indent
                if ind > col:
                    s = lines[j]
                    m = match(s, ind) if s[ind] != "-" else None
                    if m is not None:  # (the most common: a mapping)
                        value = self.mapping(j, ind, m, vflags, depth + 1)
                    else:
                        value = self.node(j, ind, col, vflags, depth + 1, True)
                    j, ind = self.row, self.indent
                elif ind == col and _is_item(lines[j], col):  # a sequence as deep as the key
                    value = self.sequence(j, col, vflags, depth + 1)
                    j, ind = self.row, self.indent
                else:
                    value = V(NULL, i + base, start + base, "", (), "", vflags)
            if not vflags & _SKIPPED:
                items.append((key, value))
            if ind != col:
                if ind > col:
                    raise _Unsure
                self.row, self.indent = j, ind
                return V(OBJ, start + base, self.end_before(j) + base, "", items, "", flags)
            i = j
            m = match(lines[i], col)
            if m is None:
                raise _Unsure

    def sequence(self, i: int, col: int, flags: int, depth: int) -> V:
        """A block sequence whose items start with `-` at `col`, the first on row `i`."""
        if depth > _MAX_NESTING:
            raise _Unsure
        lines, base, match = self.lines, self.base, _ITEM.match
        start = i
        items = []
        while True:
            line = lines[i]
            m = match(line, col)
            if m is not None:  # a one-line value, unless the next row goes on with it
                self.advance(i + 1)
                if self.indent > col:  # a multi-line plain scalar (or text tree-sitter rejects): read again
                    items.append(self.node(i, _SPACES.match(line, col + 1).end(), col, flags, depth + 1, False))
                elif not flags & _SKIPPED or m.lastindex == _I_DQ:
                    items.append(_one_line(m, m.lastindex, _I_PLAIN, _I_TAG, i + base, flags))
            else:
                p = _SPACES.match(line, col + 1).end()
                if p < len(line) and line[p] != "#":
                    items.append(self.node(i, p, col, flags, depth + 1, True))
                else:  # nothing after `-`: the item is on the next rows
                    self.advance(i + 1)
                    if self.indent > col:
                        items.append(self.node(self.row, self.indent, col, flags, depth + 1, True))
                    else:
                        items.append(V(NULL, start + base, start + base, "", (), "", flags))
            j, ind = self.row, self.indent
            if ind == col and _is_item(lines[j], col):
                i = j
                continue
            if ind > col:
                raise _Unsure
            # a row indented less, or a key of the mapping this sequence is the value of
            return V(ARR, start + base, self.end_before(j) + base, "", items, "", flags)

    def tagged(self, i: int, col: int, parent: int, flags: int, depth: int, line_start: bool) -> V:
        """A tagged node; its content may be a sequence as deep as `parent` only if it is a mapping's
        value on its key's row (after a sequence item's tag, that is the next item)."""
        line = self.lines[i]
        m = _TAG_RX.match(line, col)
        if m is None:
            raise _Unsure
        tag = m.group(1)
        inner_flags = flags | COND if tag == "!If" else flags
        p = m.end()
        if p < len(line) and line[p] != "#":
            if line[p] == "!":  # two tags on one node
                raise _Unsure
            inner = self.node(i, p, parent, inner_flags, depth + 1, False)
        else:  # the content is on the next rows
            self.advance(i + 1)
            j, ind = self.row, self.indent
            if ind < 0 or self.lines[j][ind] == "!":
                raise _Unsure
            if ind > parent:
                inner = self.node(j, ind, parent, inner_flags, depth + 1, True)
            elif ind == parent and not line_start and _is_item(self.lines[j], parent):
                inner = self.sequence(j, parent, inner_flags, depth + 1)
            else:  # a tag without content
                raise _Unsure
        return _tagged(tag, inner, i + self.base, flags)

    def plain(self, i: int, col: int, parent: int, flags: int) -> V:
        """A plain scalar, continued on the next rows indented deeper than `parent` (blank rows between)."""
        lines = self.lines
        m = _PLAIN_LINE.match(lines[i], col)
        if m is None:
            raise _Unsure
        raw = m.group(1)
        last = i
        if m.group(2) is None:  # a comment ends the scalar
            k = i + 1
            n = len(lines)
            while k < n:
                s = lines[k]
                st = s.lstrip(" ")
                if st:
                    if len(s) - len(st) <= parent or st[0] == "#":
                        break
                    if not _PLAIN_MORE.match(st):
                        raise _Unsure
                    last = k
                k += 1
        self.advance(last + 1)
        if last > i:
            raw = _fold("\n".join([raw] + lines[i + 1:last + 1]).rstrip(" "))
        return yaml_plain_value(raw, i + self.base, last + self.base, flags)

    def block_scalar(self, i: int, col: int, parent: int, flags: int) -> V:
        """A literal or folded block scalar: its rows are blank or indented as deep as its first
        non-blank one, which is deeper than `parent`."""
        lines = self.lines
        if not _HEADER.match(lines[i], col):
            raise _Unsure
        n = len(lines)
        k = i + 1
        blank = 0  # the most spaces on a blank row before the first non-blank one
        while k < n and not lines[k].strip(" "):
            blank = max(blank, len(lines[k]))
            k += 1
        if k == n:
            raise _Unsure
        s = lines[k]
        indent = len(s) - len(s.lstrip(" "))
        if indent <= parent or blank > indent:  # an empty block scalar, or blank rows tree-sitter reads otherwise
            raise _Unsure
        comment = lines[i].find("#", col)
        if 0 <= comment <= indent:  # tree-sitter rejects rows indented past a comment on the header
            raise _Unsure
        last = k
        prefix = " " * indent
        for k in range(k + 1, n):
            s = lines[k]
            if s.startswith(prefix):
                if s.strip(" "):
                    last = k
            elif s.strip(" "):
                if len(s) - len(s.lstrip(" ")) > parent:  # less indented than the scalar, more than its parent
                    raise _Unsure
                break
        else:  # the scalar runs to the end of the text, blank rows and trailing blanks included
            self.row, self.indent = n, -1
            raw = "\n".join([lines[i][col:]] + lines[i + 1:])
            return V(STR, i + self.base, n - 1 + self.base, _block_scalar(raw), (), "", flags)
        self.advance(last + 1)
        raw = "\n".join([lines[i][col:]] + lines[i + 1:last + 1]).rstrip(" ")
        return V(STR, i + self.base, last + self.base, _block_scalar(raw), (), "", flags)

    def quoted(self, i: int, col: int, parent: int) -> tuple[str, int, int]:
        """A quoted scalar from its quote on row `i` at `col`: its text, quotes included, and the row and
        column after its closing quote. Rows it continues on are indented deeper than `parent`."""
        lines = self.lines
        line = lines[i]
        q = line[col]
        part = _DQ_PART if q == '"' else _SQ_PART
        pieces = []
        start = col
        pos = col + 1
        while True:
            e = part.match(line, pos).end()  # at the closing quote, the line's end or an escaped line break
            if e < len(line) and line[e] == q:
                pieces.append(line[start:e + 1])
                return "\n".join(pieces), i, e + 1
            pieces.append(line[start:])
            i += 1
            if i >= len(lines):
                raise _Unsure
            line = lines[i]
            st = line.lstrip(" ")
            if st and len(line) - len(st) <= parent:
                raise _Unsure
            start = pos = 0

    # ------------------------------------------------------------ flow collections

    def flow_in_block(self, i: int, col: int, parent: int, flags: int, depth: int) -> V:
        """A flow collection in a block node: rows it continues on are indented deeper than `parent`, but
        for its closing bracket, which may be as deep."""
        self.parent, self.low_row = parent, -1
        value, row, pos = self.flow(i, col, flags, depth)
        if self.low_row >= 0 and self.low_row != row:
            raise _Unsure
        if not _TAIL_RX.match(self.lines[row], pos):
            raise _Unsure
        self.advance(row + 1)
        return value

    def skip(self, i: int, pos: int) -> tuple[int, int]:
        """The row and column of the next token from `pos` on row `i`: blanks, line breaks and comments skipped."""
        lines = self.lines
        line = lines[i]
        while True:
            pos = _SPACES.match(line, pos).end()
            if pos < len(line):
                if line[pos] != "#":
                    return i, pos
                if pos and line[pos - 1] != " ":
                    raise _Unsure
            i += 1
            if i >= len(lines):
                raise _Unsure
            line = lines[i]
            st = line.lstrip(" ")
            if st:
                ind = len(line) - len(st)
                if ind <= self.parent:
                    if ind < self.parent or st[0] not in "]}" or self.low_row >= 0:
                        raise _Unsure
                    self.low_row = i
            pos = 0

    def flow(self, i: int, col: int, flags: int, depth: int) -> tuple[V, int, int]:
        """A flow node at row `i`, `col`: its value and the row and column after it."""
        if depth > _MAX_NESTING:
            raise _Unsure
        line = self.lines[i]
        c = line[col]
        line_no = i + self.base
        if c == "[":
            return self.flow_sequence(i, col, flags, depth)
        if c == "{":
            return self.flow_mapping(i, col, flags, depth)
        if c == '"' or c == "'":
            raw, end, end_col = self.quoted(i, col, self.parent)
            return _quoted_value(raw, line_no, end + self.base, flags), end, end_col
        if c == "!":
            m = _TAG_RX.match(line, col)
            if m is None or m.end() >= len(line) or line[m.end()] in ",]}#!":
                raise _Unsure
            tag = m.group(1)
            inner, row, pos = self.flow(i, m.end(), flags | COND if tag == "!If" else flags, depth + 1)
            return _tagged(tag, inner, line_no, flags), row, pos
        m = _PLAIN_FLOW.match(line, col)
        if m is None:
            raise _Unsure
        return yaml_plain_value(m.group(), line_no, line_no, flags), i, m.end()

    def after_item(self, i: int, pos: int, close: str) -> tuple[int, int, bool]:
        """After a flow item: the row and column of the next item, or of the closing bracket (then True)."""
        i, pos = self.skip(i, pos)
        c = self.lines[i][pos]
        if c == ",":
            i, pos = self.skip(i, pos + 1)
            return i, pos, self.lines[i][pos] == close
        if c != close:
            raise _Unsure
        return i, pos, True

    def flow_sequence(self, i: int, col: int, flags: int, depth: int) -> tuple[V, int, int]:
        start = i
        items = []
        i, pos = self.skip(i, col + 1)
        closed = self.lines[i][pos] == "]"
        while not closed:
            item, i, pos = self.flow(i, pos, flags, depth + 1)
            items.append(item)
            i, pos, closed = self.after_item(i, pos, "]")
        return V(ARR, start + self.base, i + self.base, "", items, "", flags), i, pos + 1

    def flow_mapping(self, i: int, col: int, flags: int, depth: int) -> tuple[V, int, int]:
        lines = self.lines
        start = i
        items = []
        i, pos = self.skip(i, col + 1)
        closed = lines[i][pos] == "}"
        while not closed:
            line = lines[i]
            c = line[pos]
            if c == '"' or c == "'":
                raw, i, pos = self.quoted(i, pos, self.parent)
                if "\n" in raw:
                    raise _Unsure
                key = _quoted_value(raw, 0, 0, 0).text
                line = lines[i]
            else:
                m = _PLAIN_FLOW.match(line, pos)
                if m is None:
                    raise _Unsure
                key, pos = m.group(), m.end()
                if not line.startswith((": ", ":"), pos) or (pos + 1 < len(line) and line[pos + 1] != " "):
                    raise _Unsure
            if not line.startswith(":", pos):
                raise _Unsure
            i, pos = self.skip(i, pos + 1)
            if lines[i][pos] in ",}":  # an entry without value
                raise _Unsure
            value, i, pos = self.flow(i, pos, flags | COND if key == "Fn::If" else flags, depth + 1)
            if key not in SKIP_KEYS:
                items.append((key, value))
            i, pos, closed = self.after_item(i, pos, "}")
        return V(OBJ, start + self.base, i + self.base, "", items, "", flags), i, pos + 1
