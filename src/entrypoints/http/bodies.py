"""Rules every JSON request body obeys, checked once, before any handler decodes one."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from application.payloads import check_json_text

AnyRequest = Request[Any, Any, Any]
JSON_MEDIA_TYPE = "application/json"


async def check_json_body(request: AnyRequest) -> None:
    """A `before_request` hook for the API: refuse a body no decoder should be handed:
    one that is not declared application/json (415), or is empty, nested too deeply or
    holds an unpaired surrogate (400, saying which).

    Applies to handlers that take a body (a `data` parameter) and only to them.
    """
    if request.route_handler.parsed_data_field is None:
        return
    media_type, _ = request.content_type
    if media_type.lower() != JSON_MEDIA_TYPE:
        got = f"got {media_type!r}" if media_type else "none was given"
        raise HTTPException(
            f"Content-Type must be {JSON_MEDIA_TYPE}; {got}",
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    body = await request.body()  # Litestar keeps it; the handler's decoding reuses it
    check_json_text(body, what="the request body")
