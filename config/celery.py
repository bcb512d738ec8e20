"""Purse's Celery app: settings from Django's (the CELERY_* names in config/settings.py), tasks found in each
app's `tasks.py`. Run workers with `celery -A config worker`; without a broker, tasks run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("purse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
