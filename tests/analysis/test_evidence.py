"""Evidence floors (analysis.evidence.Floors)."""

import pytest

from analysis import evidence


def test_a_consultation_may_raise_the_floors_but_never_lower_them():
    defaults = evidence.Floors()
    assert evidence.Floors.raised(None, None) == defaults
    assert evidence.Floors.raised(1, 1) == defaults
    assert evidence.Floors.raised(40, 9) == evidence.Floors(40, 9)


def test_floors_below_the_defaults_are_refused():
    with pytest.raises(ValueError, match="voters must be an int of at least"):
        evidence.Floors(evidence.DEFAULT_VOTERS - 1, evidence.DEFAULT_GROUP_VOTERS)
