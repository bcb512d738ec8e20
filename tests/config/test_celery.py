"""Celery: eager, in-process, on the embedded default; queued to the broker when one is configured."""

import json

import pytest
from celery import shared_task

from config.celery import app
from tests.config.test_settings import _manage


@shared_task
def _double(number: int) -> int:
    return number * 2


class TestCelery:
    def test_without_a_broker_tasks_run_in_the_process_that_asks(self):
        assert app.conf.task_always_eager is True
        assert _double.delay(21).get(timeout=1) == 42

    def test_a_failing_task_raises_where_it_was_asked_for(self):
        @shared_task
        def _fails() -> None:
            raise ValueError("no")

        with pytest.raises(ValueError, match="no"):
            _fails.delay()

    def test_with_a_broker_tasks_are_queued_and_acknowledged_only_once_run(self):
        code = (
            "import json; from config.celery import app; c = app.conf; "
            "print(json.dumps([c.broker_url, c.task_always_eager, c.task_acks_late, "
            "c.worker_prefetch_multiplier]))"
        )
        result = _manage("shell", "-c", code, DEBUG="true", CELERY_BROKER_URL="redis://127.0.0.1:6379/3")

        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == [
            "redis://127.0.0.1:6379/3",
            False,
            True,
            1,
        ]
