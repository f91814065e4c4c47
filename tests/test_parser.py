"""The report parser on small fixtures modelled on the report shapes of real task PRs."""

from __future__ import annotations

from bot.report import parse_report
from bot.report.model import FIX, MODEL, OUTPUT
from bot.report.parser import clean_title, code_role


def summary(report):
    """(line, end_line, shape, number, severity, severity_source, title) of every entry."""
    return [(e.line, e.end_line, e.shape, e.number, e.severity, e.severity_source, e.title) for e in report.entries]


def lines_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (keeps the fixtures readable)."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


SEVERITY_SECTIONS = """\
# Model Response Failures Analysis

Intro line.

## Critical Failures

### 1. S3 bucket left public

**Impact Level**: Critical

**MODEL_RESPONSE Issue**: the bucket had no public access block (lib/tap-stack.ts:45-50).

```typescript
new s3.Bucket(this, 'Data');
```

**IDEAL_RESPONSE Fix**:

```typescript
new s3.Bucket(this, 'Data', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
```

### Root Cause

The model ignored the prompt (Line 36).

## High Severity Issues

### 2. Log group unencrypted

**Root Cause**: no `kmsKey` was passed.

## Summary

| # | Issue | Severity |
|---|-------|----------|
| 1 | S3 bucket left public | Critical |
| 2 | Log group unencrypted | High |

- Total failures: 1 Critical, 1 High

## Lessons Learned

1. **Always block public access**: buckets are private by default.
2. **Encrypt logs**: use a CMK.
"""


def test_numbered_headings_in_severity_sections():
    r = parse_report(SEVERITY_SECTIONS)
    assert summary(r) == [
        (7, 26, "heading", "1", "Critical", "field", "1. S3 bucket left public"),
        (29, 32, "heading", "2", "High", "section", "2. Log group unencrypted"),
    ]
    first, second = r.entries
    assert first.severity_line == 9
    assert first.section_severity == "Critical"
    assert second.severity_line == lines_of(SEVERITY_SECTIONS, "## High Severity Issues")
    assert first.fields["Impact Level"] == ("Critical", 9)
    assert "MODEL_RESPONSE Issue" in first.fields and "IDEAL_RESPONSE Fix" in first.fields
    # "### Root Cause" is a field of entry 1 (a sub-heading), not an entry of its own.
    assert first.fields["Root Cause"] == ("The model ignored the prompt (Line 36).", 25)


def test_code_roles_and_lines_from_field_labels():
    r = parse_report(SEVERITY_SECTIONS)
    code = r.entries[0].code
    assert [(c.line, c.end_line, c.lang, c.role) for c in code] == [(13, 15, "typescript", MODEL), (19, 21, "typescript", FIX)]
    assert r.lines[code[0].first_code_line - 1] == "new s3.Bucket(this, 'Data');"
    assert [(i.text, i.line) for i in r.entries[1].inline] == [("kmsKey", 31)]


def test_file_refs_with_ranges():
    r = parse_report(SEVERITY_SECTIONS)
    refs = [(f.path, f.start, f.end, f.line) for f in r.entries[0].refs]
    assert refs == [("lib/tap-stack.ts", 45, 50, 11), (None, 36, 36, 25)]


def test_summary_table_and_lessons_are_not_entries_but_give_nothing_twice():
    r = parse_report(SEVERITY_SECTIONS)
    assert len(r.entries) == 2  # not the 2 table rows, not the 2 lessons
    assert all(e.shape == "heading" for e in r.entries)


def test_summary_table_gives_severity_to_the_entry_it_names():
    text = """\
# Failures

### 1. Missing KMS key

The key was not created.

### 2. Wrong runtime

Node 14.

## Summary

| # | Issue | Severity |
|---|-------|----------|
| 1 | Missing KMS key | High |
| 2 | Wrong runtime | Low |
"""
    r = parse_report(text)
    assert summary(r) == [
        (3, 6, "heading", "1", "High", "table", "1. Missing KMS key"),
        (7, 10, "heading", "2", "Low", "table", "2. Wrong runtime"),
    ]
    assert r.entries[0].severity_line == 15


def test_summary_table_overrides_a_section_severity_only_when_it_says_more():
    text = """\
## High Severity Issues

### 1. Missing KMS key

### 2. Wrong runtime

## Summary

| # | Issue | Severity |
|---|-------|----------|
| 1 | Missing KMS key | High |
| 2 | Wrong runtime | Critical |
"""
    r = parse_report(text)
    assert [(e.severity, e.severity_source, e.severity_line, e.section_severity) for e in r.entries] == [
        ("High", "section", 1, "High"), ("Critical", "table", 12, "High")]


def test_lettered_ids_title_tags_and_plain_impact_field():
    text = """\
# Report

## Findings

### A1: [HIGH] Hardcoded account id

Impact: High - breaks other accounts.

### A2: Missing outputs (Medium)

### B1 - Lint errors

Severity: low
"""
    r = parse_report(text)
    assert summary(r) == [
        (5, 8, "heading", "A1", "High", "field", "A1: [HIGH] Hardcoded account id"),
        (9, 10, "heading", "A2", "Medium", "title", "A2: Missing outputs (Medium)"),
        (11, 14, "heading", "B1", "Low", "field", "B1 - Lint errors"),
    ]
    assert r.entries[0].severity_line == 7


def test_impact_prose_is_not_a_severity():
    r = parse_report("## Issues\n\n### 1. No multi-AZ\n\n**Impact**: High availability is lost.\n")
    assert r.entries[0].severity is None


def test_issue_and_failure_words_with_numbers():
    text = """\
# Model Failures

### High Severity Issues

#### Issue 3

Text.

#### Issue 4: Open security group

## Failure 2 - Deploy broke

**Severity**: Critical
"""
    r = parse_report(text)
    assert summary(r) == [
        (5, 8, "heading", "3", "High", "section", "Issue 3"),
        (9, 10, "heading", "4", "High", "section", "Issue 4: Open security group"),
        (11, 14, "heading", "2", "Critical", "field", "Failure 2 - Deploy broke"),
    ]


def test_numbered_container_yields_to_its_numbered_sub_headings():
    text = "## 1. Security\n\n### 1.1 Open bucket\n\n### 1.2 No TLS\n\n## 2. Cost\n\n### 2.1 NAT per AZ\n"
    r = parse_report(text)
    assert [(e.number, e.title) for e in r.entries] == [("1.1", "1.1 Open bucket"), ("1.2", "1.2 No TLS"),
                                                        ("2.1", "2.1 NAT per AZ")]


def test_markup_in_headings_is_removed_from_titles():
    text = "# Fixes\n\n### **1\\. Hardcoded AZs**\n\nBody.\n\n### ## 2. Wrong route tables\n\nBody.\n"
    r = parse_report(text)
    assert [(e.line, e.number, e.title) for e in r.entries] == [(3, "1", "1. Hardcoded AZs"),
                                                                (7, "2", "2. Wrong route tables")]
    assert clean_title("## **Title**:") == "Title"


BOLD_ENTRIES = """\
# Model Failures

## Critical Issues

**1. Missing VPC endpoints**

The model routed S3 traffic through the NAT gateway.

**2. Wrong IAM policy**

- **Severity**: High
- **Category**: B - Moderate

## Other Problems

1. **Outdated runtime**: node 14 was used.
   The fix is `nodejs20.x`.
2. **No log retention** - logs kept forever.

## Recommendations

1. **Enable** versioning on the bucket.
2. **Use tags**: tag everything.
"""


def test_bold_paragraph_and_list_item_entries():
    r = parse_report(BOLD_ENTRIES)
    assert summary(r) == [
        (5, 8, "bold", "1", "Critical", "section", "1. Missing VPC endpoints"),
        (9, 13, "bold", "2", "High", "field", "2. Wrong IAM policy"),
        (16, 17, "bold", "1", None, None, "Outdated runtime"),
        (18, 19, "bold", "2", None, None, "No log retention"),
    ]
    assert r.entries[1].category == "B"
    assert r.entries[1].severity_line == 11
    assert [(i.text, i.line) for i in r.entries[2].inline] == [("nodejs20.x", 17)]


def test_steps_of_a_fix_are_not_entries():
    text = "## Issues\n\n### 1. Bucket\n\nSteps:\n\n1. **Enable** versioning.\n2. **Block** public access.\n"
    r = parse_report(text)
    assert [e.title for e in r.entries] == ["1. Bucket"]


def test_issue_table_rows_when_nothing_else_is_an_entry():
    text = """\
# Model Response Analysis

## Critical Failures

| Issue | Problem | Severity |
|-------|---------|----------|
| **WAF WebACL** | Missing `VisibilityConfig` | High |
| Target Group | No `TargetType` | medium |
| Outputs | None | n/a |
"""
    r = parse_report(text)
    assert summary(r) == [
        (7, 7, "table", None, "High", "field", "WAF WebACL"),
        (8, 8, "table", None, "Medium", "field", "Target Group"),
        (9, 9, "table", None, "Critical", "section", "Outputs"),
    ]
    assert [(i.text, i.line) for i in r.entries[0].inline] == [("VisibilityConfig", 7)]


def test_count_tables_are_not_entries():
    text = "## Failures by Severity\n\n| Severity | Count |\n|---|---|\n| Critical | 2 |\n| High | 1 |\n"
    assert parse_report(text).entries == []


SUBHEADING_FIELDS = """\
# Model Failures

## 🔴 Critical Issues

### Removal policy retains the KMS key

#### Problem

```ts
removalPolicy: RemovalPolicy.RETAIN,
```

#### Fix

```ts
removalPolicy: RemovalPolicy.DESTROY,
```

#### Error Message

```
Resource handler returned message: key pending deletion
```

### Lambda timeout too short

#### Impact

**Low** - retries absorb it.

## Summary

Two issues.
"""


def test_sub_heading_fields_roles_and_emoji_section():
    r = parse_report(SUBHEADING_FIELDS)
    assert summary(r) == [
        (5, 24, "heading", None, "Critical", "section", "Removal policy retains the KMS key"),
        (25, 30, "heading", None, "Low", "field", "Lambda timeout too short"),
    ]
    assert [(c.line, c.role, c.label) for c in r.entries[0].code] == [
        (9, MODEL, "#### Problem"), (15, FIX, "#### Fix"), (21, OUTPUT, "#### Error Message")]
    assert r.entries[1].fields["Impact"] == ("**Low** - retries absorb it.", 29)
    assert r.entries[1].severity_line == 29


def test_prefixed_headings_with_severity_words():
    text = """\
# Infrastructure Changes Required

## VPC Configuration

### Change: Replace deprecated cidr property
- Line 454: use `ipAddresses`

### Critical Change: Fix resource type
- Line 544: wrong type
"""
    r = parse_report(text)
    assert summary(r) == [
        (5, 7, "heading", None, None, None, "Change: Replace deprecated cidr property"),
        (8, 10, "heading", None, "Critical", "title", "Critical Change: Fix resource type"),
    ]
    assert [(f.start, f.line) for f in r.entries[0].refs] == [(454, 6)]


def test_categories_from_fields_and_sections():
    text = """\
# Failures

## Category A - Significant

### 1. No encryption

## Fixes

### 2. Tags missing

**Category**: Category C (Minor)

### 3. Naming

**Category**: Configuration
"""
    r = parse_report(text)
    assert [(e.number, e.category) for e in r.entries] == [("1", "A"), ("2", "C"), ("3", None)]


def test_first_comment_line_of_a_block_gives_its_role():
    text = """\
### 1. Bucket

Code:

```yaml
# MODEL_RESPONSE (wrong)
Bucket: {}
```

```yaml
# Corrected
Bucket: {Versioning: true}
```
"""
    r = parse_report(text)
    assert [(c.role, c.label) for c in r.entries[0].code] == [(MODEL, "# MODEL_RESPONSE (wrong)"), (FIX, "# Corrected")]


def test_code_role_labels():
    assert code_role("**Before (MODEL_RESPONSE)**:") == MODEL
    assert code_role("**IDEAL_RESPONSE Fix**:") == FIX
    assert code_role("**MODEL_RESPONSE Issue**:") == MODEL
    assert code_role("Wrong:") == MODEL
    assert code_role("Incorrect implementation") == MODEL
    assert code_role("Original code") == MODEL
    assert code_role("After:") == FIX
    assert code_role("Correct Implementation") == FIX
    assert code_role("Solution") == FIX
    assert code_role("The problem was fixed as follows:") == FIX  # the label standing last wins
    assert code_role("**Deployment Error**:") == OUTPUT
    assert code_role("Resources") is None


def test_unnumbered_bold_titles_when_no_other_entries():
    text = """\
# Model Failure

- **No VPC creation**: the template assumes existing VPCs.
- **Hardcoded names**: buckets lack unique suffixes.
- **Impact**: everything.
- **Impact**: again.
"""
    r = parse_report(text)
    assert [(e.line, e.shape, e.title) for e in r.entries] == [(3, "bold", "No VPC creation"), (4, "bold", "Hardcoded names")]


def test_entries_led_by_the_same_field():
    text = "# Flaws\n\n**Issue**: require is not defined\n\n**Resolution**: use import\n\n**Issue**: no env\n\n**Resolution**: add env\n"
    r = parse_report(text)
    assert [(e.line, e.end_line, e.title) for e in r.entries] == [(3, 6, "require is not defined"), (7, 10, "no env")]


def test_plain_numbered_list_entries():
    text = "1. Insecure S3 bucket\n\nThe bucket is public.\n\n2. Hardcoded region\n\nus-east-1 in Lambda.\n"
    r = parse_report(text)
    assert [(e.line, e.end_line, e.shape, e.number, e.title) for e in r.entries] == [
        (1, 4, "list", "1", "Insecure S3 bucket"), (5, 8, "list", "2", "Hardcoded region")]


def test_praise_and_zero_sections_are_not_entries():
    text = """\
# Model Failures

## Critical Failures

### 1. Real failure

## What the Model Did Well

### 1. Good naming

### [PASS] Zero High Priority Failures

## Operational Impact

### 1. Recap of the real failure
"""
    r = parse_report(text)
    assert [e.title for e in r.entries] == ["1. Real failure"]


def test_heading_tree_and_line_ranges():
    text = "# T\n\n## A\n\n### A1\n\ntext\n\n## B\n"
    r = parse_report(text)
    assert [(h.level, h.text, h.line, h.end_line) for h in r.headings] == [
        (1, "T", 1, 10), (2, "A", 3, 8), (3, "A1", 5, 8), (2, "B", 9, 10)]
    assert r.headings[2].parent is r.headings[1]
    assert r.section_of(7) is r.headings[2]


def test_inline_code_spans_follow_commonmark():
    # A run of backticks with no partner of the same length is literal text.
    text = "Use ``a ` b`` and `c`, not ```unclosed.\nNext `d` line.\n"
    r = parse_report(text)
    assert [(i.text, i.line) for i in r.inline_code] == [("a ` b", 1), ("c", 1), ("d", 2)]


def test_crlf_and_nul_keep_line_numbers():
    r = parse_report("# T\r\n\r\n### 1. A\x00b\r\n\r\n**Severity**: High\r\n")
    assert summary(r) == [(3, 6, "heading", "1", "High", "field", "1. A\ufffdb")]


def test_failure_section_sub_headings_are_entries_but_review_sections_are_not():
    text = """\
# Model Failures

## Critical Infrastructure Issues

### Removal policy left as RETAIN

The key survives the stack.

### Overall Assessment

Fine otherwise.

### Lambda@Edge in the wrong region

Text.
"""
    r = parse_report(text)
    assert [(e.line, e.end_line, e.number, e.severity, e.severity_source, e.title) for e in r.entries] == [
        (5, 8, None, "Critical", "section", "Removal policy left as RETAIN"),
        (13, 16, None, "Critical", "section", "Lambda@Edge in the wrong region"),
    ]


def test_context_sections_beside_numbered_entries_are_not_entries():
    text = "# Model Failures Analysis\n\n## Critical Failures\n\n### 1. Open bucket\n\n## Deployment Considerations\n\nText.\n"
    assert [e.title for e in parse_report(text).entries] == ["1. Open bucket"]


def test_field_label_above_a_bullet_list_gives_the_role():
    text = """\
### 2. Overly permissive IAM

**MODEL_RESPONSE Issue**:
- managed policies with full access
- no resource scoping

```json
["arn:aws:iam::aws:policy/AmazonS3FullAccess"]
```
"""
    r = parse_report(text)
    assert [(c.line, c.role, c.label) for c in r.entries[0].code] == [(7, MODEL, "MODEL_RESPONSE Issue")]


# The block parser's first-character guards must not change a single token.
TRICKY_BLOCKS = """\
# Title
Paragraph line one
* * *
- item one
  continued
  - nested item
    - deeper
1. first
2) second
10. tenth

> quote line
continued lazily
> - list in quote
>
> ```ts
> const x = 1;
> ```

    indented code
    more code

~~~yaml
key: value
~~~
Paragraph interrupted by a fence
```
code
```
Paragraph interrupted by a heading
## Heading two
| a | b |
|---|:-:|
| 1 | 2 |
Not a table
|---|
text with a pipe | here
- - -
___
+ plus list
Setext-looking line
===
\t- tab indented item
#no space heading
####### seven hashes
"""


def _tokens(tokens):
    return [(t.type, t.tag, t.map, t.nesting, t.level, t.content, t.markup, t.info, t.hidden) for t in tokens]


def test_dispatched_block_rules_give_the_same_tokens():
    from bot.report.parser import _markdown, block_tokens

    plain = _markdown()
    texts = [TRICKY_BLOCKS, SEVERITY_SECTIONS, TRICKY_BLOCKS.replace("\n", "\n\n"), "- a\n-\n", "```", "> ", "|", ""]
    for text in texts:
        assert _tokens(block_tokens(text)) == _tokens(plain.parse(text))
    # Every cut of the text ends a block somewhere else: the dispatch must agree at every end of text.
    for cut in range(0, len(TRICKY_BLOCKS), 7):
        assert _tokens(block_tokens(TRICKY_BLOCKS[:cut])) == _tokens(plain.parse(TRICKY_BLOCKS[:cut]))


def test_block_state_reads_the_line_markers_of_markdown_it():
    from markdown_it.rules_block.state_block import StateBlock

    from bot.report.parser import _MD, _BlockState

    for text in ["", "a", "a\n", "a\n\n", "\n", "  \n", "a\n  ", "a\n \t", " ", "\t", "\tx\n  \ty\n \t \tz",
                 "x\n\n\n  y  \n", "- a\n  - b\n\t- c\n", TRICKY_BLOCKS]:
        ours, theirs = vars(_BlockState(text, _MD, {}, [])), vars(StateBlock(text, _MD, {}, []))
        assert ours == theirs, text


def test_dispatched_block_rules_keep_every_terminator_chain():
    """A line that starts each kind of block, right after a paragraph, a list item, a blockquote line
    and a table row: it ends them (or not) exactly as markdown-it's own chains decide."""
    from bot.report.parser import _markdown, block_tokens

    plain = _markdown()
    openers = ["```\ncode\n```", "~~~\ncode\n~~~", "> quote", "***", "---", "___", "* * *", "-\t-  -", "_ _", "**Bold**",
               "- item", "+ item", "* item", "-\titem", "-", "*", "+x", "1. item", "2) item", "# Heading", "| a | b |\n|---|---|", "    indented", "plain text",
               "<div>", "[ref]: /url", "Setext\n==="]
    for before in ("Paragraph line", "- list item", "1. list item", "> quoted line", "| a |\n|---|\n| row |",
                   "  - nested\n    item"):
        for opener in openers:
            text = f"{before}\n{opener}\nafter\n"
            assert _tokens(block_tokens(text)) == _tokens(plain.parse(text)), text


def test_file_references_need_a_known_extension():
    report = parse_report("See lib/tap-stack.ts:12-14 and main.TF, not version 1.2.3 or e.g. this.\n")
    assert [(r.path, r.start, r.end) for r in report.refs] == [("lib/tap-stack.ts", 12, 14), ("main.TF", None, None)]
