"""The architecture of DESIGN.md, checked: import contracts and the ground-truth firewall."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports, "import-linter is part of the [dev] extra"
    done = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_training_code_never_reads_ground_truth() -> None:
    # Only the generator writes truth_ columns, the contract names them to refuse them, and
    # the simulator scores policies against them (evaluation, never fitting); everything
    # that learns from a table goes through the contract.
    allowed = {ROOT / "training" / name for name in ("synth", "contract", "simulation")}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "training").rglob("*.py")
        if not any(path == a or a in path.parents for a in allowed)
        and re.search(r"truth_", path.read_text())
    ]
    assert offenders == []
