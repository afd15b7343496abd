"""Readiness: whether the service can answer requests now (``GET /readyz``).

Liveness (``GET /healthz``) says only that the process answers; readiness also asks each
backend the service needs, by name, with a time limit, so that a load balancer sends no
request to an instance whose database does not answer. The checks are named in one place, where
the app opens its backends (:func:`jwtkit.server.http.app.create_app`): one more backend is one
more entry there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import anyio

from .storage import StoreError

__all__ = ["CHECK_TIMEOUT", "RETRY_AFTER", "Readiness"]

logger = logging.getLogger("jwtkit.server")

#: Seconds a check may take before it counts as failed (a load balancer's probe waits a few).
CHECK_TIMEOUT = 2.0
#: The ``Retry-After`` (seconds) of a 503 from ``/readyz``.
RETRY_AFTER = 5


class Readiness:
    """Named checks (``{"database": store.ping}``): each returns when its backend answers, and
    raises :class:`~jwtkit.server.storage.StoreError` when it does not."""

    def __init__(
        self, checks: Mapping[str, Callable[[], Awaitable[None]]], timeout: float = CHECK_TIMEOUT
    ) -> None:
        self.checks = dict(checks)
        self.timeout = timeout

    async def failing(self) -> list[str]:
        """The names of the checks that failed or took longer than ``timeout``, in order;
        each failure is logged (the reason stays in the log, never in an answer)."""
        failed = []
        for name, check in self.checks.items():
            try:
                with anyio.fail_after(self.timeout):
                    await check()
            except (StoreError, TimeoutError) as exc:
                logger.warning("not ready: %s: %s", name, str(exc) or "no answer in time")
                failed.append(name)
        return failed
