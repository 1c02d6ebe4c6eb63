"""The hold-out control group: a stable function of the customer id and a salt.

``blake2b(salt + "\\x1f" + customer_id)`` (8 bytes, big-endian) divided by 2**64 gives a
number in [0, 1); the customer is held out when it is below the share. The same customer
is in or out on every replica, every channel and every run, until the salt changes (a new
experiment). Python's ``hash()`` is salted per process and would not do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from engine.rules import ControlGroupRule

_SCALE = float(2**64)


def control_position(customer_id: str, salt: str) -> float:
    """Where the customer falls in [0, 1) for this salt."""
    digest = hashlib.blake2b(f"{salt}\x1f{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def in_control_group(customer_id: str, rule: ControlGroupRule | None) -> bool:
    return rule is not None and control_position(customer_id, rule.salt) < rule.share


def control_group_mask(
    customer_ids: Iterable[object], rule: ControlGroupRule | None, length: int
) -> npt.NDArray[np.bool_]:
    """``in_control_group`` for every id (ids are read as text)."""
    if rule is None or rule.share <= 0:
        return np.zeros(length, dtype=np.bool_)
    salt = f"{rule.salt}\x1f".encode()
    blake2b = hashlib.blake2b
    digests = b"".join(
        blake2b(salt + str(customer_id).encode(), digest_size=8).digest()
        for customer_id in customer_ids
    )
    positions = np.frombuffer(digests, dtype=">u8").astype(np.float64) / _SCALE
    if len(positions) != length:
        raise ValueError(f"{len(positions)} customer ids for {length} rows")
    return np.asarray(positions < rule.share, dtype=np.bool_)
