"""Idempotency-Key for every POST of the API (api.md, "Conventions"): one mechanism, for every route.

A caller that sends `Idempotency-Key: <key>` with a POST may send the same request again (after a timeout,
say) and is answered with the first response, without the request running twice:

* The first request with a key inserts an `in_progress` IdempotencyRecord and commits it at once, in its own
  transaction, before the view runs. The unique constraint on (caller, key) decides races: on PostgreSQL a
  concurrent insert of the same key waits for that short transaction and then fails, so exactly one request
  runs the view. The view then runs in its own transactions as it always does; its response (status, body,
  content type) is stored and the record marked `done`.
* A later request with the same key, method, path and body (SHA-256 of the raw bytes) is answered with the
  stored response and `Idempotent-Replayed: true`, and changes nothing. A 4xx is replayed like a 2xx (the same
  request would get the same answer).
* The same key with a different body, method or path: 422 `idempotency_key_reused`.
* The same key while the first request is still running: 409 `idempotency_request_in_progress` with
  `Retry-After: 1`; the retry then gets the replay. So three copies sent at once run the view once: the others
  get a 409 or, if they arrive after it finished, the replay.
* A 5xx, or an exception the view did not handle, is not stored: the record is deleted, so a retry runs again.
* Keys are scoped to the caller (the API key when the request carries one, otherwise the user), so two
  callers' keys never collide, and last 24 hours: an older record is deleted and the key starts afresh.
  `python manage.py purge_idempotency_records` deletes the expired ones.
* A key is 1 to 255 printable ASCII characters; anything else is 400 `invalid_idempotency_key`.

The record must be committed before the view runs, so this relies on ATOMIC_REQUESTS being off (it is): the
view's services open their own transactions.

Requests that fail authentication, permission or throttling checks (401, 403, 429 from DRF's checks) never
reach the mechanism and are not recorded: they change nothing and are answered afresh. A request without the
header, and every method but POST, behave as if this module did not exist.

Why a view mixin applied in the URLconf: the caller is known only once DRF has authenticated the request,
which happens inside the view, so a Django middleware would have to authenticate everything a second time
(and record a token's use twice). `idempotent_routes()` wraps every DRF view of `api/urls.py`'s
`urlpatterns` in `IdempotentPostMixin`, so every POST route, including ones added later, goes through it
without each view having to remember; `tests/api/test_idempotency.py` checks that no POST route escapes.
"""

import hashlib
import inspect
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.schemas.inspectors import DefaultSchema
from rest_framework.views import APIView

from api.models import IdempotencyRecord, IdempotencyState
from ledger.errors import DomainError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
WINDOW = timedelta(hours=24)


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    message = f"An Idempotency-Key is 1 to {KEY_MAX_LENGTH} printable ASCII characters."
    http_status = 400


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = (
        "That Idempotency-Key was already used, in the last 24 hours, for a different request. Use a new key "
        "for a new request."
    )


class IdempotencyRequestInProgress(DomainError):
    code = "idempotency_request_in_progress"
    message = "A request with that Idempotency-Key is still being handled. Try again in a second."
    http_status = 409


class _Replay(Exception):
    """Raised from `initial()` to answer with a stored response instead of running the handler."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replay")
        self.response = response


# The record table ----------------------------------------------------------------------------------------


def idempotency_records_purge(*, now: Any = None) -> int:
    """Delete the records older than the 24-hour window; return how many went."""
    cutoff = (now or timezone.now()) - WINDOW
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _claim(*, caller: str, key: str, method: str, path: str, request_hash: str) -> IdempotencyRecord | None:
    """Insert and commit an in_progress record for this key; return it, or None after raising for a known key.

    Raises _Replay (the stored response), IdempotencyKeyReused or IdempotencyRequestInProgress when the key
    is already in use within the window."""
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    caller=caller,
                    key=key,
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    created_at=now,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if existing is None:
            continue  # deleted since (a 5xx, or expired and purged): try the insert again
        if existing.created_at < now - WINDOW:
            # Expired: the key starts afresh. Deleting by pk and created_at means two requests racing here
            # delete it once; the unique constraint then lets exactly one of them insert.
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if (existing.method, existing.path, existing.request_hash) != (method, path, request_hash):
            raise IdempotencyKeyReused()
        if existing.state != IdempotencyState.DONE:
            raise IdempotencyRequestInProgress()
        raise _Replay(_replay_response(existing))


def _replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.response_status, content_type=record.response_content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _store(record: IdempotencyRecord, response: HttpResponseBase) -> None:
    """Keep the response for replays; forget the key instead when it must not be replayed (5xx, streaming)."""
    if response.status_code >= 500 or response.streaming:
        _forget(record)
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).update(
        state=IdempotencyState.DONE,
        response_status=response.status_code,
        response_body=response.content,
        response_content_type=response.get("Content-Type", ""),
    )


def _forget(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).delete()


# The request ---------------------------------------------------------------------------------------------


def _valid_key(raw: str) -> str:
    if not 1 <= len(raw) <= KEY_MAX_LENGTH or not all(" " <= char <= "~" for char in raw):
        raise InvalidIdempotencyKey()
    return raw


def _caller(request: Request) -> str | None:
    """Whose keys these are: the API key the request carries, else the user; None when nobody signed in."""
    auth = request.auth
    if auth is not None and hasattr(auth, "_meta") and auth.pk is not None:
        return f"{auth._meta.label_lower}:{auth.pk}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def _request_hash(django_request: Any) -> str:
    """SHA-256 of what the request asks: its raw body, read before anything parses it (DRF's parsers then
    read Django's cached copy). A multipart upload (a statement file) is hashed by its fields and its files'
    names and contents instead: its boundary changes on every send, and a large file is not held in memory
    (Django streams it to a temporary file; DRF then reads the parsed form)."""
    if not (django_request.content_type or "").startswith("multipart/form-data"):
        return hashlib.sha256(django_request.body).hexdigest()
    digest = hashlib.sha256(b"multipart\x00")
    for name in sorted(django_request.POST):
        for value in django_request.POST.getlist(name):
            digest.update(f"{name}\x00{value}\x00".encode())
    for name in sorted(django_request.FILES):
        for upload in django_request.FILES.getlist(name):
            digest.update(f"{name}\x00{upload.name}\x00".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            digest.update(b"\x00")
    return digest.hexdigest()


class IdempotentPostMixin:
    """Makes a DRF view's POST honour Idempotency-Key (see the module docstring); see idempotent_routes."""

    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raw_key = request.headers.get(HEADER) if request.method == "POST" else None
        request_hash = _request_hash(request._request) if raw_key is not None else ""
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authentication, permissions, throttles
        # Every API route passes here. No id has a NUL character, and PostgreSQL refuses one in a query (a
        # 500): a path naming one (`/invoices/a%00/`) names nothing.
        if any("\x00" in value for value in kwargs.values() if isinstance(value, str)):
            raise NotFound()
        if raw_key is None:
            return
        key = _valid_key(raw_key)
        caller = _caller(request)
        if caller is None:
            return
        self._idempotency_record = _claim(
            caller=caller,
            key=key,
            method=request.method,
            path=request.get_full_path(),
            request_hash=request_hash,
        )

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, _Replay):
            return exc.response
        response = super().handle_exception(exc)  # type: ignore[misc]
        if isinstance(exc, IdempotencyRequestInProgress):
            response["Retry-After"] = "1"
        return response

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            _store(record, response)
        return response

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except BaseException:
            # An exception nothing turned into a response (a bug: Django answers 500): run again on retry.
            if self._idempotency_record is not None:
                _forget(self._idempotency_record)
                self._idempotency_record = None
            raise


class IdempotentAutoSchema(AutoSchema):
    """Documents the Idempotency-Key header on every POST operation."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Makes a retry safe: the same key with the same body within 24 hours answers the "
                        "first response again (with Idempotent-Replayed: true) and changes nothing; with a "
                        "different body, 422 idempotency_key_reused; while the first is still running, 409 "
                        "idempotency_request_in_progress. 1 to 255 printable ASCII characters."
                    ),
                )
            )
        return parameters


# The URLconf ---------------------------------------------------------------------------------------------


def idempotent_view_class(view_class: type[APIView]) -> type[APIView]:
    """`view_class` with IdempotentPostMixin in front (the class itself if it already has it)."""
    if issubclass(view_class, IdempotentPostMixin):
        return view_class
    attrs: dict[str, Any] = {
        "__module__": view_class.__module__,
        "__qualname__": view_class.__qualname__,
        "__doc__": view_class.__doc__,
    }
    if isinstance(inspect.getattr_static(view_class, "schema", None), DefaultSchema):
        attrs["schema"] = IdempotentAutoSchema()  # a view with a schema of its own keeps it
    return type(view_class.__name__, (IdempotentPostMixin, view_class), attrs)


def idempotent_routes(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """The same routes, each DRF view wrapped by idempotent_view_class (other views are left as they are)."""
    wrapped: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        view_class = getattr(getattr(pattern, "callback", None), "cls", None)
        if (
            isinstance(pattern, URLPattern)
            and isinstance(view_class, type)
            and issubclass(view_class, APIView)
        ):
            callback = idempotent_view_class(view_class).as_view(**pattern.callback.initkwargs)
            pattern = URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)
        wrapped.append(pattern)
    return wrapped
