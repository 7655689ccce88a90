"""Who may call a route: an ingress API key (``X-API-Key``), or the admin bearer token."""

import hmac
from collections.abc import Callable

from fastapi import HTTPException, Request


def valid_api_key(given: str | None, api_keys: list[str]) -> bool:
    if not api_keys:
        return True
    return given is not None and any(hmac.compare_digest(given.encode(), key.encode()) for key in api_keys)


def require_api_key(api_keys: list[str]) -> Callable[[Request], None]:
    """A FastAPI dependency: ``X-API-Key`` must be one of ``api_keys`` when any are configured."""

    def check(request: Request) -> None:
        if not valid_api_key(request.headers.get("x-api-key"), api_keys):
            raise HTTPException(401, "Missing or wrong API key", headers={"WWW-Authenticate": "X-API-Key"})

    return check


def require_admin(admin_token: str) -> Callable[[Request], None]:
    """A FastAPI dependency: ``Authorization: Bearer <ADMIN_TOKEN>`` when a token is configured."""

    def check(request: Request) -> None:
        if not admin_token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), admin_token.encode()):
            raise HTTPException(401, "Missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"})

    return check
