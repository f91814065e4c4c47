"""Every rule's documented examples are executable: the failing one fires, the passing one does not."""

import pytest

from bot.config import Config
from bot.rules import all_rules
from tests.conftest import review_files

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_bad_example_fires(rule):
    review = review_files(rule.bad, Config())
    assert not review.errors, review.errors
    assert rule.id in {f.rule for f in review.findings}, f"{rule.id} did not fire on its failing example"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_good_example_is_silent(rule):
    review = review_files(rule.good, Config())
    assert not review.errors, review.errors
    hits = [f for f in review.findings if f.rule == rule.id]
    assert not hits, f"{rule.id} fired on its passing example: {hits}"


def test_rule_metadata_is_complete_and_unique():
    ids = [r.id for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    for r in RULES:
        assert r.id.startswith("MF") and len(r.id) == 5
        assert r.kind.isupper()
        assert r.summary and "\n" not in r.summary
        assert len(r.why) > 40
