"""Scope parameters of requests: what was asked for, and what may be granted (RFC 6749 §3.3).

One rule for every place that grants a scope (the token endpoint's grants, the authorization
endpoint): a requested scope must be within what the client may have, and an omitted one
means the default, narrowed to what the client may have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jwtkit._oauth import is_scope

from .oauth_errors import OAuthError

if TYPE_CHECKING:
    from .config import Settings

__all__ = ["OPENID_SCOPES", "narrowed", "offered_scopes", "scope_tokens"]

#: The scopes of OpenID Connect Core this service understands: ``openid`` (an ID token, §3.1.2.1),
#: ``profile`` and ``email`` (userinfo claims, §5.4), ``offline_access`` (refresh tokens, §11).
OPENID_SCOPES = ("openid", "profile", "email", "offline_access")


def offered_scopes(settings: Settings) -> tuple[str, ...]:
    """The scopes the service offers: OpenID Connect's, then those of ``default_scope``. The
    metadata's ``scopes_supported`` and what a client may register itself for."""
    return tuple(dict.fromkeys((*OPENID_SCOPES, *settings.default_scope.split())))


def scope_tokens(scope: str | None) -> list[str] | None:
    """The scope tokens of a ``scope`` parameter (RFC 6749 §3.3), duplicates dropped in order;
    ``None`` if absent; ``invalid_scope`` unless tokens separated by single spaces."""
    if scope is None:
        return None
    if not is_scope(scope):
        raise OAuthError("invalid_scope", "scope must be scope tokens separated by single spaces")
    return list(dict.fromkeys(scope.split(" ")))


def narrowed(requested: str | None, allowed: tuple[str, ...], default: tuple[str, ...]) -> str:
    """The granted scope: ``requested`` if within ``allowed`` (``invalid_scope`` otherwise),
    or, if absent, the tokens of ``default`` that ``allowed`` holds."""
    tokens = scope_tokens(requested)
    if tokens is None:
        return " ".join(token for token in default if token in allowed)
    extra = [token for token in tokens if token not in allowed]
    if extra:
        raise OAuthError("invalid_scope", f"scope not allowed: {' '.join(extra)[:100]}")
    return " ".join(tokens)
