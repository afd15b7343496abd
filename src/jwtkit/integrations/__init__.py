"""Protecting web APIs with bearer tokens (RFC 6750): one module per framework.

* :mod:`jwtkit.integrations.starlette` — an ``AuthenticationBackend`` for Starlette's
  ``AuthenticationMiddleware`` and a pure ASGI ``JWTMiddleware`` (extra ``starlette``);
* :mod:`jwtkit.integrations.fastapi` — ``Depends(require_token(scopes=[...]))`` yielding the
  verified claims, shown in the OpenAPI document as an HTTP bearer scheme (extra ``fastapi``);
* :mod:`jwtkit.integrations.flask` — a ``@require_token(scopes=[...])`` decorator and the
  ``JWTKit`` extension (extra ``flask``).

Each takes a :class:`jwtkit.Verifier` (local keys or a ``jwtkit.remote`` JWKS client) and
answers like RFC 6750 §3: 401 with ``WWW-Authenticate: Bearer realm=..., error="invalid_token"``
for a missing or bad token, 403 ``insufficient_scope``, 400 ``invalid_request`` for a malformed
``Authorization`` header, and 503 ``temporarily_unavailable`` when the issuer's keys cannot be
had. Importing this package imports no framework: import the module of yours.

DPoP (RFC 9449): each module also exports ``DPoPSettings``; given as ``dpop=...`` the
integration takes ``Authorization: DPoP <token>`` with its ``DPoP`` proof header too (or only
that), and answers ``invalid_dpop_proof`` / ``use_dpop_nonce`` with a ``WWW-Authenticate: DPoP
algs="..."`` challenge beside the Bearer one. A token bound to a key (``cnf.jkt``) is refused
as a Bearer token in every case (RFC 9449 §7.2). See docs/dpop.md.

Each module also exports ``ResourceMetadata``, the description of the API for OAuth 2.0
Protected Resource Metadata (RFC 9728): the integration serves it at
``/.well-known/oauth-protected-resource`` (inserted before the resource's path, RFC 9728 §3.1)
and names it in its challenges (``resource_metadata="..."``, RFC 9728 §5.1).
"""

from __future__ import annotations

__all__: list[str] = []
