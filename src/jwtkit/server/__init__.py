"""The jwtkit token service (``jwtkit serve``): an OAuth 2.0-shaped authorization server.

Issues RFC 9068 access tokens (signed JWTs) and rotated opaque refresh tokens (RFC 9700
§4.14), revokes them (RFC 7009), introspects them (RFC 7662) and publishes its keys as a JWKS
and RFC 8414 metadata. Needs the ``server`` extra: ``pip install 'jwtkit[server]'``.

::

    from jwtkit.server import create_app
    from jwtkit.server.config import load_settings

    app = create_app(load_settings())      # an ASGI app: uvicorn, hypercorn, ...

Modules: :mod:`~jwtkit.server.http` (HTTP; :mod:`~jwtkit.server.app` re-exports its factory),
:mod:`~jwtkit.server.tokens` (the OAuth logic, framework-free) with
:mod:`~jwtkit.server.access_tokens`, :mod:`~jwtkit.server.credentials` and
:mod:`~jwtkit.server.users`, :mod:`~jwtkit.server.storage` (the ``Store`` protocol and its
backends), :mod:`~jwtkit.server.config`, :mod:`~jwtkit.server.keyring`,
:mod:`~jwtkit.server.passwords`. How it works: docs/server.md.
Importing this package loads no optional dependency; ``create_app`` imports FastAPI on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """Import :func:`create_app` lazily, so that the storage layer works without FastAPI."""
    if name == "create_app":
        from .app import create_app  # noqa: PLC0415 - lazy on purpose

        return create_app
    raise AttributeError(f"module 'jwtkit.server' has no attribute {name!r}")
