"""The service's Prometheus metrics, served at ``GET /metrics`` (docs/deploy.md, "Health,
readiness and metrics").

One :class:`Metrics` per app, on a registry of its own (several apps in one process never mix
their counts):

* **HTTP requests**, counted by the app for every request, the ``GET /userinfo`` shortcut
  included (:class:`~jwtkit.server.http.middleware.ServiceApp`): by endpoint (the route's path
  template, never the raw path, so the label values are bounded), method and status class, and
  their latency per endpoint;
* **security events**, derived from the audit events at one place, :meth:`Metrics.audit_event`,
  which the :class:`~jwtkit.server.audit.AuditLog` calls for every event it logs: a new event
  of the code is counted by adding it to :meth:`Metrics.audit_event`, never by a counter next
  to the audit call;
* **signing keys**, read from the key ring at each scrape: the age of each algorithm's active
  key and the number of published keys.

**Several worker processes** (``jwtkit serve --workers N``): a worker counts only its own
requests, and a scrape reaches one worker. prometheus_client's multiprocess mode adds them up:
when ``PROMETHEUS_MULTIPROC_DIR`` names a folder, every worker writes its counts there and
:meth:`Metrics.exposition` reads the folder, so any worker answers for all of them.
``jwtkit serve --workers N`` makes such a folder when the variable is not set
(:func:`multiprocess_folder`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from .keyring import KeyRing

__all__ = [
    "LATENCY_BUCKETS",
    "MULTIPROCESS_ENV",
    "UNMATCHED",
    "Metrics",
    "multiprocess_folder",
]

#: prometheus_client's multiprocess mode: the folder where every process writes its counts.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The endpoint label of a request that matched no route (a 404): raw paths are never labels.
UNMATCHED = "unmatched"
#: Seconds. ``GET /userinfo`` takes well under a millisecond, a login with Argon2 a few
#: hundred: the buckets span both.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
#: The audit events that stand for an issued grant, and its grant type when the event has no
#: ``grant`` field.
_GRANT_EVENTS = {
    "login_ok": "password",
    "refresh": "refresh_token",
    "refresh_grace": "refresh_token",
    "client_token": "client_credentials",
}
#: Label values known in advance: their series exist (at 0) from the start, so that rates and
#: alerts work before the first event.
_GRANT_TYPES = ("authorization_code", "password", "refresh_token", "client_credentials")
_LOGIN_FAILURES = ("bad_password", "unknown_user", "disabled")
_LIMITS = ("login", "registration", "client_registration")


class _KeyCollector:
    """The signing keys' gauges, computed from the key ring when scraped."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.keyring: KeyRing | None = None

    def describe(self) -> list[Metric]:
        return []  # known only when scraped; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        keyring = self.keyring
        if keyring is None:  # before the app's start-up loaded it
            return
        age = GaugeMetricFamily(
            "jwtkit_signing_key_age_seconds",
            "Seconds since the active signing key of each algorithm started signing.",
            labels=["algorithm"],
        )
        now = self.clock()
        for record in keyring.records():
            if record.status == "active" and record.algorithm in keyring.algorithms:
                started = record.activated_at or record.created_at
                age.add_metric([record.algorithm], max(0.0, now - started))
        yield age
        yield GaugeMetricFamily(
            "jwtkit_signing_keys_published",
            "Signing keys in the JWKS: pending, active, and retired ones still published.",
            value=len(keyring.verification_keys()),
        )


class Metrics:
    """The counters of one app and their exposition. ``clock`` (Unix seconds) dates the
    signing keys' age."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "jwtkit_http_requests",
            "HTTP requests answered, by endpoint (route template), method and status class.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "jwtkit_http_request_duration_seconds",
            "Time from a request's arrival at the app to the end of its answer.",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.grants = Counter(
            "jwtkit_grants",
            "Tokens issued at the token endpoint, by grant type.",
            ["grant_type"],
            registry=registry,
        )
        self.dpop_grants = Counter(
            "jwtkit_dpop_grants",
            "Tokens bound to a DPoP key (RFC 9449) issued at the token endpoint, by grant type.",
            ["grant_type"],
            registry=registry,
        )
        self.refresh_reuse = Counter(
            "jwtkit_refresh_token_reuse",
            "Rotated refresh tokens presented again: their families were revoked.",
            registry=registry,
        )
        self.code_reuse = Counter(
            "jwtkit_authorization_code_reuse",
            "Authorization codes presented again: what they issued was revoked.",
            registry=registry,
        )
        self.login_failures = Counter(
            "jwtkit_login_failures",
            "Failed logins (password grant, login page), by reason.",
            ["reason"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "jwtkit_rate_limited",
            "Requests refused with 429 by a limit: failed logins, registrations.",
            ["limit"],
            registry=registry,
        )
        self.client_auth_failures = Counter(
            "jwtkit_client_auth_failures",
            "Failed client authentications, by method.",
            ["method"],
            registry=registry,
        )
        for grant_type in _GRANT_TYPES:
            self.grants.labels(grant_type)
            self.dpop_grants.labels(grant_type)
        for reason in _LOGIN_FAILURES:
            self.login_failures.labels(reason)
        for limit in _LIMITS:
            self.rate_limited.labels(limit)
        self._keys = _KeyCollector(clock)
        registry.register(self._keys)
        if _multiprocess_folder() is None:
            # One process: its own CPU, memory and garbage collector too. In multiprocess mode
            # they would describe whichever worker answered the scrape, so they are left out.
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                registry.register(collector)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def watch_keys(self, keyring: KeyRing) -> None:
        """Report the keys of ``keyring`` from now on (the app's start-up loads it)."""
        self._keys.keyring = keyring

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request. ``endpoint`` is a route template or :data:`UNMATCHED`;
        an unknown method is counted as ``other``."""
        key = (endpoint, method, status)
        children = self._children.get(key)
        if children is None:
            label = method if method in _METHODS else "other"
            children = (
                self.requests.labels(endpoint, label, f"{status // 100}xx"),
                self.latency.labels(endpoint, label),
            )
            # Bounded: routes x methods x statuses the code answers with.
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def audit_event(self, name: str, fields: Mapping[str, object]) -> None:
        """Count what an audit event says (the :class:`~jwtkit.server.audit.AuditLog` calls
        this for every event it logs): the one place where events become metrics."""
        if name in _GRANT_EVENTS:
            grant_type = str(fields.get("grant") or _GRANT_EVENTS[name])
            self.grants.labels(grant_type).inc()
            if fields.get("dpop_jkt") is not None:
                self.dpop_grants.labels(grant_type).inc()
        elif name == "reuse_detected":
            self.refresh_reuse.inc()
        elif name == "code_reused":
            self.code_reuse.inc()
        elif name == "login_failed":
            self.login_failures.labels(str(fields.get("reason"))).inc()
        elif name == "rate_limited":
            self.rate_limited.labels(str(fields.get("limit"))).inc()
        elif name == "client_auth_failed":
            self.client_auth_failures.labels(str(fields.get("method"))).inc()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape's body and media type: the Prometheus text format, or OpenMetrics when
        ``accept`` (the request's ``Accept``) prefers it. In multiprocess mode, the counts of
        every process of the folder, and the keys as this one sees them."""
        encoder, media_type = choose_encoder(accept or "")
        folder = _multiprocess_folder()
        if folder is None:
            return encoder(self.registry), media_type
        registry = CollectorRegistry()
        multiprocess: Any = MultiProcessCollector  # untyped in some releases
        multiprocess(registry, path=folder)
        registry.register(self._keys)
        return encoder(registry), media_type


def _multiprocess_folder() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


@contextmanager
def multiprocess_folder() -> Iterator[str]:
    """For ``jwtkit serve --workers N``: the folder of prometheus_client's multiprocess mode,
    named in ``PROMETHEUS_MULTIPROC_DIR`` for the workers to inherit. A folder the variable
    already names is used as it is (its owner empties it between runs, as prometheus_client
    asks); otherwise a new private one is made and removed afterwards, so every start counts
    from zero, as a single process does."""
    given = _multiprocess_folder()
    if given is not None:
        yield given
        return
    folder = tempfile.mkdtemp(prefix="jwtkit-metrics-")
    os.environ[MULTIPROCESS_ENV] = folder
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
