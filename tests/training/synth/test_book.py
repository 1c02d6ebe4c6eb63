"""Statistics of the synthetic book: plausible, honest, and consistent with its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.synth import ACTIONS, CONTROL, NO_ACTION, generate_book, true_churn_probability

OBSERVED_COLUMNS = [
    "customer_id", "segment", "age", "region", "acquisition_channel", "tenure_years",
    "n_products", "has_motor", "has_home", "has_life", "annual_premium", "proposed_premium",
    "new_business_premium", "premium_change_pct", "claims_count_3y", "claims_amount_3y",
    "years_loss_free", "complaints_12m", "service_calls_12m", "late_payments_12m",
    "satisfaction", "expected_claims_cost", "cost_to_serve", "margin", "churned", "treatment",
]  # fmt: skip


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return generate_book(80_000, seed=11)


def test_has_the_interface_columns(book: pd.DataFrame) -> None:
    missing = [c for c in OBSERVED_COLUMNS if c not in book.columns]
    assert missing == []
    truth = [f"truth_p_churn__{a}" for a in (NO_ACTION, *ACTIONS)]
    assert all(c in book.columns for c in truth)
    assert book["customer_id"].is_unique
    assert set(book["segment"]) == {"mass", "vip", "affiliated"}


def test_churn_rate_is_plausible(book: pd.DataFrame) -> None:
    assert 0.08 <= book["churned"].mean() <= 0.20


def test_truth_is_informative_but_not_a_giveaway(book: pd.DataFrame) -> None:
    untreated = book["treatment"].isna()
    auc = roc_auc_score(book.loc[untreated, "churned"], book.loc[untreated, "truth_p_churn__none"])
    assert 0.75 <= auc <= 0.85


def test_observed_churn_matches_truth_in_every_arm(book: pd.DataFrame) -> None:
    arms = book["treatment"].fillna(NO_ACTION).replace({CONTROL: NO_ACTION})
    for arm, rows in book.groupby(arms):
        observed = rows["churned"].mean()
        expected = rows[f"truth_p_churn__{arm}"].mean()
        standard_error = np.sqrt(expected * (1 - expected) / len(rows))
        assert abs(observed - expected) < 4 * standard_error, arm


def test_loss_free_customers_churn_less(book: pd.DataFrame) -> None:
    loss_free = book["years_loss_free"] >= 3
    assert book.loc[loss_free, "churned"].mean() < book.loc[~loss_free, "churned"].mean()
    assert (
        book.loc[loss_free, "truth_p_churn__none"].mean()
        < book.loc[~loss_free, "truth_p_churn__none"].mean()
    )


def test_premium_increases_raise_churn(book: pd.DataFrame) -> None:
    sample = book.head(5_000)
    at_current = true_churn_probability(sample, premium=sample["annual_premium"])
    at_plus_10 = true_churn_probability(sample, premium=sample["annual_premium"] * 1.10)
    at_plus_25 = true_churn_probability(sample, premium=sample["annual_premium"] * 1.25)
    assert (at_plus_10 > at_current).all()
    assert (at_plus_25 > at_plus_10).all()
    big_rise = book["premium_change_pct"] > 15
    small_rise = book["premium_change_pct"].between(0, 5)
    assert book.loc[big_rise, "churned"].mean() > 1.3 * book.loc[small_rise, "churned"].mean()


def test_price_sensitivity_varies_by_customer(book: pd.DataFrame) -> None:
    sample = book.head(5_000)
    base = true_churn_probability(sample, premium=sample["annual_premium"])
    rise = true_churn_probability(sample, premium=sample["annual_premium"] * 1.15) - base
    by_channel = pd.Series(rise).groupby(sample["acquisition_channel"].to_numpy()).mean()
    assert by_channel["aggregator"] > 1.5 * by_channel["bank_partner"]


def test_truth_function_reproduces_truth_columns(book: pd.DataFrame) -> None:
    sample = book.head(3_000)
    for action in (NO_ACTION, *ACTIONS):
        np.testing.assert_allclose(
            true_churn_probability(sample, action=action),
            sample[f"truth_p_churn__{action}"],
            rtol=1e-12,
        )


def test_each_action_helps_some_and_hurts_others(book: pd.DataFrame) -> None:
    for action in ACTIONS:
        effect = book["truth_p_churn__none"] - book[f"truth_p_churn__{action}"]
        assert (effect > 0.01).mean() > 0.05, f"{action}: too few persuadables"
        assert (effect < -0.01).mean() > 0.01, f"{action}: no sleeping dogs"


def test_all_four_uplift_types_exist(book: pd.DataFrame) -> None:
    p_none = book["truth_p_churn__none"]
    effect = p_none - book["truth_p_churn__loyalty_discount_10"]
    sure_things = (p_none < 0.05) & (effect.abs() < 0.01)
    lost_causes = (p_none > 0.5) & (effect.abs() < 0.1 * p_none)
    persuadables = effect > 0.05
    sleeping_dogs = effect < -0.01
    for group in (sure_things, lost_causes, persuadables, sleeping_dogs):
        assert group.sum() > 50


def test_campaign_is_randomised(book: pd.DataFrame) -> None:
    campaign = book[book["treatment"].notna()]
    counts = campaign["treatment"].value_counts()
    assert set(counts.index) == {CONTROL, *ACTIONS}
    # At 200k customers each arm has thousands of customers.
    assert (counts * 200_000 / len(book) > 5_000).all()
    control = campaign["treatment"] == CONTROL
    for column in ("age", "tenure_years", "proposed_premium", "complaints_12m", "margin"):
        a, b = campaign.loc[control, column], campaign.loc[~control, column]
        standardised_difference = abs(a.mean() - b.mean()) / np.sqrt((a.var() + b.var()) / 2)
        assert standardised_difference < 0.05, column


def test_money_columns_are_consistent(book: pd.DataFrame) -> None:
    margin = book["annual_premium"] - book["expected_claims_cost"] - book["cost_to_serve"]
    np.testing.assert_allclose(book["margin"], margin, atol=0.011)
    change = (book["proposed_premium"] / book["annual_premium"] - 1) * 100
    np.testing.assert_allclose(book["premium_change_pct"], change, atol=0.006)
    assert (book["annual_premium"] > 0).all()
    assert (book.loc[book["claims_count_3y"] == 0, "claims_amount_3y"] == 0).all()
    assert (book.loc[book["claims_count_3y"] > 0, "years_loss_free"] < 3).all()


def test_same_seed_same_book_other_seed_other_book() -> None:
    pd.testing.assert_frame_equal(generate_book(2_000, seed=3), generate_book(2_000, seed=3))
    assert not generate_book(2_000, seed=3).equals(generate_book(2_000, seed=4))


def test_unknown_action_is_refused(book: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown action 'free_lunch'"):
        true_churn_probability(book.head(10), action="free_lunch")
