"""Argument types for the CLI: each turns text into a value or raises ArgumentTypeError,
whose message argparse prints on one line."""

from __future__ import annotations

import argparse
import json
from typing import Any
from uuid import UUID

from application.errors import InvalidRequest
from application.payloads import check_json_nesting
from application.tasks import MAX_PAGE, MAX_PAGE_LIMIT
from domain.task import TaskStatus
from entrypoints.http.auth import MAX_TOKEN_TTL, check_user_name


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def page_limit(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PAGE_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PAGE_LIMIT}, got {value}")
    return value


def page_number(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PAGE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PAGE}, got {value}")
    return value


def token_ttl(text: str) -> int:
    value = positive_int(text)
    if value > MAX_TOKEN_TTL.total_seconds():
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_TOKEN_TTL.total_seconds():.0f} seconds "
            f"({MAX_TOKEN_TTL.days} days), got {value}"
        )
    return value


def tcp_port(text: str) -> int:
    value = positive_int(text)
    if value > 65_535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (1-65535), got {value}")
    return value


def user_name(text: str) -> str:
    try:
        return check_user_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def task_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a task id (a UUID): {text!r}") from None


def task_status(text: str) -> TaskStatus:
    try:
        return TaskStatus(text)
    except ValueError:
        choices = ", ".join(status.value for status in TaskStatus)
        raise argparse.ArgumentTypeError(f"must be one of {choices}; got {text!r}") from None


def json_object(text: str) -> dict[str, Any]:
    try:
        # json.loads recurses per level; refuse deep text before it can exhaust the stack.
        check_json_nesting(text, what="the JSON", field=None)
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, such as '{\"key\": 1}'")
    return value
