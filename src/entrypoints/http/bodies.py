"""Rules every JSON request body obeys, checked once, before any handler decodes one."""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.payloads import check_json_nesting

AnyRequest = Request[Any, Any, Any]


async def check_json_body(request: AnyRequest) -> None:
    """A `before_request` hook for the API: refuse a body no decoder should be handed.

    Applies to handlers that take a body (a `data` parameter) and only to them.
    """
    if request.route_handler.parsed_data_field is None:
        return
    body = await request.body()  # Litestar keeps it; the handler's decoding reuses it
    check_json_nesting(body, what="the request body", field=None)
