"""The directory's Celery tasks (found by `autodiscover_tasks`)."""

from celery import shared_task

from directory.services.listings import services_stale_notify


@shared_task(name="directory.services_stale_notify", acks_late=True)
def services_stale_notify_task() -> int:
    """Tell providers, once, which of their services need a review; safe to deliver again."""
    return services_stale_notify()
