"""The HTTP layer of the token service: FastAPI around :class:`~jwtkit.server.tokens.TokenService`.

The only part of the service that imports the web framework (``tests/test_layering.py``):

* :mod:`.app` — :func:`create_app` (the ASGI app; its lifespan opens the store and loads the
  key ring) and :func:`app_from_environment` (the ``jwtkit serve --workers`` factory);
* :mod:`.routes` — the endpoints, their OpenAPI descriptions and the offline ``/docs``;
* :mod:`.requests` — request parsing and limits: form and JSON bodies, client credentials,
  the Bearer token, the client address;
* :mod:`.middleware` — the body limit, the last-line 500, the security headers on every
  answer and the ``GET /userinfo`` fast path;
* :mod:`.errors` — the exception handlers: every error is an RFC 6749 §5.2 JSON body;
* :mod:`.pages` — the provider's HTML pages (login, consent, error, logout) from the Jinja2
  templates in ``templates/``, their security headers, and the stylesheet in ``static/``.

How requests flow through them: docs/server.md, "How it works".
"""

from __future__ import annotations

from .._extras import require

# The server extra, checked once with the message that installs it.
for _module in ("fastapi", "starlette", "pydantic", "swagger_ui_bundle", "jinja2"):
    require(_module, "server")

from .app import app_from_environment, create_app  # noqa: E402 - after the check above

__all__ = ["app_from_environment", "create_app"]
