"""The one place that turns errors into HTTP answers, each with a JSON `ErrorBody`."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ExceptionHandlersMap

from application.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    TaskNotFound,
)
from entrypoints.http.schemas import ErrorBody

log = logging.getLogger(__name__)

AnyRequest = Request[Any, Any, Any]
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")

_CODES: Mapping[int, str] = {
    HTTP_400_BAD_REQUEST: "invalid_request",
    HTTP_401_UNAUTHORIZED: "unauthorized",
    HTTP_403_FORBIDDEN: "forbidden",
    HTTP_404_NOT_FOUND: "not_found",
    HTTP_409_CONFLICT: "conflict",
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
}


def error_response(
    status: int,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorBody]:
    code = _CODES.get(status, "error")
    return Response(
        ErrorBody(error=code, message=message, field=field), status_code=status, headers=headers
    )


def _not_found(_: AnyRequest, exc: TaskNotFound) -> Response[ErrorBody]:
    return error_response(HTTP_404_NOT_FOUND, str(exc))


def _forbidden(_: AnyRequest, exc: Forbidden) -> Response[ErrorBody]:
    return error_response(HTTP_403_FORBIDDEN, str(exc))


def _invalid(_: AnyRequest, exc: InvalidRequest) -> Response[ErrorBody]:
    return error_response(HTTP_400_BAD_REQUEST, str(exc), field=exc.field)


def _too_large(_: AnyRequest, exc: PayloadTooLarge) -> Response[ErrorBody]:
    return error_response(HTTP_413_REQUEST_ENTITY_TOO_LARGE, str(exc))


def _conflict(_: AnyRequest, exc: Conflict) -> Response[ErrorBody]:
    return error_response(HTTP_409_CONFLICT, str(exc))


def _validation(_: AnyRequest, exc: ValidationException) -> Response[ErrorBody]:
    """Litestar's parameter and body errors, reworded to name the parameter at fault."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    details = [_problem(p) for p in problems if isinstance(p, Mapping)]
    if not details:
        return error_response(HTTP_400_BAD_REQUEST, exc.detail)
    message = "; ".join(text for _, text in details)
    return error_response(HTTP_400_BAD_REQUEST, message, field=details[0][0])


def _problem(problem: Mapping[str, Any]) -> tuple[str | None, str]:
    """(field, message) for one of Litestar's problems; `data` stands for the whole body."""
    key = problem.get("key")
    source = problem.get("source")
    source = getattr(source, "value", source)  # path/query sources arrive as a ParamType
    text = str(problem.get("message", "invalid value"))
    if source == "body":
        if not key or key == "data":
            unknown = _NAMED_FIELD.search(text)
            return (unknown.group(1) if unknown else None), f"request body: {text}"
        return str(key), f"request body field {key!r}: {text}"
    if not key:
        return None, text
    return str(key), f"{source} parameter {key!r}: {text}"


def _http(_: AnyRequest, exc: HTTPException) -> Response[ErrorBody]:
    headers = exc.headers
    if isinstance(exc, NotAuthorizedException):
        return error_response(HTTP_401_UNAUTHORIZED, exc.detail, headers=headers)
    if isinstance(exc.__cause__, SerializationException):
        message = f"request body is not valid JSON: {exc.detail}"
        return error_response(HTTP_400_BAD_REQUEST, message, headers=headers)
    return error_response(exc.status_code, exc.detail, headers=headers)


def _unexpected(request: AnyRequest, exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; see the server log")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TaskNotFound: _not_found,
    Forbidden: _forbidden,
    InvalidRequest: _invalid,
    PayloadTooLarge: _too_large,
    Conflict: _conflict,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
