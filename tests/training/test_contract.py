"""Tests for the data contract (training/contract/): loading, conversion and refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.errors import ContractDefinitionError, DataContractError
from training.contract import (
    CONTRACTS_DIR,
    Contract,
    ContractTable,
    load_contract,
    load_table,
    parse_contract,
    validate_frame,
)

INSURANCE = CONTRACTS_DIR / "insurance_book.yaml"

TELCO_YAML = """\
name: telco
description: A telecom churn table, as exported from a CRM.
missing_values: []
columns:
  customerID: {kind: string}
  Churn: {kind: boolean, true_values: "Yes"}
  SeniorCitizen: {kind: boolean}
  Partner: {kind: boolean, true_values: ["Yes"], false_values: ["No"]}
  Contract: {kind: categorical, values: [Month-to-month, One year, Two year]}
  InternetService: {kind: categorical}
  tenure: {kind: integer, min: 0, max: 100}
  MonthlyCharges: {kind: float, min: 0, min_exclusive: true}
  TotalCharges: {kind: float, min: 0, nullable: true}
roles:
  id: customerID
  label: Churn
  premium: MonthlyCharges
  features:
    - SeniorCitizen
    - Partner
    - Contract
    - InternetService
    - tenure
    - MonthlyCharges
    - TotalCharges
"""


def telco_frame() -> pd.DataFrame:
    """Six customers, every column as text, like the real export (blank TotalCharges)."""
    return pd.DataFrame(
        {
            "customerID": [
                "7590-VHVEG",
                "5575-GNVDE",
                "3668-QPYBK",
                "7795-CFOCW",
                "9237-HQITU",
                "9305-CDSKC",
            ],
            "gender": ["Female", "Male", "Male", "Male", "Female", "Female"],
            "SeniorCitizen": ["0", "0", "1", "0", "0", "1"],
            "Partner": ["Yes", "No", "No", "No", "No", "Yes"],
            "tenure": ["1", "34", "2", "45", "0", "8"],
            "Contract": [
                "Month-to-month",
                "One year",
                "Month-to-month",
                "One year",
                "Two year",
                "Month-to-month",
            ],
            "InternetService": ["DSL", "DSL", "DSL", "DSL", "Fiber optic", "Fiber optic"],
            "PaymentMethod": ["Electronic check"] * 6,
            "MonthlyCharges": ["29.85", "56.95", "53.85", "42.30", "70.70", "99.65"],
            "TotalCharges": ["29.85", "1889.5", "108.15", "1840.75", " ", "820.5"],
            "Churn": ["No", "No", "Yes", "No", "Yes", "Yes"],
        }
    )


def insurance_frame() -> pd.DataFrame:
    """Four policyholders with every column of the synthetic book, truth included."""
    frame = pd.DataFrame(
        {
            "customer_id": ["C00000001", "C00000002", "C00000003", "C00000004"],
            "segment": ["mass", "vip", "affiliated", "mass"],
            "age": [18, 45, 95, 60],
            "region": ["north", "capital", "east", "west"],
            "acquisition_channel": ["agent", "broker", "direct_web", "bank_partner"],
            "tenure_years": [0, 12, 30, 5],
            "n_products": [1, 3, 2, 1],
            "has_motor": [True, True, False, True],
            "has_home": [False, True, True, False],
            "has_life": [False, True, False, False],
            "annual_premium": [420.0, 1830.5, 760.25, 515.0],
            "proposed_premium": [472.5, 1830.5, 740.0, 530.0],
            "new_business_premium": [450.0, 1700.0, 800.0, 500.0],
            "premium_change_pct": [12.5, 0.0, -2.66, 2.91],
            "claims_count_3y": [0, 2, 0, 1],
            "claims_amount_3y": [0.0, 5400.0, 0.0, 800.0],
            "years_loss_free": [0, 1, 25, 2],
            "complaints_12m": [0, 1, 0, 3],
            "service_calls_12m": [1, 4, 0, 7],
            "late_payments_12m": [0, 0, 0, 2],
            "satisfaction": [7, 9, 10, 1],
            "expected_claims_cost": [250.0, 1100.0, 300.0, 480.0],
            "cost_to_serve": [40.0, 90.0, 35.0, 60.0],
            "margin": [130.0, 640.5, 425.25, -25.0],
            "email_opt_in": [True, False, True, True],
            "noise_1": [0.12, -1.3, 0.8, 2.2],
            "noise_2": [-0.5, 0.0, 1.1, 0.3],
            "renewal_month": [1, 6, 12, 3],
            "churned": [0, 1, 0, 1],
            "treatment": ["control", None, "loyalty_discount_10", "premium_freeze"],
        }
    )
    frame["truth_loyalty"] = [0.1, 0.9, 0.5, 0.2]
    frame["truth_p_churn__none"] = [0.2, 0.1, 0.05, 0.6]
    frame["truth_p_churn__premium_freeze"] = [0.15, 0.1, 0.05, 0.4]
    return frame


@pytest.fixture
def telco(tmp_path: Path) -> Contract:
    path = tmp_path / "telco.yaml"
    path.write_text(TELCO_YAML, encoding="utf-8")
    return load_contract(path)


def refusal(frame: pd.DataFrame, contract: Contract) -> DataContractError:
    with pytest.raises(DataContractError) as caught:
        validate_frame(frame, contract)
    return caught.value


def contract_refusal(tmp_path: Path, text: str) -> ContractDefinitionError:
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractDefinitionError) as caught:
        load_contract(path)
    assert str(path) in str(caught.value)
    return caught.value


# --- the insurance book -------------------------------------------------------------------


def test_insurance_contract_validates_the_book_columns() -> None:
    contract = load_contract(INSURANCE)
    table = validate_frame(insurance_frame(), contract)

    assert not [c for c in table.frame.columns if c.startswith("truth_")]
    assert len(table) == 4
    assert table.label.tolist() == [0, 1, 0, 1]
    assert table.label.dtype == np.int8
    assert table.ids.tolist() == ["C00000001", "C00000002", "C00000003", "C00000004"]
    assert table.frame["age"].dtype == np.int64
    assert table.frame["has_motor"].tolist() == [1, 1, 0, 1]
    assert isinstance(table.frame["segment"].dtype, pd.CategoricalDtype)
    assert list(table.frame["region"].cat.categories) == [
        "north",
        "south",
        "east",
        "west",
        "capital",
    ]
    assert table.frame["treatment"].isna().tolist() == [False, True, False, False]
    # premium_change_pct is derived by the engine from the offered premium instead.
    excluded = {"customer_id", "churned", "treatment", "premium_change_pct"}
    observable = {c for c in insurance_frame().columns if not c.startswith("truth_")}
    assert list(table.features.columns) == contract.feature_columns
    assert set(contract.feature_columns) == observable - excluded
    assert table.categorical_features == ["segment", "region", "acquisition_channel"]
    assert "noise_1" in table.numeric_features
    assert "renewal_month" in table.numeric_features
    assert table.column_for("premium") == "annual_premium"
    assert table.column_for("claims_cost") == "expected_claims_cost"
    assert table.column_for("outcome") == "churned"
    assert contract.roles.treatment is not None
    assert contract.roles.treatment.control == "control"
    assert table.has_role("segment")


def test_insurance_contract_declares_its_price_actions() -> None:
    treatment = load_contract(INSURANCE).roles.treatment
    assert treatment is not None
    assert treatment.prices["loyalty_discount_10"].discount == 0.10
    assert treatment.prices["premium_freeze"].freeze is True
    assert "bundle_discount" not in treatment.prices


def _treatment_entry_replaced(key: str, value: str) -> str:
    """The insurance contract with ``roles.treatment.<key>`` (and the treatment entries
    after it) replaced by ``<key>: <value>``."""
    text = INSURANCE.read_text(encoding="utf-8")
    start = text.index(f"    {key}:")
    end = text.index("  segment: segment")
    return text[:start] + f"    {key}: {value}\n" + text[end:]


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ("{loyalty_discount_5: {discount: 1.5}}", "less than 1"),
        ("{loyalty_discount_5: {}}", "either a discount"),
        ("{loyalty_discount_5: {discount: 0.1, freeze: true}}", "either a discount"),
        ("{coupon: {discount: 0.1}}", "roles.treatment.prices.coupon: not one of the values"),
    ],
)
def test_bad_price_actions_are_refused(tmp_path: Path, prices: str, message: str) -> None:
    error = contract_refusal(tmp_path, _treatment_entry_replaced("prices", prices))
    assert message in str(error)


def test_insurance_contract_declares_what_its_targeted_actions_act_through() -> None:
    treatment = load_contract(INSURANCE).roles.treatment
    assert treatment is not None
    assert treatment.modifiers["payment_plan"] == ["late_payments_12m"]
    assert "loyalty_discount_5" not in treatment.modifiers


@pytest.mark.parametrize(
    ("modifiers", "message"),
    [
        ("{coupon: [age]}", "roles.treatment.modifiers.coupon: not one of the values"),
        ("{control: [age]}", "roles.treatment.modifiers.control: the control arm has no effect"),
        (
            "{payment_plan: [age, late_payments]}",
            "roles.treatment.modifiers.payment_plan[1]: 'late_payments' is not one of "
            "roles.features (did you mean 'late_payments_12m'?)",
        ),
        ("{payment_plan: late_payments_12m}", "roles.treatment.modifiers.payment_plan"),
    ],
)
def test_bad_effect_modifiers_are_refused(tmp_path: Path, modifiers: str, message: str) -> None:
    error = contract_refusal(tmp_path, _treatment_entry_replaced("modifiers", modifiers))
    assert message in str(error)


def test_insurance_contract_accepts_the_synthetic_generator() -> None:
    from training.synth import generate_book

    book = generate_book(customers=300, seed=7)
    table = validate_frame(book, load_contract(INSURANCE))
    assert len(table) == 300
    assert set(table.label.unique()) <= {0, 1}


# --- a messy table from elsewhere -----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_telco_table_loads_from_file(tmp_path: Path, telco: Contract, suffix: str) -> None:
    path = tmp_path / f"telco{suffix}"
    frame = telco_frame()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)

    table = load_table(path, telco)

    assert isinstance(table, ContractTable)
    assert "gender" not in table.frame.columns
    assert "PaymentMethod" not in table.frame.columns
    assert table.ids.tolist()[0] == "7590-VHVEG"
    assert table.label.tolist() == [0, 0, 1, 0, 1, 1]
    assert table.frame["Partner"].tolist() == [1, 0, 0, 0, 0, 1]
    assert table.frame["SeniorCitizen"].tolist() == [0, 0, 1, 0, 0, 1]
    assert table.frame["tenure"].dtype == np.int64
    assert table.frame["TotalCharges"].isna().tolist() == [False] * 4 + [True, False]
    assert table.frame["MonthlyCharges"].iloc[0] == pytest.approx(29.85)
    assert table.frame["Contract"].cat.categories.tolist() == [
        "Month-to-month",
        "One year",
        "Two year",
    ]
    assert table.frame["InternetService"].cat.categories.tolist() == ["DSL", "Fiber optic"]
    assert table.categorical_features == ["Contract", "InternetService"]
    assert table.numeric_features == [
        "SeniorCitizen",
        "Partner",
        "tenure",
        "MonthlyCharges",
        "TotalCharges",
    ]
    assert table.column_for("premium") == "MonthlyCharges"
    assert not table.has_role("treatment")
    assert table.fingerprint == validate_frame(telco_frame(), telco).fingerprint


def test_fingerprint_is_stable_and_sees_every_value(telco: Contract) -> None:
    first = validate_frame(telco_frame(), telco).fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert validate_frame(telco_frame(), telco).fingerprint == first
    changed = telco_frame()
    changed.loc[3, "tenure"] = "46"
    assert validate_frame(changed, telco).fingerprint != first


def test_native_dtypes_are_accepted(telco: Contract) -> None:
    frame = telco_frame().assign(
        SeniorCitizen=[False, False, True, False, False, True],
        tenure=[1.0, 34.0, 2.0, 45.0, 0.0, 8.0],
        MonthlyCharges=[29.85, 56.95, 53.85, 42.3, 70.7, 99.65],
        TotalCharges=[29.85, 1889.5, 108.15, 1840.75, np.nan, 820.5],
    )
    table = validate_frame(frame, telco)
    assert table.frame["SeniorCitizen"].tolist() == [0, 0, 1, 0, 0, 1]
    assert table.frame["tenure"].tolist() == [1, 34, 2, 45, 0, 8]
    assert table.frame["tenure"].dtype == np.int64


def test_integer_ids_and_boolean_label() -> None:
    contract = parse_contract(
        {
            "name": "ints",
            "columns": {
                "id": {"kind": "integer"},
                "left": {"kind": "boolean"},
                "x": {"kind": "float"},
            },
            "roles": {"id": "id", "label": "left", "features": ["x"]},
        }
    )
    frame = pd.DataFrame({"id": [10, 11, 12], "left": ["true", "False", "1"], "x": [1, 2, 3]})
    table = validate_frame(frame, contract)
    assert table.ids.tolist() == [10, 11, 12]
    assert table.label.tolist() == [1, 0, 1]


# --- refusing bad data -------------------------------------------------------------------------


def test_text_in_numeric_column_is_refused_with_rows_and_file_lines(
    tmp_path: Path, telco: Contract
) -> None:
    frame = telco_frame()
    frame.loc[[1, 3], "MonthlyCharges"] = ["abc", "12,50"]
    path = tmp_path / "telco.csv"
    frame.to_csv(path, index=False)

    with pytest.raises(DataContractError) as caught:
        load_table(path, telco)

    message = str(caught.value)
    assert str(path) in message
    assert "column 'MonthlyCharges': 2 rows with text that is not a number: rows 2, 4" in message
    assert "(file lines 3, 5)" in message
    assert "'abc', '12,50'" in message
    assert caught.value.column == "MonthlyCharges"
    assert caught.value.rows == [2, 4]


def test_out_of_range_value_is_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[2, "tenure"] = "101"
    frame.loc[5, "MonthlyCharges"] = "0"
    message = str(refusal(frame, telco))
    assert "column 'tenure': 1 row with a value out of range (must be <= 100): row 3" in message
    assert (
        "column 'MonthlyCharges': 1 row with a value out of range (must be > 0): row 6" in message
    )


def test_fractional_value_in_integer_column_is_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[0, "tenure"] = "2.5"
    error = refusal(frame, telco)
    assert "column 'tenure': 1 row with a value that is not a whole number: row 1" in str(error)
    assert "'2.5'" in str(error)


def test_duplicate_ids_are_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[4, "customerID"] = "7590-VHVEG"
    error = refusal(frame, telco)
    assert "column 'customerID': 2 rows with an id that is not unique: rows 1, 5" in str(error)
    assert error.rows == [1, 5]


def test_undeclared_missing_values_are_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[1, "tenure"] = ""
    frame.loc[3, "Contract"] = None
    message = str(refusal(frame, telco))
    assert (
        "column 'tenure': 1 row with a missing value (the column is not nullable): row 2" in message
    )
    assert "column 'Contract': 1 row with a missing value" in message
    assert "row 4" in message


def test_unexpected_value_in_a_01_label_is_refused() -> None:
    contract = load_contract(INSURANCE)
    frame = insurance_frame()
    frame["churned"] = [0, 1, 2, 1]
    message = str(refusal(frame, contract))
    assert "column 'churned': 1 row with a value other than true/false or 1/0: row 3" in message
    assert "values 2" in message


def test_label_value_outside_the_declared_set_is_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[[0, 4], "Churn"] = ["Maybe", "yes"]
    message = str(refusal(frame, telco))
    assert "column 'Churn': 2 rows with a value other than 'Yes', 'No': rows 1, 5" in message
    assert "'Maybe', 'yes'" in message


def test_categorical_value_outside_the_allowed_set_is_refused(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[2, "Contract"] = "Three year"
    message = str(refusal(frame, telco))
    assert "column 'Contract': 1 row with a value not among the allowed" in message
    assert "row 3; values 'Three year'" in message


def test_absent_columns_are_all_listed_with_did_you_mean(telco: Contract) -> None:
    frame = telco_frame().rename(columns={"TotalCharges": "Total_Charges", "tenure": "Tenure"})
    frame = frame.drop(columns=["Partner"])
    error = refusal(frame, telco)
    message = str(error)
    assert "required by the contract but absent from the table" in message
    assert "'Partner'" in message
    assert "'tenure' (did you mean 'Tenure'?)" in message
    assert "'TotalCharges' (did you mean 'Total_Charges'?)" in message
    assert error.column == "Partner"


def test_a_column_given_twice_is_refused(tmp_path: Path, telco: Contract) -> None:
    path = tmp_path / "twice.csv"
    text = telco_frame().to_csv(index=False)
    header, rest = text.split("\n", 1)
    path.write_text(header.replace("gender", "tenure") + "\n" + rest, encoding="utf-8")
    with pytest.raises(DataContractError, match="column 'tenure': appears 2 times"):
        load_table(path, telco)


def test_all_problems_are_reported_in_one_error(telco: Contract) -> None:
    frame = telco_frame().drop(columns=["InternetService"])
    frame.loc[0, "tenure"] = "abc"
    frame.loc[1, "Churn"] = "Maybe"
    frame.loc[2, "Contract"] = "Lifetime"
    frame.loc[3, "customerID"] = "7590-VHVEG"
    frame.loc[4, "MonthlyCharges"] = "-5"
    lines = str(refusal(frame, telco)).splitlines()

    assert "6 problems" in lines[0]
    assert "1-based data rows, header not counted" in lines[0]
    problems = lines[1:]
    assert len(problems) == 6
    assert problems[0] == (
        "  - column required by the contract but absent from the table: 'InternetService'"
    )
    assert any("'InternetService'" in p and "absent" in p for p in problems)
    assert any("column 'tenure'" in p and "row 1" in p for p in problems)
    assert any("column 'Churn'" in p and "row 2" in p for p in problems)
    assert any("column 'Contract'" in p and "row 3" in p for p in problems)
    assert any("column 'MonthlyCharges'" in p and "row 5" in p for p in problems)
    assert any("column 'customerID'" in p and "rows 1, 4" in p for p in problems)


def test_many_bad_rows_show_five_examples_and_the_count(telco: Contract) -> None:
    frame = pd.concat([telco_frame()] * 3, ignore_index=True)
    frame["customerID"] = [f"C{i:03d}" for i in range(len(frame))]
    frame["tenure"] = "x"
    message = str(refusal(frame, telco))
    assert "18 rows with text that is not a number, the first 5: rows 1, 2, 3, 4, 5" in message


def test_truth_columns_are_dropped_but_never_mapped(tmp_path: Path) -> None:
    text = INSURANCE.read_text(encoding="utf-8")
    text = text.replace("    - noise_2\n", "    - noise_2\n    - truth_loyalty\n")
    text = text.replace(
        "  noise_2: {kind: float}\n", "  noise_2: {kind: float}\n  truth_loyalty: {kind: float}\n"
    )
    error = contract_refusal(tmp_path, text)
    assert "roles.features[25]: column 'truth_loyalty' is ground truth" in str(error)
    assert "columns.truth_loyalty" in str(error)


# --- refusing bad files --------------------------------------------------------------------


def test_unreadable_files_are_refused(tmp_path: Path, telco: Contract) -> None:
    with pytest.raises(DataContractError, match=r"missing\.csv: cannot read the table: no such"):
        load_table(tmp_path / "missing.csv", telco)
    (tmp_path / "folder.parquet").mkdir()
    with pytest.raises(DataContractError, match="is a directory"):
        load_table(tmp_path / "folder.parquet", telco)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet")
    with pytest.raises(DataContractError, match=r"garbage\.parquet: cannot read the table"):
        load_table(garbage, telco)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("customerID,tenure\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(DataContractError, match=r"ragged\.csv: cannot read the table as csv"):
        load_table(ragged, telco)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataContractError, match="no header line"):
        load_table(empty, telco)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(telco_frame().columns) + "\n", encoding="utf-8")
    with pytest.raises(DataContractError, match="no data rows"):
        load_table(header_only, telco)


def test_unknown_extension_is_refused(tmp_path: Path, telco: Contract) -> None:
    path = tmp_path / "telco.xlsx"
    path.write_bytes(b"")
    with pytest.raises(DataContractError, match=r"unknown file extension '\.xlsx'"):
        load_table(path, telco)


# --- refusing bad contracts ------------------------------------------------------------------


def test_malformed_yaml_is_refused_with_file_and_line(tmp_path: Path) -> None:
    error = contract_refusal(tmp_path, "name: x\ncolumns: {a: [\nroles: 3\n")
    assert "malformed YAML" in str(error)
    assert "line " in str(error)


def test_missing_contract_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractDefinitionError, match="cannot read the contract file"):
        load_contract(tmp_path / "nope.yaml")


def test_unknown_key_is_refused_with_its_path(tmp_path: Path) -> None:
    text = TELCO_YAML.replace(
        "tenure: {kind: integer, min: 0,", "tenure: {kind: integer, minimum: 0,"
    )
    error = contract_refusal(tmp_path, text)
    assert "columns.tenure.minimum: unknown key 'minimum'" in str(error)
    assert error.column == "tenure"


def test_unknown_role_and_missing_role_are_refused(tmp_path: Path) -> None:
    text = TELCO_YAML.replace("  premium: MonthlyCharges", "  premum: MonthlyCharges")
    text = text.replace("  id: customerID\n", "")
    message = str(contract_refusal(tmp_path, text))
    assert "roles.premum: unknown role 'premum' (did you mean 'premium'?)" in message
    assert "roles.id: missing required role 'id'" in message


def test_contract_errors_name_the_key(tmp_path: Path) -> None:
    text = TELCO_YAML.replace("kind: categorical}", "kind: categorcal}")
    text = text.replace("label: Churn", "label: Churned")
    message = str(contract_refusal(tmp_path, text))
    assert "columns.InternetService: Input tag 'categorcal'" in message

    text = TELCO_YAML.replace("label: Churn", "label: Churned")
    text = text.replace(
        "TotalCharges: {kind: float, min: 0,", "TotalCharges: {kind: float, min: 5, max: 1,"
    )
    message = str(contract_refusal(tmp_path, text))
    assert "columns.TotalCharges: min 5 is greater than max 1" in message

    text = TELCO_YAML.replace("label: Churn", "label: Churned")
    message = str(contract_refusal(tmp_path, text))
    assert "roles.label: column 'Churned' is not declared under columns" in message
    assert "(did you mean 'Churn'?)" in message


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    text = TELCO_YAML.replace("  tenure: {kind", "  Contract: {kind: string}\n  tenure: {kind")
    message = str(contract_refusal(tmp_path, text))
    assert "key 'Contract' is written twice" in message


def test_unquoted_yes_gets_a_hint(tmp_path: Path) -> None:
    text = TELCO_YAML.replace('true_values: "Yes"', "true_values: [Yes]")
    message = str(contract_refusal(tmp_path, text))
    assert "columns.Churn.true_values[0]" in message
    assert "quote it" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"label": "x"}, "roles.label: column 'x' is float; label must be boolean"),
        ({"features": ["x", "x"]}, "roles.features[1]: 'x' is listed twice"),
        ({"features": ["x", "y"]}, "roles.features: 'y' is the label column, not a feature"),
        ({"treatment": "x"}, "roles.treatment.column: column 'x' is float"),
        ({"features": ["y"]}, "columns.x: declared but used by no role"),
    ],
)
def test_inconsistent_roles_are_refused(change: dict[str, Any], expected: str) -> None:
    roles: dict[str, Any] = {"id": "id", "label": "y", "features": ["x"], **change}
    data = {
        "name": "small",
        "columns": {"id": {"kind": "string"}, "y": {"kind": "boolean"}, "x": {"kind": "float"}},
        "roles": roles,
    }
    with pytest.raises(ContractDefinitionError) as caught:
        parse_contract(data)
    assert expected in str(caught.value)


def test_false_values_are_derived_or_must_be_declared() -> None:
    def boolean(spec: dict[str, Any]) -> Contract:
        columns = {"id": {"kind": "string"}, "y": {"kind": "boolean", **spec}}
        roles = {"id": "id", "label": "y", "features": ["y2"]}
        columns["y2"] = {"kind": "float"}
        return parse_contract({"name": "b", "columns": columns, "roles": roles})

    spec = boolean({"true_values": ["YES", "Y"]}).columns["y"]
    assert spec.kind == "boolean"
    assert spec.false_values == ["NO", "N"]
    with pytest.raises(ContractDefinitionError, match="declare false_values"):
        boolean({"true_values": "Left"})
    with pytest.raises(ContractDefinitionError, match="both true and false"):
        boolean({"true_values": ["a"], "false_values": ["a"]})


def test_treatment_may_be_missing_but_not_unknown() -> None:
    contract = load_contract(INSURANCE)
    frame = insurance_frame()
    frame["treatment"] = [None, "", "control", "discount_99"]
    message = str(refusal(frame, contract))
    assert "column 'treatment': 1 row with a value not among the allowed" in message
    assert "row 4; values 'discount_99'" in message
    assert "missing" not in message


def test_declared_missing_texts_count_as_missing(telco: Contract) -> None:
    frame = telco_frame()
    frame.loc[0, "TotalCharges"] = "NA"
    with pytest.raises(DataContractError, match="row 1; values 'NA'"):
        validate_frame(frame, telco)
    lenient = telco.model_copy(update={"missing_values": ["NA"]})
    table = validate_frame(frame, lenient)
    assert table.frame["TotalCharges"].isna().tolist() == [True, False, False, False, True, False]
