"""Celery task of large statement imports: matched batch by batch, resumable, one worker at a time."""

from celery import shared_task

from ledger.reconciliation import services


@shared_task(name="ledger.reconciliation_import_match", acks_late=True)
def import_match_task(import_pk: int) -> str:
    return services.import_match(import_pk).status
