"""The anchor rubric, recomputed: fixes adjustment, complexity cap, clamp, rounding, ambiguity, settings."""

import pytest

from bot.scoring import Rubric, RubricError, evaluate, fix_adjustments, round_half_up

R = Rubric()


@pytest.mark.parametrize("counts, adjustments", [
    ({"A": 1}, [1]),
    ({"A": 2, "C": 5}, [2]),  # A overrides C penalties
    ({"A": 7}, [2]),
    ({"B": 3, "C": 6}, [0]),  # B cancels C penalties
    ({"C": 1}, [-4]),  # minimal: 1-2 fixes
    ({"C": 2}, [-4]),
    ({"C": 3}, [-3]),  # minimal: 3-4 fixes
    ({"C": 5}, [-1]),  # C-only: 4-5 fixes
    ({"C": 6}, [-2]),
    ({"C": 9}, [-2]),
    ({"C": 2, "D": 1}, [-3]),  # D fixes are minor fixes too
])
def test_fix_adjustments(counts, adjustments):
    assert fix_adjustments(R, counts)[0] == adjustments


def test_four_c_only_fixes_are_ambiguous_and_both_readings_are_kept():
    adjs, why, ambiguity = fix_adjustments(R, {"C": 4})
    assert adjs == [-3, -1]
    assert "ambiguous" in ambiguity and "-1" in ambiguity and "-3" in ambiguity
    out = evaluate(R, {"C": 4}, complexity=0)
    assert (out.low, out.high) == (5, 7) and out.ambiguity


def test_complexity_is_capped_and_the_total_clamped():
    out = evaluate(R, {"A": 2, "B": 3, "C": 2}, complexity=3)
    assert (out.low, out.high) == (10, 10)
    assert "capped at +2" in out.steps and "clamped to 0..10" in out.steps


def test_unknown_complexity_gives_the_whole_span():
    out = evaluate(R, {"A": 4})
    assert (out.low, out.high) == (9, 10) and out.shown() == "9-10"
    assert not out.allows(8.5) and out.allows(9)


def test_single_service_penalty_and_lower_clamp():
    assert evaluate(R, {"C": 1}, complexity=-1).shown() == "3"
    assert evaluate(Rubric(base=2), {"C": 1}, complexity=-1).shown() == "0"


def test_round_half_up():
    assert round_half_up(8.5) == 9 and round_half_up(7.5) == 8 and round_half_up(7.49) == 7


def test_rubric_from_settings():
    assert Rubric.from_setting(None) == Rubric()
    assert Rubric.from_setting("off") is None and Rubric.from_setting(False) is None
    custom = Rubric.from_setting({"base": 7, "c_only": [[3, -1], [5, -2]]})
    assert custom.base == 7 and custom.c_only == ((3, -1), (5, -2))
    assert evaluate(custom, {"A": 1}, complexity=0).shown() == "8"
    with pytest.raises(RubricError, match="unknown keys"):
        Rubric.from_setting({"bonus": 1})
    with pytest.raises(RubricError):
        Rubric.from_setting([1, 2])
