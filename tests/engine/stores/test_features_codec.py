"""The one-letter encoding of feature values round-trips every plain scalar exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.stores.errors import FeatureDataError
from engine.stores.features_codec import decode_value, encode_value

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(),
)


@given(scalars)
def test_round_trip_keeps_type_and_value(value: bool | int | float | str) -> None:
    back = decode_value(encode_value(value))
    assert type(back) is type(value)
    assert back == value


def test_float_text_is_shortest_round_trip() -> None:
    assert encode_value(0.1) == b"f0.1"
    assert encode_value(True) == b"b1"
    assert decode_value(b"finf") == math.inf


@pytest.mark.parametrize("raw", [b"", b"42", b"x1", b"i4.5", b"b2"])
def test_foreign_values_are_refused_with_the_field(raw: bytes) -> None:
    with pytest.raises(FeatureDataError, match="'age' of 'k'"):
        decode_value(raw, key="k", field="age")
