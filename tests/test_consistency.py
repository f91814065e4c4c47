"""Consistency rules MF201-MF205 on small reports modelled on real ones (seed shapes rewritten, not copied)."""

import json

import pytest

from bot.config import Config
from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"
CONSISTENCY = ("MF201", "MF202", "MF203", "MF204", "MF205")

METADATA = {
    "platform": "pulumi", "language": "ts", "complexity": "hard", "turn_type": "single", "po_id": "q4w8e2",
    "team": "synth", "startedAt": "2025-10-02T08:00:00Z", "subtask": "Application Deployment", "provider": "aws",
    "subject_labels": ["Web Application Deployment"], "aws_services": ["S3", "KMS", "Lambda"], "training_quality": 10,
}

# A well-formed report: every number in it is right. No rule of the family may fire on it.
WELL_FORMED = """# Model Response Failures Analysis

**Platform**: Pulumi TypeScript
**Region**: us-east-1

## Critical Failures

### 1. Bucket policy allows public reads

**Impact Level**: Critical
**Category**: A

**MODEL_RESPONSE Issue**: the policy granted `s3:GetObject` to `*`.

**IDEAL_RESPONSE Fix**: the policy names the CloudFront origin access identity.

## High Failures

### 2. Lambda timeout too short

**Impact Level**: High
**Category**: B

**MODEL_RESPONSE Issue**: `timeout: 3`.

**IDEAL_RESPONSE Fix**: `timeout: 30`.

## Low Failures

### 3. Output name typo

**Impact Level**: Low
**Category**: C

**MODEL_RESPONSE Issue**: `bucketNmae`.

**IDEAL_RESPONSE Fix**: `bucketName`.

## Summary

- **Total failures**: 1 Critical, 1 High, 0 Medium, 1 Low (3 total)
- **Total Issues Fixed**: 3
- **Critical**: 1 issue (33%)
- **Other**: 2 issues (67%)

### Fixes by Category

**Category A** (Significant): 1 fix
- Bucket policy allows public reads

**Category B** (Moderate): 1 fix
- Lambda timeout too short

**Category C** (Minor): 1 fix
- Output name typo

## Training Quality Assessment

**Base Score**: 8
**MODEL_FAILURES**: +1 (one Category A fix)
**Complexity Bonus**: +2 (KMS encryption, three integrated services)

**Calculation**: 8 + 1 + 2 = **11 -> capped at 10**
**Final Score**: **10/10**

The stack grew from 400 -> 500 lines (25% increase); 12/12 resources deployed (100%).
Training quality moved from 6/10 to 10/10, an improvement of 4 points.

## Deployment Status: Successful

- Attempt 1: Failed - bucket policy rejected
- Attempt 2: Success - all 12 resources created
- Unit test coverage: 100%
- All tests pass

SCORE:10
"""


def files(report: str, **extra) -> dict[str, str]:
    out = {REPORT: report, "metadata.json": json.dumps(METADATA, indent=2)}
    out.update(extra)
    return out


def found(report: str, rule: str | None = None, config: Config | None = None, **extra):
    review = review_files(files(report, **extra), config)
    assert not review.errors, review.errors
    return [f for f in review.findings if rule is None or f.rule == rule]


def lines_of(findings) -> list[int]:
    return [f.line for f in findings]


def ln(text: str, needle: str) -> int:
    """1-based line of the first line holding `needle`."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def test_well_formed_report_is_silent():
    hits = [f for f in found(WELL_FORMED) if f.rule.startswith("MF2")]
    assert hits == []


# --- MF201 COUNT_MISMATCH -----------------------------------------------------------------------

# Seed 001 shape: the summary follows the section headings, the entries' own Impact Levels disagree.
SECTION_VS_LEVEL = """# Model Failures

## Critical Failures

### 1. KMS policy too broad

**Impact Level**: Critical

### 2. Log group encryption dropped

**Impact Level**: Medium

### 3. State bucket name wrong

**Impact Level**: High

## High-Priority Failures

### 4. Unit tests incomplete

**Impact Level**: High

## Summary

**Total Failures**: 3 Critical, 1 High, 0 Medium
"""


def test_summary_counts_against_impact_levels_name_the_entries():
    [f] = found(SECTION_VS_LEVEL, "MF201")
    assert f.line == 25
    assert "Stated 3 Critical, 1 High, 0 Medium" in f.message and "1 Critical, 2 High, 1 Medium" in f.message
    assert "#2 (line 9)" in f.evidence and "#3 (line 13)" in f.evidence
    assert "match the severity sections instead" in f.evidence


def test_matching_severity_counts_are_silent():
    good = SECTION_VS_LEVEL.replace("3 Critical, 1 High, 0 Medium", "1 Critical, 2 High, 1 Medium")
    assert found(good, "MF201") == []


def test_fewer_stated_than_counted_fires_more_stated_only_when_the_claim_covers_all_entries():
    base = "# R\n\n### 1. A\n\n**Impact Level**: High\n\n### 2. B\n\n**Impact Level**: High\n\n## Summary\n\n"
    assert lines_of(found(base + "- **High**: 1\n- **Low**: 1\n", "MF201")) == [13]
    # "3 High" for two entries could be an entry the parser cannot see: only when the totals agree.
    assert found(base + "- Total failures: 3 High, 1 Low\n", "MF201") == []
    assert lines_of(found(base + "- Total failures: 1 High, 1 Low\n", "MF201")) == [13]


# Seed 000 shape: four entries marked Category B, the summary says three.
CATEGORY_REPORT = """# Model Failures

## Fixes Applied During QA

#### 1. Lifecycle rule syntax
**Issue**: wrong key
**Category**: B (Configuration)

#### 2. Bucket ACL conflict
**Issue**: ACL with BucketOwnerEnforced
**Category**: B (Best practices)

#### 3. Log group KMS key
**Issue**: missing key policy
**Category**: C (Simplification)

#### 4. Document name prefix
**Issue**: reserved AWS- prefix
**Category**: B (Naming)

#### 5. Function name suffix
**Issue**: no environment suffix
**Category**: B (Naming)

## Training Quality Assessment

**Category B** (Moderate): 3 fixes
- Lifecycle rule syntax
- Document name prefix
- Bucket ACL conflict

**Category C** (Minor): 1 fix
- Log group KMS key
"""


def test_category_count_lower_than_the_entries_marked_with_it():
    [f] = found(CATEGORY_REPORT, "MF201")
    assert f.line == ln(CATEGORY_REPORT, "**Category B**") and "Stated 3 Category B fixes, but 4 entries say" in f.message
    assert "#1 (line 5), #2 (line 9), #4 (line 17), #5 (line 21)" in f.evidence


def test_category_count_against_its_own_list():
    report = CATEGORY_REPORT.replace("**Category B** (Moderate): 3 fixes", "**Category B** (Moderate): 4 fixes")
    assert lines_of(found(report, "MF201")) == [ln(report, "**Category B**")]  # 4 entries say B, 3 are listed
    assert found(report.replace("- Bucket ACL conflict\n", "- Bucket ACL conflict\n- Lambda name\n"), "MF201") == []
    listed = report.replace("- Bucket ACL conflict\n", "")
    [f] = found(listed.replace("#### 2. Bucket ACL conflict\n**Issue**: ACL with BucketOwnerEnforced\n"
                               "**Category**: B (Best practices)\n", "#### 2. Bucket ACL conflict\n**Issue**: x\n"), "MF201")
    assert "but 2 are listed below it" in f.message and "Document name prefix" in f.evidence


def test_total_against_entries_and_entries_that_group_issues():
    report = "# R\n\n### 1. A\n\n**Impact Level**: High\n\n### 2. B\n\n**Impact Level**: Low\n\n## Summary\n\n"
    [f] = found(report + "**Total Issues Fixed**: 5\n", "MF201")
    assert "Stated 5 issues in total, but the report documents 2 entries" in f.message
    assert found(report + "**Total Issues Fixed**: 2\n", "MF201") == []
    # Corpus shape: "1. Security Issues" headings that each hold a bullet list of issues.
    grouped = "# R\n\n### 1. Security Issues\n- open bucket\n- no TLS\n\n### 2. Naming Issues\n- no suffix\n\n" \
              "**Total Issues Addressed: 3**\n"
    assert found(grouped, "MF201") == []
    # Corpus shape: "(3 total)" of something else than failures.
    nat = "**Root Cause**: the model created a single NAT gateway; the prompt asks for one per subnet (3 total).\n"
    assert found(report + nat, "MF201") == []


# Counts of tests and resources, checked against the task's test files and final template.
UNIT_TESTS = """describe('TapStack', () => {
  test('creates the bucket', () => {});
  test('encrypts with KMS', () => {});
  describe('outputs', () => {
    it('exports the bucket name', () => {});
  });
});
"""
INT_TESTS = "describe('live stack', () => {\n  it('reads the bucket', async () => {});\n  it('reads the key', async () => {});\n});\n"
TEMPLATE = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
            "  Key:\n    Type: AWS::KMS::Key\n")
CFN_TASK = {"test/tap-stack.unit.test.ts": UNIT_TESTS, "test/tap-stack.int.test.ts": INT_TESTS, "lib/TapStack.yml": TEMPLATE}


def suite_report(*lines: str) -> str:
    return "# Model Response Failures Analysis\n\n## Validation Results\n\n" + "\n".join(lines) + "\n"


def count_findings(report: str, platform: str = "cfn", **task_files: str):
    meta = dict(METADATA, platform=platform, language="yaml")
    review = review_files({REPORT: report, "metadata.json": json.dumps(meta), **(task_files or CFN_TASK)})
    return [f for f in review.findings if f.rule == "MF201"]


def test_stated_test_counts_against_the_test_files():
    report = suite_report("- **Unit Tests**: 5/5 passing", "- 2 integration tests against the live stack",
                          "- Test suite: 6 test cases", "- All 5 unit tests pass")
    hits = count_findings(report)
    assert [(f.line, f.message) for f in hits] == [
        (5, "Stated 5 unit tests passing, but the unit test files define 3 test cases."),
        (7, "Stated 6 tests, but the test files define 3 unit and 2 integration test cases (5 in all)."),
    ]
    assert hits[0].evidence == ("counted test/tap-stack.unit.test.ts: 3 (it()/test() calls); "
                                "the same count is stated on lines 8")


def test_right_test_counts_of_a_suite_of_all_or_of_one_file_are_silent():
    report = suite_report("- **Unit Tests**: 3/3 passing", "- 2 integration tests", "- Tests: 5 passed, 0 failed",
                          "- `test/tap-stack.unit.test.ts`: 3 tests")
    assert count_findings(report) == []


def test_test_counts_a_run_decides_are_not_checked():
    skipped = dict(CFN_TASK, **{"test/tap-stack.unit.test.ts": UNIT_TESTS.replace("test('encrypts", "test.skip('encrypts")})
    assert count_findings(suite_report("- **Unit Tests**: 5/5 passing"), **skipped) == []
    # a count about the model's code or a partial run is not a count of the final suite
    assert count_findings(suite_report("- MODEL_RESPONSE shipped 9 unit tests", "- Passing: 4 tests",
                                       "- Failing: 1 test")) == []


def test_stated_resources_against_the_final_template():
    [hit] = count_findings(suite_report("- All 3 resources deployed successfully"))
    assert hit.message == "Stated 3 resources, but the final code declares 2."
    assert hit.evidence == "counted `Resources` of lib/TapStack.yml"
    assert count_findings(suite_report("- **Total Resources**: 2")) == []
    # CDK synthesises resources no source line shows: not counted
    assert count_findings(suite_report("- All 3 resources deployed successfully"), platform="cdk") == []


WELL_FORMED_CFN = suite_report("- **Unit Tests**: 3/3 passing (100% coverage)",
                               "- **Integration Tests**: 2/2 passing against the deployed stack",
                               "- All 5 tests pass",
                               "- **Total Resources**: 2 (bucket and key)")


def test_well_formed_report_with_right_test_and_resource_counts_is_silent():
    meta = dict(METADATA, platform="cfn", language="yaml")
    review = review_files({REPORT: WELL_FORMED_CFN, "metadata.json": json.dumps(meta), **CFN_TASK})
    assert [f for f in review.findings if f.rule.startswith("MF2")] == []


# --- MF202 ARITHMETIC ---------------------------------------------------------------------------

def test_seed_shape_cap_then_a_different_final_value():
    report = WELL_FORMED.replace("**Final Score**: **10/10**", "**Final Score**: **9/10**")
    hits = found(report, "MF202")
    assert lines_of(hits) == [ln(report, "**Final Score**")]
    assert "11 capped at 10 is 10, but the final value says 9" in hits[0].message
    assert hits[0].replacement == "**Final Score**: **10/10**"


def test_seed_shape_percentage_of_a_change():
    report = WELL_FORMED.replace("(25% increase)", "(73% increase)")
    [f] = found(report, "MF202")
    assert f.line == ln(report, "(73% increase)") and "is a 25% increase, not 73%" in f.message
    assert f.replacement == WELL_FORMED.split("\n")[f.line - 1]
    reverse = WELL_FORMED.replace("The stack grew from 400 -> 500 lines (25% increase)",
                                  "- 73% code increase (850 → 1,726 lines)")
    [g] = found(reverse, "MF202")
    assert "103% increase, not 73%" in g.message and "103% code increase" in g.replacement


def test_honest_rounding_is_accepted():
    ok = WELL_FORMED.replace("12/12 resources deployed (100%)", "40/46 resources deployed (87%)")
    assert found(ok, "MF202") == []
    ok = WELL_FORMED.replace("12/12 resources deployed (100%)", "40/46 resources deployed (86.96%)")
    assert found(ok, "MF202") == []
    bad = WELL_FORMED.replace("12/12 resources deployed (100%)", "40/46 resources deployed (90%)")
    [f] = found(bad, "MF202")
    assert "40/46 is 87%, not 90%" in f.message and "(87%)" in f.replacement


def test_wrong_sum_and_wrong_parts():
    report = WELL_FORMED.replace("8 + 1 + 2 = **11", "8 + 1 + 2 = **13")
    hits = found(report, "MF202")
    assert "the terms add up to 11" in hits[0].message and "= **11 -> capped" in hits[0].replacement
    parts = WELL_FORMED.replace("1 issue (33%)", "1 issue (22%)")
    [p] = found(parts, "MF202")
    assert "1 of 3 is 33%, not 22%" in p.message


def test_before_after_scores_and_their_stated_difference():
    # Seed 003 shape: original 3/10, improved 9/10, "+6 points" (right); a wrong difference fires.
    report = ("# R\n\n## Training Quality Assessment\n\n### Original Code (MODEL_RESPONSE): 3/10\n\n"
              "### Improved Code (IDEAL_RESPONSE): 9/10\n\n### Quality Improvement: +6 points\n")
    assert found(report, "MF202", **{"metadata.json": "{}"}) == []
    [f] = found(report.replace("+6 points", "+5 points"), "MF202", **{"metadata.json": "{}"})
    assert "3 -> 9 is a change of +6 points, not +5" in f.message and f.replacement.endswith("+6 points")
    assert found(WELL_FORMED.replace("improvement of 4 points", "improvement of 3 points"), "MF202")


def test_breakdown_that_does_not_add_up_to_its_total():
    report = WELL_FORMED.replace("0 Medium, 1 Low (3 total)", "0 Medium, 1 Low (4 total)")
    [f] = [h for h in found(report, "MF202")]
    assert "adds up to 3, not 4" in f.message and "(3 total)" in f.replacement


# --- MF203 SCORE_MISMATCH -----------------------------------------------------------------------

def test_decimal_score_is_reported_unless_configured():
    report = WELL_FORMED.replace("**Final Score**: **10/10**", "**Final Score**: **9.5/10**")
    hits = [f for f in found(report, "MF203") if "not an integer" in f.message]
    assert lines_of(hits) == [ln(report, "**Final Score**")]
    loose = Config(settings={"score": {"integer_only": False}})
    assert [f for f in found(report, "MF203", loose) if "not an integer" in f.message] == []


def test_two_final_scores_and_metadata():
    report = WELL_FORMED.replace("SCORE:10", "SCORE:9")
    hits = found(report, "MF203")
    two = [f for f in hits if "Two different final scores" in f.message]
    assert lines_of(two) == [ln(report, "SCORE:9")] and f"line {ln(report, '**Final Score**')}" in two[0].evidence
    meta = WELL_FORMED
    extra = {"metadata.json": json.dumps({**METADATA, "training_quality": 8})}
    [m] = found(meta, "MF203", **extra)
    assert m.line == ln(meta, "**Final Score**") and "metadata.json says training_quality 8" in m.message


def test_before_scores_and_aspect_tables_are_not_final_scores():
    report = WELL_FORMED + ("\n| Aspect | MODEL_RESPONSE | IDEAL |\n|---|---|---|\n| Security Score | 6/10 | 10/10 |\n\n"
                            "### Original MODEL_RESPONSE Score: 3/10\n")
    assert found(report, "MF203") == []


def test_score_out_of_range():
    hits = found(WELL_FORMED.replace("SCORE:10", "SCORE:12"), "MF203")
    assert any("Score 12 is outside 0-10" in h.message for h in hits)


def test_rubric_recomputed_from_the_stated_categories():
    # Seed 002 shape: four Category A fixes and an 8.5: the rubric gives 9-10 whatever the complexity.
    report = ("# R\n\n## Summary\n\n- **Category A (Security)**: 4\n- **Category B (Configuration)**: 14\n\n"
              "**Estimated Training Quality Score**: 8.5/10\n")
    hits = found(report, "MF203", **{"metadata.json": "{}"})
    rubric = [f for f in hits if "rubric" in f.message]
    assert rubric and "gives 9-10" in rubric[0].message and "complexity not stated" in rubric[0].evidence
    off = Config(settings={"score": {"rubric": "off"}})
    assert [f for f in found(report, "MF203", off, **{"metadata.json": "{}"}) if "rubric" in f.message] == []


def test_rubric_complexity_over_the_cap_and_ambiguity_is_said():
    report = WELL_FORMED.replace("**Complexity Bonus**: +2", "**Complexity Bonus**: +3")
    assert found(report, "MF203") == []  # +3 is capped at +2: still 10
    c_only = ("# R\n\n## Fixes by Category\n\n**Category C** (Minor): 4 fixes\n- a b c\n- d e f\n- g h i\n- j k l\n\n"
              "**Complexity**: +0\n\n**Training Quality Score**: 9/10\n")
    [f] = [h for h in found(c_only, "MF203", **{"metadata.json": "{}"}) if "rubric" in h.message]
    assert "gives 5-7" in f.message and "ambiguous" in f.evidence


# --- MF204 UNRESOLVED_AS_FIXED ------------------------------------------------------------------

# Seed 000 shape: deployment blockers with "Fix Required" listed among the Category A fixes.
BLOCKERS = """# Model Failures

## Known Issues (Deployment Blockers)

### Issue 1: State machine duplicate state name
**Error**: `DUPLICATE_STATE_NAME`
**Fix Required**: rename the duplicate state
**Category**: A

## Fixes by Category

**Category A** (Significant): 1 fix
- State machine duplicate state name
"""


def test_open_item_counted_as_a_fix():
    [f] = found(BLOCKERS, "MF204")
    assert f.line == 13 and "Category A fixes (line 12)" in f.message and "(line 3)" in f.message
    assert "Issue 1" in f.evidence


def test_fixed_items_and_honest_open_items_are_silent():
    fixed = BLOCKERS.replace("## Known Issues (Deployment Blockers)", "## Fixes Applied").replace(
        "**Fix Required**: rename the duplicate state", "**Fix**: renamed the duplicate state")
    assert found(fixed, "MF204") == []
    honest = BLOCKERS.replace("**Category A** (Significant): 1 fix\n- State machine duplicate state name\n",
                              "**Category A** (Significant): 0 fixes\n")
    assert found(honest, "MF204") == []


def test_pending_status_under_a_fixed_heading_and_failed_resources_under_success():
    report = ("# R\n\n## Fixes Applied\n\n### 1. Export names\n\n**Issue**: no exports\n**Status**: Pending - "
              "tests need an update\n\n## Deployment Status: Successful\n\n- ✅ VPC\n- ❌ Step Functions state machine\n")
    hits = found(report, "MF204")
    assert lines_of(hits) == [8, 10]
    assert "Pending" in hits[0].message and "line 13" in hits[1].message


# --- MF205 SELF_CONTRADICTION -------------------------------------------------------------------

def test_zero_failures_after_a_failed_attempt():
    report = WELL_FORMED.replace("- All tests pass", "- All tests pass\n- Final status: zero deployment failures")
    [f] = found(report, "MF205")
    assert f.line == ln(report, "zero deployment") and "Attempt 1: Failed" in f.message
    assert f"line {ln(report, 'Attempt 1')}" in f.message


def test_coverage_and_tests_contradictions_only_between_final_statements():
    bad = WELL_FORMED.replace("- All tests pass", "- All tests pass\n- Unit test coverage: 87%\n- 2 tests failing")
    msgs = [f.message for f in found(bad, "MF205")]
    assert any("contradicts 87% unit coverage" in m for m in msgs)
    assert any("\"All tests pass\" contradicts \"2 tests failing\"" in m for m in msgs)
    # The model's coverage inside an entry, or before the fixes, is not a contradiction.
    story = WELL_FORMED.replace("**MODEL_RESPONSE Issue**: `bucketNmae`.", "**MODEL_RESPONSE Issue**: 0% test coverage.")
    story = story.replace("## Deployment Status: Successful", "## Before Fixes\n\n- Coverage: 45%\n\n"
                                                              "## Deployment Status: Successful")
    assert found(story, "MF205") == []


def test_impact_level_unlike_its_section():
    [f] = found(SECTION_VS_LEVEL.replace("3 Critical, 1 High, 0 Medium", "1 Critical, 2 High, 1 Medium"), "MF205")[:1]
    assert f.line == 11 and "states Medium but sits under \"Critical Failures\" (line 3)" in f.message


@pytest.mark.parametrize("numbers, message", [
    ((1, 2, 4), "Entry 4 follows 2 (line 7): 3 missing."),
    ((1, 2, 2), "Entry number 2 is used twice"),
])
def test_numbering_gaps_and_duplicates(numbers, message):
    body = "".join(f"### {n}. Item {chr(64 + i)}\n\n**Impact Level**: High\n\n" for i, n in enumerate(numbers, 1))
    [f] = found("# R\n\n" + body, "MF205")
    assert message in f.message


def test_numbering_that_restarts_continues_or_has_sub_numbers_is_fine():
    body = "## Critical\n\n### 1. A\n\n**Impact Level**: Critical\n\n### 2. B\n\n**Impact Level**: Critical\n\n" \
           "## High\n\n### 3. C\n\n**Impact Level**: High\n\n## Other fixes\n\n### 1. D\n\n**Impact Level**: Low\n\n" \
           "## 4. Deployment\n\n### 4.1 E\n\n**Issue**: x\n\n### 4.2 F\n\n**Issue**: y\n"
    assert found("# R\n\n" + body, "MF205") == []
    sparse = "".join(f"### BUG #{n}: thing {n}\n\n**Impact Level**: High\n\n" for n in (1, 5, 7, 11))
    assert found("# R\n\n" + sparse, "MF205") == []  # numbers taken from elsewhere, not a slip


@pytest.mark.parametrize("rule", CONSISTENCY)
def test_each_rule_documents_its_examples(rule):
    from bot.rules import get_rule
    r = get_rule(rule)
    assert rule in {f.rule for f in review_files(r.bad).findings}
    assert rule not in {f.rule for f in review_files(r.good).findings}
