"""Bearer JWT (HS256) authentication: minting tokens and checking them on every /api route."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import ASGIApp

from application.actor import Actor

ALGORITHM = "HS256"
ADMIN_ROLE = "admin"
MAX_USER_CHARS = 200
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="taskspool"'}


class InvalidToken(Exception):
    """A token is missing, malformed, badly signed or expired; the message says which."""


def check_user_name(user: str) -> str:
    """`user` if it can own tasks; ValueError naming the rule otherwise."""
    if not user.strip() or len(user) > MAX_USER_CHARS or not user.isprintable():
        raise ValueError(f"user name must be 1-{MAX_USER_CHARS} printable characters")
    return user


#: Longest token lifetime: ten years, far inside what datetime and JWT can hold.
MAX_TOKEN_TTL = timedelta(days=3650)


def mint_token(
    *, secret: str, user: str, now: datetime, ttl: timedelta, admin: bool = False
) -> str:
    """A signed token naming `user` (and the admin role), valid from `now` for `ttl`."""
    if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
        raise ValueError(f"token lifetime must be positive and at most {MAX_TOKEN_TTL.days} days")
    claims: dict[str, Any] = {"sub": check_user_name(user), "iat": now, "exp": now + ttl}
    if admin:
        claims["role"] = ADMIN_ROLE
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> Actor:
    """The caller a token names; InvalidToken if it cannot be trusted."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    subject = claims["sub"]
    try:
        check_user_name(subject)
    except ValueError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    return Actor(name=subject, is_admin=claims.get("role") == ADMIN_ROLE)


def bearer_token(authorization: str | None) -> str:
    """The token in an `Authorization: Bearer <token>` header value."""
    if not authorization:
        raise InvalidToken("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization header must be 'Bearer <token>'")
    return token.strip()


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Puts the token's `Actor` in `request.user`; answers 401 without a valid token."""

    def __init__(self, app: ASGIApp, *, secret: str) -> None:
        super().__init__(app)
        self._secret = secret

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        try:
            token = bearer_token(connection.headers.get("Authorization"))
            actor = read_token(token, secret=self._secret)
        except InvalidToken as exc:
            raise NotAuthorizedException(detail=str(exc), headers=BEARER_CHALLENGE) from None
        return AuthenticationResult(user=actor, auth=token)
