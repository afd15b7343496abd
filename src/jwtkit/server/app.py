"""The token service's ASGI app: :func:`create_app` and :func:`app_from_environment`.

Kept where it always was (``jwtkit serve --workers`` hands uvicorn the target
``"jwtkit.server.app:app_from_environment"``); the HTTP layer itself lives in
:mod:`jwtkit.server.http` (docs/server.md, "How it works").
"""

from __future__ import annotations

from .http.app import app_from_environment, create_app
from .http.middleware import HSTS_MAX_AGE, security_headers
from .http.requests import BodyTooLarge

__all__ = ["HSTS_MAX_AGE", "BodyTooLarge", "app_from_environment", "create_app", "security_headers"]
