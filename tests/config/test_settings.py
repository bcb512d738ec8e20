import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what a deployment would have: nothing the test session itself set (DEBUG, browser-test flags).
    ignored = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in ignored}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestProductionSettings:
    def test_production_refuses_to_start_without_a_secret_key(self):
        result = _manage("check", DEBUG="false")

        assert result.returncode != 0
        assert "SECRET_KEY must be set in production" in result.stderr

    def test_deployment_checks_pass_with_production_settings(self):
        result = _manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            DEBUG="false",
            SECRET_KEY="x" * 10 + "a-long-random-production-secret-0123456789-abcdefghij",
            ALLOWED_HOSTS="purse.example.org",
        )

        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize("value", ["maybe", "2"])
    def test_a_yes_no_variable_with_another_value_is_a_clear_error(self, value):
        result = _manage("check", DEBUG=value)

        assert result.returncode != 0
        assert f"DEBUG must be true or false, not '{value}'" in result.stderr


class TestDemoSecretKey:
    def test_demo_generates_a_secret_key_once_and_keeps_it(self, tmp_path):
        first = _manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY)",
            DEBUG="true",
            PURSE_VAR_DIR=str(tmp_path),
        )
        second = _manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY)",
            DEBUG="true",
            PURSE_VAR_DIR=str(tmp_path),
        )

        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == second.stdout.strip()
        assert len(first.stdout.strip()) >= 50
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
