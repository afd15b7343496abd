"""``POST /audit``: the token audit of :mod:`jwtkit._token_audit` for the token page.

The body is ``{"token": "<compact JWS or JWE>"}`` (``application/json``, at most
``max_body_bytes``, else 413); the answer ``{"findings": [...], "counts": {...}}``, never
cached. The audit is the offline lint (RFC 8725): it reads what anyone holding the token can
read, needs no key, guesses no secret and stores nothing, so it is on in production too. A
body that is not that object, or a token the core cannot read (malformed, or over its
maximum token size), is ``400 invalid_request``; no answer ever holds the token.

No rate limit: the service's limits (:mod:`..ratelimit`) count in the store, a write per
request that would cost more than the audit itself, which is bounded by the body size.
"""

from __future__ import annotations

import functools
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..._token_audit import SEVERITIES, audit_request
from ...errors import JWTError
from ..oauth_errors import OAuthError
from .errors import NO_STORE
from .requests import json_text, service_of

__all__ = ["AUDIT_PATH", "add_audit_route"]

AUDIT_PATH = "/audit"

_FINDING = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "examples": ["exp-missing"]},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "where": {"type": "string", "examples": ["claims.exp"]},
        "message": {"type": "string"},
        "fix": {"type": "string"},
    },
    "required": ["id", "severity", "where", "message", "fix"],
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "token": {"type": "string", "description": "a compact JWS or JWE"}
                    },
                    "required": ["token"],
                    "additionalProperties": False,
                }
            }
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the findings, most severe first, and the count per severity",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "findings": {"type": "array", "items": _FINDING},
                        "counts": {
                            "type": "object",
                            "properties": {s: {"type": "integer"} for s in SEVERITIES},
                        },
                    },
                    "required": ["findings", "counts"],
                }
            }
        },
    },
    400: {"description": "invalid_request: not that JSON object, or a token that cannot be read"},
    413: {"description": "the body is larger than max_body_bytes"},
    415: {"description": "the body is not application/json"},
}


def add_audit_route(app: FastAPI) -> None:
    @app.post(AUDIT_PATH, openapi_extra=_BODY, responses=_RESPONSES, tags=["tokens"])
    async def audit(request: Request) -> JSONResponse:
        """Audit a token against RFC 8725 and common mistakes, without verifying it: the
        findings of `jwtkit audit --json` (header, claims, sensitive data in the payload).
        Needs no key and keeps nothing; the answer never holds the token."""
        text = await json_text(request)
        now = service_of(request).clock()
        try:
            # Off the event loop: a body of max_body_bytes is milliseconds of regular
            # expressions, which other requests need not wait for.
            answer = await anyio.to_thread.run_sync(
                functools.partial(audit_request, text.encode("utf-8"), now=now)
            )
        except JWTError as exc:
            raise OAuthError("invalid_request", exc.message) from None
        return JSONResponse(answer, headers=NO_STORE)
