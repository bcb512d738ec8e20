"""Celery task of payment runs: a run is processed by one task at a time, from where it stopped."""

from celery import shared_task

from payments.services import runs as services


@shared_task(name="payments.run_process", acks_late=True)
def payment_run_process(run_pk: int) -> str:
    """Send a run's waiting payments and write its Bacs file; safe to deliver again."""
    return services.payment_run_process(run_pk).status
