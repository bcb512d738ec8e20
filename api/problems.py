"""Every API error is an RFC 9457 problem details document (`application/problem+json`).

One exception handler turns DRF's exceptions and our domain errors into the shape of `docs/api.md`:
`{"type", "title", "status", "detail", "errors": [{"code", "pointer", "detail"}]}`.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from ledger.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://purse.invalid/problems/"

_TITLES = {
    400: "Your request could not be read",
    401: "Sign-in needed",
    403: "You are not allowed to do this",
    404: "Not found",
    405: "Method not allowed",
    406: "Cannot answer in that format",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Your request breaks a rule",
    429: "Too many requests",
    500: "Something went wrong on our side",
}

_DEFAULT_CODES = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    422: "rule_broken",
    429: "throttled",
    500: "server_error",
}


def problem(
    *, status_code: int, detail: str, code: str | None = None, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Build a problem details body; `code` names the type, `errors` lists each specific failure."""
    code = code or _DEFAULT_CODES.get(status_code, "error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def _pointer(path: list[str]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path) if path else ""


def flatten_validation_errors(detail: Any, path: list[str] | None = None) -> list[dict[str, str]]:
    """Turn DRF's nested validation errors into a flat list of {code, pointer, detail}."""
    path = path or []
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            child = path if key in ("non_field_errors", "__all__") else [*path, key]
            out.extend(flatten_validation_errors(value, child))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                out.extend(flatten_validation_errors(item, [*path, str(index)]))
            else:
                out.extend(flatten_validation_errors(item, path))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [{"code": str(code), "pointer": _pointer(path), "detail": str(detail)}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: map every known exception to problem details; anything else is a 500 bug."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        errors = getattr(exc, "errors", None) or [{"code": exc.code, "pointer": "", "detail": exc.message}]
        status_code = getattr(exc, "http_status", status.HTTP_422_UNPROCESSABLE_ENTITY)
        body = problem(status_code=status_code, detail=exc.message, code=exc.code, errors=errors)
    elif isinstance(exc, exceptions.ValidationError):
        errors = flatten_validation_errors(exc.detail)
        plural = "problem" if len(errors) == 1 else "problems"
        body = problem(
            status_code=400,
            detail=f"Your request has {len(errors)} {plural}: see errors for each one.",
            code="invalid_request",
            errors=errors,
        )
        status_code = 400
    elif isinstance(exc, Http404 | exceptions.NotFound):
        status_code = 404
        body = problem(status_code=404, detail="There is nothing here, or it is not yours to see.")
    elif isinstance(exc, DjangoPermissionDenied):
        status_code = 403
        body = problem(status_code=403, detail="You are not allowed to do this.")
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else None
        if isinstance(exc, exceptions.ParseError):
            code = "malformed_request"
        body = problem(status_code=status_code, detail=str(detail), code=code)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + (0 if exc.wait == int(exc.wait) else 1))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    else:
        return None
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 404 for paths under /api/ that match no route."""
    return JsonResponse(
        problem(status_code=404, detail="There is nothing at this address."),
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def api_server_error(request: HttpRequest) -> JsonResponse:
    """Django's 500 for paths under /api/: a bug on our side, said plainly."""
    return JsonResponse(
        problem(
            status_code=500,
            detail="Something went wrong on our side. It has been logged; please try again later.",
        ),
        status=500,
        content_type=PROBLEM_CONTENT_TYPE,
    )
