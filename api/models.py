"""The API layer's own table: the first response to each idempotent POST (see api/idempotency.py)."""

from django.db import models


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyRecord(models.Model):
    """One caller's use of one Idempotency-Key: the request it named and, once done, the response it got."""

    caller = models.CharField(
        max_length=100, help_text="Who sent it: `user:<pk>`, or the API key's label and pk."
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="The path and query string the key was first used on.")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the raw request body, in hex.")
    state = models.CharField(
        max_length=20, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    response_content_type = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="api_idempotency_one_per_caller_and_key"),
            models.CheckConstraint(
                condition=models.Q(state=IdempotencyState.IN_PROGRESS)
                | models.Q(response_status__isnull=False),
                name="api_idempotency_done_has_a_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key} ({self.state})"
