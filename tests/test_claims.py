"""Claim extraction: every claim is read with its line and the columns of its number, from prose only."""

from bot.report import claims as C
from bot.report import parse_report


def rep(*lines: str):
    return parse_report("\n".join(lines) + "\n")


def test_numbers_keep_their_text_and_columns():
    r = rep("**Calculation**: 7 + 2 + 1 = **10**")
    f = C.formulas(r)[0]
    assert f.line == 1 and f.value == 10 and f.result.value == 10
    line = r.line_text(1)
    assert line[f.result.start:f.result.end] == "10"
    assert C.fmt(103.06, 0) == "103" and C.fmt(12.5) == "13" and C.fmt(86.956, 1) == "87.0"
    assert C.close(87, 86.96, 0) and C.close(86, 86.96, 0) and not C.close(73, 103.06, 0)


def test_formulas_skip_code_dates_and_products():
    r = rep("Released 2025-01-02 = today", "Cost 2 * 3 + 1 = 7 units", "```", "x = 1 + 1 = 3", "```",
            "Total: $20 + $15 = $35")
    assert [(f.line, f.value) for f in C.formulas(r)] == [(6, 35)]


def test_caps_and_scores_with_roles():
    r = rep("# Report", "", "## Training Quality", "",
            "**Calculation**: 7 + 2 + 3 = **12 -> capped at 10**",
            "**Final Score**: **8/10**",
            "Training quality moved from 4/10 to 8/10.",
            "**Base Score**: 8/10",
            "Target: >= 8/10",
            "Pylint score: 9.5/10",
            "SCORE:8",
            "OVERALL COMPLIANCE SCORE: 78/100")
    cap = C.caps(r)[0]
    assert (cap.line, cap.value.value, cap.cap.value, cap.result) == (5, 12, 10, 10)
    got = [(s.line, s.number.value, s.role) for s in C.scores(r)]
    assert got == [(6, 8, C.FINAL), (7, 4, C.BEFORE), (7, 8, C.FINAL), (8, 8, C.BASE), (11, 8, C.FINAL)]


def test_scores_inside_entries_and_before_blocks_are_not_final():
    r = rep("# Report", "", "## Critical Failures", "", "### 1. Open bucket", "", "**Impact Level**: Critical",
            "", "**Training Value**: 7/10", "", "## Quality Assessment", "", "**Before Enhancement**:",
            "- Training Quality: 6/10", "", "**After Enhancement**:", "- Training Quality: 9/10",
            "", "| Aspect | Before | After |", "|---|---|---|", "| Security Score | 6/10 | 10/10 |")
    roles = {(s.line, s.role) for s in C.scores(r)}
    assert roles == {(9, C.OTHER), (14, C.BEFORE), (17, C.FINAL)}
    assert [s.line for s in C.final_scores(r)] == [17]


def test_ratios_changes_and_parts():
    r = rep("- Deployed: 38/44 resources (86%)", "- 86% (38/44)", "- 8 of 12 requirements (67%)",
            "- 70% code growth (600 -> 1,020 lines)", "- 600 → 1,020 lines (70% increase)",
            "- Latency 200 to 50 ms (75% reduction)", "", "- **Critical**: 3 issues (25%)",
            "- **Other**: 9 issues (75%)")
    assert [(x.part.value, x.whole.value, x.percent.value) for x in C.ratios(r)] == \
        [(38, 44, 86), (38, 44, 86), (8, 12, 67)]
    assert [(c.before.value, c.after.value, c.percent.value, c.direction) for c in C.changes(r)] == \
        [(600, 1020, 70, 1), (600, 1020, 70, 1), (200, 50, 75, -1)]
    groups = C.part_groups(r)
    assert [[(p.count.value, p.percent.value) for p in g] for g in groups] == [[(3, 25), (9, 75)]]


def test_severity_counts_on_one_line_and_as_a_list():
    r = rep("## Summary", "", "- **Total failures**: 2 Critical, 1 High, 0 Medium, 1 Low", "",
            "- **High Severity**: 2", "- **Medium Severity**: 3", "- **Low Severity**: 1", "",
            "- **Critical (Category A)**: 4 issues", "- Attempt 1: 2 high errors, 1 low error")
    groups = C.severity_counts(r)
    assert [[(c.line, c.severity, c.number.value) for c in g] for g in groups] == [
        [(3, "Critical", 2), (3, "High", 1), (3, "Medium", 0), (3, "Low", 1)],
        [(5, "High", 2), (6, "Medium", 3), (7, "Low", 1)],
    ]


def test_totals():
    r = rep("- **Total Issues Fixed**: 12", "We found 9 issues fixed by the QA pass.",
            "- Total failures: 3 Critical, 1 High (4 total)", "A NAT gateway per subnet (3 total).",
            "**Total failures**: 5 Critical, 2 High")
    got = [(t.line, t.number.value, t.fixed) for t in C.totals(r)]
    assert got == [(1, 12, True), (2, 9, True), (3, 4, False)]


def test_category_counts_own_their_nested_items_only():
    r = rep("### Fixes by Category", "", "**Category A** (Significant): 2 fixes", "- Duplicate state name",
            "- Dashboard metric format", "", "- **Category B (Moderate)**: 3", "- **Category C**: 1 fix",
            "  - Typo in output name")
    got = [(c.line, c.category, c.number.value, [n for n, _ in c.items]) for c in C.category_counts(r)]
    assert got == [(3, "A", 2, [4, 5]), (7, "B", 3, []), (8, "C", 1, [9])]


def test_statements_leave_out_history_and_scope():
    r = rep("## Final Status", "", "- Unit test coverage: 100%", "- Coverage improved from 45% to 100%",
            "- Branch coverage: 91%", "- lib/handler.py at 12% coverage", "- All tests pass",
            "- 3 tests failed initially", "- Zero deployment failures", "- Attempt 1: Failed - quota")
    got = [(s.line, s.kind, s.value, s.qualifier) for s in C.statements(r)]
    assert got == [(3, "coverage", 100, "unit"), (5, "coverage", 91, "branch"), (6, "coverage", 12, "scoped"),
                   (7, "all-tests-pass", None, ""), (9, "zero-deploy-failures", None, ""),
                   (10, "failed-attempt", None, "")]


def test_facts_outside_entries_only():
    r = rep("# Report", "", "**Platform**: CDK TypeScript", "**Region**: us-west-2", "**Complexity**: Hard",
            "**Platform**: CDK for Terraform (Python)", "", "## Failures", "", "### 1. Wrong region",
            "", "**Impact Level**: High", "**Region**: eu-west-3")
    got = [(f.line, f.field, f.value) for f in C.facts(r)]
    assert got == [(3, "platform", "cdk"), (3, "language", "ts"), (4, "region", "us-west-2"),
                   (5, "complexity", "hard"), (6, "platform", "cdktf"), (6, "language", "py")]


def test_unresolved_entries_by_section_and_by_field():
    r = rep("# Report", "", "## Fixes Applied", "", "### 1. Bucket policy", "", "**Status**: Pending - TODO",
            "", "### 2. Key rotation", "", "**Status**: Fixed", "", "## Known Issues (Deployment Blockers)", "",
            "### Issue 1: Duplicate state name", "", "**Fix Required**: rename the state")
    got = [(e.line, n) for e, n, _ in C.unresolved_entries(r)]
    assert got == [(5, 7), (15, 13)]
    assert C.same_item("Step Functions duplicate state name", "Issue 1: Step Functions Duplicate State Name")
    assert not C.same_item("S3 lifecycle configuration", "Issue 1: Step Functions Duplicate State Name")


def test_entry_numbers_keep_sub_numbers_and_failure_entries_drop_other_sections():
    r = rep("# Report", "", "## 2. Deployment Issues", "", "### 2.1 Missing dependency", "", "**Issue**: x", "",
            "### 2.2 Removal policy", "", "**Issue**: y", "", "## Enhancement Features Added", "",
            "### 1. SSM integration", "", "**Impact**: High", "", "## Lessons Learned", "",
            "### 1. Read the docs", "", "**Impact**: Low")
    assert [C.entry_number(e) for e in C.failure_entries(r)] == ["2.1", "2.2"]


def test_scores_that_are_targets_aspects_or_reasons_are_not_read():
    # Shapes from the corpus sweep that were first read as final scores.
    r = rep("# R", "", "## Training Quality Score Justification: 8/10", "", "**Why Not 10/10**:", "- one failure only",
            "", "### Training Quality Score: 7/10", "", "- **Implementation Quality**: 6/10",
            "- **Architecture Excellence**: 10/10", "", "We elevated the solution to exceed 9/10 training quality.")
    assert [(s.line, s.number.value) for s in C.final_scores(r)] == [(3, 8), (8, 7)]


def test_score_forms_without_a_scale():
    r = rep("## Verdict", "", "Training Quality: 8.5", '"training_quality": 9', "- Training quality: 7 - 8 range")
    assert [(s.line, s.number.value, s.form) for s in C.scores(r)] == [(3, 8.5, "training_quality"),
                                                                     (4, 9, "training_quality")]


def test_word_prefilters_leave_non_ascii_lines_to_the_patterns():
    # Under re.I, "ſ" matches "s" and "K" (Kelvin) matches "k"; str.lower does not give them, so lines
    # with non-ASCII characters skip the cheap word tests and still reach the patterns.
    r = rep("## Summary", "", "Total iſſues: 4 — see below", "", "- 2 Critical, 1 High – résumé", "",
            "Quality improvement of +4 poİnts")
    assert [(t.line, t.number.value) for t in C.totals(r)] == [(3, 4.0)]
    assert [(p.line, p.delta.value) for p in C.point_changes(r)] == [(7, 4.0)]  # "poİnts" is not ASCII "point"
    assert [[(c.severity, c.number.value) for c in g] for g in C.severity_counts(r)] == [[("Critical", 2.0), ("High", 1.0)]]


def test_statements_need_their_words():
    r = rep("## Final Status", "", "Coverage: 100%", "", "3 tests failing in CI", "", "Deployment attempt 1: failed",
            "", "Zero deployment failures.", "", "Previously coverage was 80%")
    kinds = [(s.line, s.kind) for s in C.statements(r)]
    assert kinds == [(3, "coverage"), (5, "failing-tests"), (7, "failed-attempt"), (9, "zero-deploy-failures")]


def counts(*lines: str):
    return [(c.line, c.thing, c.suite, c.run, c.file, c.number.value) for c in C.suite_counts(rep(*lines))]


def test_counts_of_tests_and_resources_with_their_suite():
    got = counts("# Model Response Failures Analysis", "", "## Validation Results", "",
                 "- **Unit Tests**: 32/32 passing (100% coverage)",
                 "- All 18 integration tests pass against the deployed stack",
                 "- `tests/unit/test_stack.py`: 54 tests",
                 "- **Total Resources**: 23",
                 "- Deployment created 23 AWS resources",
                 "- Test suite: 50 comprehensive test cases")
    assert got == [(5, "tests", "unit", True, "", 32), (6, "tests", "integration", True, "", 18),
                   (7, "tests", "", False, "test_stack.py", 54), (8, "resources", "", False, "", 23),
                   (9, "resources", "", False, "", 23), (10, "tests", "", False, "", 50)]


def test_count_suite_from_its_section_is_marked_as_such():
    [c] = C.suite_counts(rep("# Report", "", "## Testing", "", "### Integration Tests", "", "- Tests: 14 passed"))
    assert (c.suite, c.suite_on_line, c.run) == ("integration", False, True)


def test_counts_that_are_parts_estimates_history_or_failures_are_left_out():
    assert counts("# Report", "", "## Validation Results", "",
                  "- MODEL_RESPONSE had 8 tests",
                  "- Added 5 new unit tests for the Lambda handler",
                  "- 12 of 14 tests passing",
                  "- S3 lifecycle validation (4 tests)",
                  "- NAT Gateways: 3/3 tests passing",
                  "- 50+ unit tests, ~45 integration tests",
                  "- 32/34 integration tests passing",
                  "- 8 test files",
                  "- Resources to create: 1",
                  "- 3 IAM resources with wildcard actions",
                  "| Tests | 12 basic tests | 58 comprehensive tests |",
                  "Coverage: 91%, with 20 unit tests run when the stack is deployed") == []


def test_passing_count_next_to_failures_is_not_the_whole_suite():
    assert counts("# Report", "", "## Integration Tests", "", "- **Passing**: 43 tests", "- **Failing**: 1 test") == []
    assert counts("# Report", "", "## Unit Tests", "", "- Unit Tests: 47 passed, 0 failed")[0][-1] == 47


def test_counts_inside_failure_entries_are_about_the_model_not_the_final_code():
    assert counts("# Model Failures", "", "## Critical Failures", "", "### 1. Broken tests", "",
                  "**Impact Level**: Critical", "", "The suite ran 45 unit tests against a stub.") == []
