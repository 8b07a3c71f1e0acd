"""The suite's Hypothesis profile (tests/conftest.py): no test may depend on wall-clock speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def test_the_loaded_profile_has_no_deadline_and_no_speed_health_check() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


@given(st.integers())
def test_a_plain_given_test_inherits_the_profile(number: int) -> None:
    # @given without @settings must not bring back the 200 ms default deadline
    assert settings.default.deadline is None


def _profile_seen_with(env: dict[str, str]) -> str:
    code = ("import tests.conftest; from hypothesis import settings; d = settings.default; "
            "print(d.deadline, d.derandomize, d.database)")
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_ci_derandomises_and_a_developer_run_does_not() -> None:
    assert _profile_seen_with({"CI": "1"}) == "None True None"
    local = _profile_seen_with({})
    assert local.startswith("None False ")
