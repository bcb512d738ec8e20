"""Celery tasks of statement runs: one to send a run's waiting statements, one per statement."""

from celery import shared_task

from statements import services

DISPATCH_BATCH = 500


@shared_task(name="statements.run_dispatch", acks_late=True, bind=True)
def statement_run_dispatch(self, run_pk: int) -> int:
    """Queue every statement of the run still waiting, a task each, on the queue this task came from (so a
    run sent to a queue of its own stays on it); returns how many were queued."""
    queue = (self.request.delivery_info or {}).get("routing_key") or None  # None: the default queue
    queued = 0
    after = 0
    while ids := services.run_pending_item_ids(run_pk, after=after, limit=DISPATCH_BATCH):
        for item_pk in ids:
            statement_run_item.apply_async((item_pk,), queue=queue)
        queued += len(ids)
        after = ids[-1]
    return queued


@shared_task(name="statements.run_item", acks_late=True)
def statement_run_item(item_pk: int) -> str:
    """Make one statement of a run (done once, whatever how often this is delivered)."""
    return services.run_item_make(item_pk)
