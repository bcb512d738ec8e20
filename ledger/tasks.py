"""The ledger's Celery tasks (found by `autodiscover_tasks`)."""

from ledger.reconciliation.tasks import import_match_task

__all__ = ["import_match_task"]
