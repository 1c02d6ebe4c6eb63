"""The hold-out control group: stable, salted, the requested share, same row-wise and batched."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np

from engine.decision import control_group_mask, control_position, in_control_group
from engine.rules import ControlGroupRule

RULE = ControlGroupRule(share=0.1, salt="experiment-7")


def test_position_is_blake2b_of_salt_and_id() -> None:
    digest = hashlib.blake2b(b"experiment-7\x1fC00000042", digest_size=8).digest()
    assert control_position("C00000042", "experiment-7") == int.from_bytes(digest, "big") / 2**64


def test_stable_across_processes() -> None:
    # Python's hash() is salted per process; the control group must not be.
    code = "from engine.decision import control_position; print(control_position('C1', 's'))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 1
    assert float(runs.pop()) == control_position("C1", "s")


def test_share_and_salt() -> None:
    ids = [f"C{i:08d}" for i in range(20_000)]
    mask = control_group_mask(ids, RULE, len(ids))
    assert abs(mask.mean() - 0.1) < 0.01
    other = control_group_mask(ids, ControlGroupRule(0.1, "experiment-8"), len(ids))
    assert abs((mask & other).mean() - 0.01) < 0.004  # independent draws per salt
    assert [in_control_group(i, RULE) for i in ids[:500]] == mask[:500].tolist()


def test_no_rule_or_zero_share_holds_nobody_out() -> None:
    assert not in_control_group("C1", None)
    assert not control_group_mask(["C1", "C2"], None, 2).any()
    assert not control_group_mask(["C1", "C2"], ControlGroupRule(0.0, "s"), 2).any()
    assert control_group_mask(np.array([1, 2], dtype=object), ControlGroupRule(1.0, "s"), 2).all()
