"""The soak benchmark's short run (CI): call cycles in real time with bounded memory and fds,
and hook bounces in a call with no false flash or hang-up. The full run is `bench/soak.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.slow
@pytest.mark.serial  # flashes of 150 ms in a 100-250 ms window: a busy machine oversleeps them
@pytest.mark.timeout(300)
def test_soak_short():
    run = subprocess.run(
        [sys.executable, str(SOAK), "--short"], capture_output=True, text=True, timeout=280, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 false flashes" in run.stdout
    assert "cycles off script: 0" in run.stdout
