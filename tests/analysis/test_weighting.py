"""Raking weights, Kish's design effect and the weighted agree share with its interval (analysis.weighting)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import weighting
from analysis.weighting import MISSING, empty_cells, kish, rake, weighted_agree


def test_one_question_is_poststratification():
    # three in category 0, one in category 1, population half and half: weights 2/3 and 2
    w = rake(np.array([[0], [0], [0], [1]]), [np.array([0.5, 0.5])])
    np.testing.assert_allclose(w.weights, [2 / 3, 2 / 3, 2 / 3, 2])
    assert w.design_effect == pytest.approx(4 / 3)  # 4 * (3 * 4/9 + 4) / 16
    assert w.effective_n == pytest.approx(3.0)
    assert w.trimmed == 0 and w.converged


def test_two_balanced_questions_give_the_product_of_the_factors():
    answers = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    w = rake(answers, [np.array([0.25, 0.75]), np.array([0.5, 0.5])])
    np.testing.assert_allclose(w.weights, [0.5, 0.5, 1.5, 1.5], atol=1e-8)


def test_weights_reproduce_every_margin_among_those_who_answered():
    rng = np.random.default_rng(3)
    answers = np.column_stack([rng.choice(3, 400, p=[0.6, 0.3, 0.1]), rng.choice([-1, 0, 1], 400, p=[0.2, 0.7, 0.1])])
    shares = [np.array([0.2, 0.3, 0.5]), np.array([0.5, 0.5])]
    w = rake(answers, shares, trim=np.inf)
    assert w.weights.max() > 4  # category 2 is under-represented five-fold
    for q, share in enumerate(shares):
        answered = answers[:, q] >= 0
        got = np.bincount(answers[answered, q], weights=w.weights[answered]) / w.weights[answered].sum()
        np.testing.assert_allclose(got, share, atol=1e-8)
    # those who did not answer keep their share of the participants
    assert w.weights[answers[:, 1] == MISSING].sum() / w.weights.sum() == pytest.approx(np.mean(answers[:, 1] < 0))
    assert w.margin_error < 1e-8


def test_shares_are_renormalised_and_a_zero_share_is_treated_as_no_answer():
    w = rake(np.array([[0], [1], [2], [2]]), [np.array([1.0, 1.0, 0.0])])
    # category 2 has nobody in the population: those two keep their weight, the others split the rest evenly
    np.testing.assert_allclose(w.weights, [1, 1, 1, 1])


def test_trimming_caps_the_weights_and_reports_the_margin_left_off():
    answers = np.array([[0]] * 19 + [[1]])
    w = rake(answers, [np.array([0.5, 0.5])], trim=5)
    # raked: 10/19 for the nineteen, 10 for the one; 10 is cut to 5, then all rescaled to mean 1 (by 1/0.75)
    assert w.trimmed == 1
    np.testing.assert_allclose(w.weights, [10 / 19 / 0.75] * 19 + [5 / 0.75])
    assert w.margin_error == pytest.approx(0.5 - 1 / 3)  # category 1 then holds a third of the weight, not half
    untrimmed = rake(answers, [np.array([0.5, 0.5])], trim=np.inf)
    np.testing.assert_allclose(untrimmed.weights, [10 / 19] * 19 + [10])


def test_an_empty_population_cell_is_found_and_refused():
    answers = np.array([[0, 0], [0, 1]])
    shares = [np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    assert empty_cells(answers, shares) == [(0, 1)]
    with pytest.raises(ValueError, match="nobody answered"):
        rake(answers, shares)


def test_rake_checks_its_input_once_not_again_through_empty_cells(monkeypatch):
    def checked_again(answers, shares):
        raise AssertionError("rake checked its input a second time, through empty_cells")

    monkeypatch.setattr(weighting, "empty_cells", checked_again)
    np.testing.assert_allclose(rake(np.array([[0], [0], [0], [1]]), [np.array([0.5, 0.5])]).weights.sum(), 4)
    with pytest.raises(ValueError, match=r"nobody answered .*\[\(0, 1\)\]"):
        rake(np.array([[0, 0], [0, 1]]), [np.array([0.5, 0.5]), np.array([0.5, 0.5])])


@pytest.mark.parametrize(
    ("answers", "shares", "message"),
    [
        (np.array([0, 1]), [np.array([0.5, 0.5])], "shape"),
        (np.array([[0.0], [1.0]]), [np.array([0.5, 0.5])], "integer"),
        (np.array([[0], [2]]), [np.array([0.5, 0.5])], "between -1 and 1"),
        (np.array([[0], [1]]), [np.array([-0.5, 1.5])], "shares >= 0"),
        (np.array([[0], [1]]), [np.array([0.0, 0.0])], "not all be 0"),
    ],
)
def test_bad_input_is_refused_with_a_message(answers, shares, message):
    with pytest.raises(ValueError, match=message):
        rake(answers, shares)


def test_kish():
    assert kish(np.ones(10)) == pytest.approx((1.0, 10.0))
    assert kish(np.array([1.0, 3.0])) == pytest.approx((2 * 10 / 16, 1.6))


def test_weighted_agree_share_and_its_linearised_interval_by_hand():
    # one question, already balanced (weights 1); in each category: agree, disagree, agree, pass
    w = rake(np.array([[0]] * 4 + [[1]] * 4), [np.array([0.5, 0.5])])
    values = np.array([1, -1, 1, 0] * 2)
    out = weighted_agree(w, np.arange(8), np.zeros(8, int), values, 2)
    # agree share 1/2 (a pass is a vote that is not an agree). u = (y - 1/2) / 8 = ±1/16; each category's mean
    # of u is 0, so the residuals are u itself; v = 8/7 * Σu² = 8/7 * 8/256 = 1/28
    assert out.share[0] == pytest.approx(0.5)
    assert out.unweighted[0] == pytest.approx(0.5)
    half = 1.959964 * np.sqrt(1 / 28)
    assert out.low[0] == pytest.approx(0.5 - half) and out.high[0] == pytest.approx(0.5 + half)
    assert out.effective_n[0] == pytest.approx(8.0) and out.voters[0] == 8
    assert np.isnan(out.share[1]) and out.voters[1] == 0


def test_an_opinion_explained_by_the_weighting_variable_has_no_sampling_error_left():
    w = rake(np.array([[0], [0], [0], [1]]), [np.array([0.5, 0.5])])
    out = weighted_agree(w, np.arange(4), np.zeros(4, int), np.array([1, 1, 1, -1]), 1)
    assert out.unweighted[0] == pytest.approx(0.75)
    assert out.share[0] == pytest.approx(0.5)  # the weighted figure matches the population, half of whom agree
    assert out.low[0] == pytest.approx(0.5) and out.high[0] == pytest.approx(0.5)
