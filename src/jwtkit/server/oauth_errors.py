"""OAuth 2.0 errors of the token service, framework-free.

An :class:`OAuthError` carries what the HTTP layer needs to answer: the RFC 6749 §5.2 error
code, a human description, the status and extra headers. Helpers build the JSON body
(:meth:`OAuthError.body`) and the RFC 6750 §3 ``WWW-Authenticate: Bearer`` challenge
(:func:`bearer_challenge`), with the grammar the integrations use too (:mod:`jwtkit._oauth`,
which sanitizes descriptions to the RFC 6749 §5.2 character set).

Codes used (RFC 6749 §5.2 unless noted): ``invalid_request``, ``invalid_client`` (401),
``invalid_grant``, ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_scope``;
``invalid_token`` (RFC 6750 §3.1, 401); ``slow_down`` (429 with ``Retry-After``: too many failed
logins; the code is registered for the token endpoint by RFC 8628 §3.5);
``temporarily_unavailable`` (503, the store is down); ``server_error`` (500, a bug).

.. warning::
   Descriptions are shown to clients and written to logs: never put a token, a password, a
   client secret or key material in one.
"""

from __future__ import annotations

import math

from .. import _oauth
from .._oauth import sanitize_description

__all__ = [
    "REALM",
    "OAuthError",
    "basic_challenge",
    "bearer_challenge",
    "invalid_client",
    "invalid_token",
    "sanitize_description",
    "too_many_attempts",
]

#: The realm named in every ``WWW-Authenticate`` challenge (RFC 7235 §2.2).
REALM = "jwtkit"


class OAuthError(Exception):
    """An error answered as ``{"error": ..., "error_description": ...}`` (RFC 6749 §5.2)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.error = error
        self.description = sanitize_description(description)
        self.status = status
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{error}: {self.description}")

    def body(self) -> dict[str, str]:
        """The JSON body of the response (RFC 6749 §5.2)."""
        return _oauth.error_body(self.error, self.description)

    def __repr__(self) -> str:
        return f"OAuthError({self.error!r}, {self.description!r}, status={self.status})"


def bearer_challenge(
    error: str | None = None, description: str | None = None, scope: str | None = None
) -> str:
    """The ``WWW-Authenticate`` value of a protected resource (RFC 6750 §3).

    Without ``error`` this is the bare challenge for a request that carried no credentials
    (RFC 6750 §3.1: no error code then).
    """
    return _oauth.bearer_challenge(REALM, error, description, scope)


def basic_challenge() -> str:
    """The challenge for failed client authentication with HTTP Basic (RFC 6749 §5.2)."""
    return f'Basic realm="{REALM}", charset="UTF-8"'


def invalid_token(description: str) -> OAuthError:
    """401 ``invalid_token`` with its Bearer challenge (RFC 6750 §3.1)."""
    return OAuthError(
        "invalid_token",
        description,
        401,
        {"WWW-Authenticate": bearer_challenge("invalid_token", description)},
    )


def invalid_client(description: str = "client authentication failed") -> OAuthError:
    """401 ``invalid_client`` with a Basic challenge (RFC 6749 §5.2)."""
    return OAuthError("invalid_client", description, 401, {"WWW-Authenticate": basic_challenge()})


def too_many_attempts(retry_after: float, what: str = "failed attempts") -> OAuthError:
    """429 with ``Retry-After`` in whole seconds (RFC 9110 §10.2.3; RFC 6585 §4); ``what``
    names what there were too many of."""
    seconds = max(1, math.ceil(retry_after))
    return OAuthError(
        "slow_down",
        f"too many {what}; retry in {seconds} seconds",
        429,
        {"Retry-After": str(seconds)},
    )
