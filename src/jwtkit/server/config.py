"""The token service's settings: one frozen :class:`Settings` value, validated at start-up.

:func:`load_settings` merges four sources, highest first:

1. command-line options (the ``cli`` mapping; ``None`` values mean "not given"),
2. ``JWTKIT_*`` environment variables (``JWTKIT_PORT`` sets ``port``),
3. a TOML file named by ``config_file`` or ``JWTKIT_CONFIG`` (settings at the top level of the
   file, under the same names as the fields: ``port = 8000``),
4. the defaults below.

Strings from the environment and the file are converted to each field's type. Every setting is
checked, and :class:`ConfigError` names the setting, its environment variable and what is
expected; unknown ``JWTKIT_*`` variables and unknown file keys are errors too (typo
protection). ``docs/server-configuration.md`` lists every setting.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import os
import re
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import ModuleType
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlsplit

from .._messages import short
from .._oauth import is_b64token, is_client_id, is_scope
from .._urls import is_loopback_host, redacted_url
from ._extras import require

__all__ = [
    "ACCESS_TOKEN_ALGORITHMS",
    "CLIENT_REGISTRATION_MODES",
    "CONFIG_ENV_VAR",
    "DEMO_CLIENT_ID",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "ENVIRONMENTS",
    "ENV_PREFIX",
    "FIELD_NAMES",
    "ID_TOKEN_REQUIRED_ALGORITHM",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "MIN_REGISTRATION_TOKEN_LENGTH",
    "ML_DSA_ALGORITHMS",
    "REDIS_SCHEMES",
    "SIGNING_ALGORITHMS",
    "ClientRegistrationMode",
    "ConfigError",
    "Settings",
    "decode_key_encryption_key",
    "env_var",
    "load_settings",
    "resource_problem",
]

ENV_PREFIX = "JWTKIT_"
#: The client id of the service's own demo client (the ``demo`` setting; :mod:`.demo`).
DEMO_CLIENT_ID = "jwtkit-demo"
#: The user ``jwtkit serve`` creates in development for the walk-through (:mod:`.demo`).
DEMO_USERNAME = "demo"
#: Its password, documented (docs/page.md) and shown on the page: development only.
DEMO_PASSWORD = "jwtkit-demo-password"
#: The environment variable that names the TOML file.
CONFIG_ENV_VAR = "JWTKIT_CONFIG"
ENVIRONMENTS = ("development", "production")
#: The classical algorithms the service signs tokens with, access tokens and ID tokens alike
#: (RFC 9068 §2.1 requires an asymmetric one in practice: resource servers verify with the
#: published JWKS).
SIGNING_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
#: The post-quantum algorithms (FIPS 204 ML-DSA, RFC 9964 §5) the service may sign access
#: tokens with. Never ID tokens: OpenID Connect Core 1.0 §3.1.3.6 derives ``at_hash`` from the
#: hash function of the ID token's ``alg``, and ML-DSA names none.
ML_DSA_ALGORITHMS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
#: What ``signing_algorithm`` and ``published_algorithms`` accept.
ACCESS_TOKEN_ALGORITHMS = SIGNING_ALGORITHMS + ML_DSA_ALGORITHMS
#: The algorithm every OpenID Provider signs ID tokens with: OpenID Connect Discovery 1.0 §3
#: says ``id_token_signing_alg_values_supported`` MUST include it.
ID_TOKEN_REQUIRED_ALGORITHM = "RS256"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: ``text``: uvicorn's lines; ``json``: one JSON object per line (:mod:`jwtkit.server.log_format`).
LOG_FORMATS = ("text", "json")
#: How Dynamic Client Registration (RFC 7591, ``POST /register``) is offered.
ClientRegistrationMode = Literal["off", "open", "token"]
CLIENT_REGISTRATION_MODES: tuple[ClientRegistrationMode, ...] = ("off", "open", "token")
#: The shortest initial access token accepted (characters): 32 base64url characters are 192
#: random bits, beyond guessing.
MIN_REGISTRATION_TOKEN_LENGTH = 32
_MAX_REGISTRATION_TOKEN_LENGTH = 1024

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: The URL schemes of the ``redis`` setting: TCP, TCP with TLS, a Unix socket.
REDIS_SCHEMES = ("redis", "rediss", "unix")
_REDIS_EXAMPLE = "e.g. redis://:password@redis.internal:6379/0"


class _DefaultEnvironment(str):
    """The default ``environment``: equal to ``"development"``, but told apart from an
    ``environment = "development"`` that a settings source gave (see :func:`_exposure`)."""

    __slots__ = ()


#: The default of :attr:`Settings.environment`: development, not asked for.
_DEVELOPMENT_BY_DEFAULT = _DefaultEnvironment("development")
_KEK_TEXT = re.compile(r"[A-Za-z0-9_-]{43}=?")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
#: Separates the names of a list setting given as text (``"RS256 ES256"``, ``"RS256,ES256"``).
_LIST_SEPARATOR = re.compile(r"[\s,]+")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
#: OWASP's minimum memory for Argon2id (19 MiB), enforced in production.
_PRODUCTION_MIN_ARGON2_MEMORY = 19456
_SECRET_FIELDS = frozenset({"key_encryption_key", "client_registration_token", "metrics_token"})
_GENERATE_KEK = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_GENERATE_TOKEN = _GENERATE_KEK


class ConfigError(ValueError):
    """A setting is missing, malformed or out of range. ``problems`` lists each one."""

    def __init__(self, problems: str | list[str] | tuple[str, ...]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = "invalid settings:\n  - " + "\n  - ".join(self.problems)
        super().__init__(message)


def env_var(name: str) -> str:
    """The environment variable of a setting: ``port`` -> ``JWTKIT_PORT``."""
    return ENV_PREFIX + name.upper()


def decode_key_encryption_key(text: str) -> bytes:
    """The 32 bytes of a key-encryption key given as base64url (padding optional).

    Raises :class:`ValueError` (without echoing the text: it is a secret) unless ``text`` is
    the canonical base64url encoding of exactly 32 bytes.
    """
    stripped = text.strip()
    if _KEK_TEXT.fullmatch(stripped):
        unpadded = stripped.rstrip("=")
        try:
            raw = base64.urlsafe_b64decode(unpadded + "=")
        except (binascii.Error, ValueError):  # pragma: no cover - the pattern rules this out
            raw = b""
        if len(raw) == 32 and base64.urlsafe_b64encode(raw).decode().rstrip("=") == unpadded:
            return raw
    raise ValueError(
        "must be the base64url encoding of 32 random bytes (43 characters); " + _GENERATE_KEK
    )


@dataclass(frozen=True)
class Settings:
    """Every setting of ``jwtkit serve``; validated on construction (:class:`ConfigError`)."""

    #: The ``iss`` of every token and the base of the metadata URLs (RFC 8414 §2): an https
    #: URL without query or fragment; http only on a loopback host in development.
    issuer: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    #: A SQLite file path (or a store URL understood by ``jwtkit.server.storage.open_store``).
    #: The default lives in the development state folder ``.jwtkit/`` (git-ignored), which
    #: ``jwtkit serve`` creates (mode 0700); the admin commands never create a database.
    database: str = ".jwtkit/jwtkit.db"
    #: A Redis server that several instances of the service share (``redis://``, ``rediss://``
    #: with TLS, ``unix://``): the login and registration limits are counted there, and a
    #: change of the signing keys reaches every instance at once. ``None``: each instance
    #: counts in the database. Needs the ``redis`` extra. Shown only without its user
    #: information (:func:`redacted_url`), never in ``repr``.
    redis: str | None = field(default=None, repr=False)
    #: ``"development"`` or ``"production"``. Development by default, but only on a loopback
    #: host with an http issuer: elsewhere it must be given (:attr:`environment_given`).
    environment: str = _DEVELOPMENT_BY_DEFAULT
    #: The ``aud`` of access tokens (RFC 9068 §2.2).
    audience: str = "jwtkit"
    access_token_ttl: int = 900
    #: A refresh token unused for this long expires (RFC 9700 §4.14.2).
    refresh_idle_ttl: int = 1_209_600
    #: A refresh family expires this long after the login that started it, whatever its use.
    refresh_absolute_ttl: int = 2_592_000
    #: Seconds during which the immediate predecessor of a refresh token is still accepted
    #: (and answered with the same successor). 0: none.
    refresh_grace_period: int = 0
    #: The algorithm of access tokens (and of their key in the key ring): one of
    #: :data:`ACCESS_TOKEN_ALGORITHMS`, ML-DSA included.
    signing_algorithm: str = "ES256"
    #: The algorithms ID tokens may be signed with (OpenID Connect); the key ring keeps an
    #: active key for each of them and for ``signing_algorithm``. Must include RS256
    #: (OpenID Connect Discovery 1.0 §3). A list or tuple given here becomes a tuple.
    id_token_algorithms: tuple[str, ...] = (ID_TOKEN_REQUIRED_ALGORITHM,)
    #: Access-token algorithms whose keys the key ring keeps and publishes beside
    #: ``signing_algorithm`` without signing with them: the next algorithm, published ahead of
    #: the switch, or the previous one, whose tokens the service still accepts until they
    #: expire. One of :data:`ACCESS_TOKEN_ALGORITHMS` each, never ``signing_algorithm``.
    published_algorithms: tuple[str, ...] = ()
    #: base64url of 32 bytes; the private parts of signing keys are encrypted under it.
    key_encryption_key: str | None = field(default=None, repr=False)
    #: Development only: where the generated key-encryption key is kept (mode 0600); created
    #: by ``jwtkit serve`` only.
    key_file: str = ".jwtkit/keys.secret"
    #: ``None``: on in development, off in production. See :attr:`registration_enabled`.
    allow_registration: bool | None = None
    #: ``None``: on in development, off in production. See :attr:`docs_enabled`.
    docs: bool | None = None
    #: The password grant (RFC 6749 §4.3), legacy: RFC 9700 §2.4 says it must not be used, and
    #: OAuth 2.1 drops it. ``None``: on in development, off in production. See
    #: :attr:`password_grant_enabled`.
    password_grant: bool | None = None
    #: Dynamic Client Registration (RFC 7591, ``POST /register``): ``"off"``, ``"open"``
    #: (anyone may register a client) or ``"token"`` (only with the initial access token
    #: ``client_registration_token``, RFC 7591 §3). ``None``: open in development, off in
    #: production. See :attr:`client_registration_mode`.
    client_registration: str | None = None
    #: The initial access token of ``client_registration = "token"``: a secret of at least
    #: :data:`MIN_REGISTRATION_TOKEN_LENGTH` characters that can be sent as a Bearer token
    #: (RFC 6750 §2.1 ``b64token``). Never shown in messages or ``repr``.
    client_registration_token: str | None = field(default=None, repr=False)
    #: The public client that the password grant uses when no client authenticates.
    first_party_client_id: str = "first-party"
    #: The guided walk-through of the page at ``/`` ("The flow", docs/page.md): the service
    #: registers its own public client :data:`DEMO_CLIENT_ID` (code + PKCE, redirect URI
    #: ``<issuer>/``). ``None``: on in development, off in production. See
    #: :attr:`demo_enabled`.
    demo: bool | None = None
    #: The lifetime (seconds) of the demo client's access tokens, short so that the
    #: walk-through shows one expire; at most ``access_token_ttl``
    #: (:meth:`access_token_ttl_for`).
    demo_access_token_ttl: int = 30
    default_scope: str = "openid profile"
    #: The name shown on the login, consent and logout pages.
    product_name: str = "jwtkit"
    #: A browser login session unused for this long ends (seconds).
    session_idle_ttl: int = 1800
    #: A browser login session ends this long after the login, whatever its use (seconds).
    session_absolute_ttl: int = 36000
    #: How long an authorization code may wait for its exchange (seconds; at most 60).
    authorization_code_ttl: int = 60
    #: The resource indicators (RFC 8707) a client may ask for: absolute URIs separated by
    #: single spaces. Empty: only the service's own ``audience``.
    resources: str = ""
    #: DPoP server-provided nonces at the token endpoint (RFC 9449 §8): a token request with a
    #: DPoP proof must carry a nonce the service issued (answered ``use_dpop_nonce`` with a
    #: ``DPoP-Nonce`` header otherwise). The nonces are keyed from the key-encryption key, so
    #: every instance accepts the nonces of every other.
    dpop_nonce: bool = False
    argon2_time_cost: int = 3
    #: KiB.
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    login_max_failures_per_user: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window: int = 900
    #: Registrations one client address may make per hour: of users (``POST /users``), and,
    #: counted apart, of clients (``POST /register``).
    registration_max_per_ip: int = 10
    max_body_bytes: int = 65536
    #: ``GET /metrics`` (Prometheus text format). ``None``: on in development; in production
    #: on only when ``metrics_token`` is set. See :attr:`metrics_enabled`.
    metrics: bool | None = None
    #: When set, ``GET /metrics`` answers only ``Authorization: Bearer <metrics_token>`` (a
    #: secret of at least :data:`MIN_REGISTRATION_TOKEN_LENGTH` characters). Never shown.
    metrics_token: str | None = field(default=None, repr=False)
    log_level: str = "info"
    #: :data:`LOG_FORMATS`: ``"text"`` (uvicorn's lines) or ``"json"`` (one object per line).
    log_format: str = "text"
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("log_level", "log_format"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, value.lower())
        for name in ("id_token_algorithms", "published_algorithms"):
            algorithms: object = getattr(self, name)
            if isinstance(algorithms, list):  # Settings(id_token_algorithms=[...]): immutable
                object.__setattr__(self, name, tuple(algorithms))
        problems = _type_problems(self)
        if not problems:
            problems = _value_problems(self)
        if problems:
            raise ConfigError(problems)

    @property
    def registration_enabled(self) -> bool:
        """Whether ``POST /users`` is open: ``allow_registration``, else development only."""
        if self.allow_registration is None:
            return self.environment == "development"
        return self.allow_registration

    @property
    def docs_enabled(self) -> bool:
        """Whether ``/docs`` (Swagger UI) and ``/openapi.json`` are served: ``docs``, else
        development only."""
        if self.docs is None:
            return self.environment == "development"
        return self.docs

    @property
    def metrics_enabled(self) -> bool:
        """Whether ``GET /metrics`` is served (and requests are counted at all): ``metrics``,
        else in development, or in production when ``metrics_token`` protects it."""
        if self.metrics is None:
            return self.environment == "development" or self.metrics_token is not None
        return self.metrics

    @property
    def password_grant_enabled(self) -> bool:
        """Whether the token endpoint accepts the password grant: ``password_grant``, else
        development only (RFC 9700 §2.4, OAuth 2.1)."""
        if self.password_grant is None:
            return self.environment == "development"
        return self.password_grant

    @property
    def demo_enabled(self) -> bool:
        """Whether the service registers the demo client :data:`DEMO_CLIENT_ID`: ``demo``,
        else development only."""
        if self.demo is None:
            return self.environment == "development"
        return self.demo

    def access_token_ttl_for(self, client_id: str) -> int:
        """The lifetime (seconds) of an access token issued to ``client_id``:
        ``access_token_ttl``, or for the demo client (while the demo is on) the shorter of it
        and ``demo_access_token_ttl``."""
        if client_id == DEMO_CLIENT_ID and self.demo_enabled:
            return min(self.demo_access_token_ttl, self.access_token_ttl)
        return self.access_token_ttl

    @property
    def access_token_algorithms(self) -> tuple[str, ...]:
        """The algorithms of the access tokens the service accepts: ``signing_algorithm``
        first, then ``published_algorithms``."""
        return (self.signing_algorithm, *self.published_algorithms)

    @property
    def resource_indicators(self) -> tuple[str, ...]:
        """The RFC 8707 resources a client may ask for (``resources``, split)."""
        return tuple(self.resources.split(" ")) if self.resources else ()

    @property
    def client_registration_mode(self) -> ClientRegistrationMode:
        """How ``POST /register`` is offered: ``client_registration``, else ``"open"`` in
        development and ``"off"`` in production."""
        if self.client_registration is None:
            return "open" if self.environment == "development" else "off"
        return cast("ClientRegistrationMode", self.client_registration)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def environment_given(self) -> bool:
        """Whether ``environment`` was given (a flag, a variable, the file, an argument)
        rather than left to its default."""
        return not isinstance(self.environment, _DefaultEnvironment)


def _field_kinds() -> dict[str, tuple[type, bool]]:
    """Each field's base type and whether it is optional (``X | None``); ``tuple`` stands for
    ``tuple[str, ...]``, a list of names."""
    hints = typing.get_type_hints(Settings)
    kinds: dict[str, tuple[type, bool]] = {}
    for item in fields(Settings):
        hint = hints[item.name]
        if typing.get_origin(hint) is tuple:
            kinds[item.name] = (tuple, False)
            continue
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        kinds[item.name] = (members[0], True) if members else (hint, False)
    return kinds


_KINDS = _field_kinds()
FIELD_NAMES = tuple(_KINDS)
_TYPE_WORDS = {
    bool: "true or false",
    int: "an integer",
    str: "a string",
    tuple: "a list of names (a TOML array of strings, or names separated by spaces or commas)",
}


def _label(name: str) -> str:
    return f"{name} ({env_var(name)})"


def _show(name: str, value: object) -> str:
    if name in _SECRET_FIELDS:
        return "<hidden>"
    if name == "redis":  # a URL with a password, in whatever type was given
        return f"a value of type {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_problems(settings: Settings) -> list[str]:
    problems = []
    for name, (base, optional) in _KINDS.items():
        value = getattr(settings, name)
        if value is None and optional:
            continue
        if base is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif base is tuple:
            ok = isinstance(value, tuple) and all(isinstance(item, str) for item in value)
        else:
            ok = isinstance(value, base)
        if not ok:
            expected = _TYPE_WORDS[base] + (" or nothing" if optional else "")
            problems.append(f"{_label(name)}: expected {expected}, got {_show(name, value)}")
    return problems


def _issuer_problem(issuer: str, environment: str) -> str | None:
    example = "e.g. https://id.example.com"
    if not issuer or any(char <= " " or char == "\x7f" for char in issuer):
        return f"must be an https URL ({example}), without spaces"
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        return f"must be an https URL ({example}), got {issuer!r}"
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return f"must be an https URL ({example}), got {issuer!r}"
    if parts.scheme == "http":
        if parts.hostname not in _LOOPBACK_HOSTS:
            return (
                f"must be an https URL ({example}); http is allowed only for localhost, "
                f"127.0.0.1 or [::1] in development, got {issuer!r}"
            )
        if environment == "production":
            return f"must be an https URL in production, got {issuer!r}"
    if "?" in issuer or "#" in issuer:
        return f"must not have a query or fragment (RFC 8414 §2), got {issuer!r}"
    if "@" in parts.netloc:
        return f"must not contain user information, got {issuer!r}"
    if issuer.endswith("/"):
        return f"must not end with '/' (the issuer is compared as an exact string), got {issuer!r}"
    return None


def _redis_problem(url: str) -> str | None:
    """Why ``url`` is not a Redis URL the service can use, or ``None``; the URL is shown
    redacted (:func:`redacted_url`)."""
    shown = redacted_url(url)
    if not url or any(char <= " " or char == "\x7f" for char in url):
        return f"must be a Redis URL ({_REDIS_EXAMPLE}), without spaces"
    scheme = url.partition("://")[0].lower()
    if "://" not in url or scheme not in REDIS_SCHEMES:
        return f"must be a redis://, rediss:// or unix:// URL ({_REDIS_EXAMPLE}), got {shown}"
    encode = "percent-encode / ? # @ in a password (%2F %3F %23 %40)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"is not a valid URL (a port that is not a number? {encode}), got {shown}"
    if "@" in url and "@" not in parts.netloc:
        return f"is not a valid URL ({encode}), got {shown}"
    if parts.fragment:
        return f"must not have a fragment, got {shown}"
    if scheme == "unix":
        query = parse_qsl(parts.query, keep_blank_values=True)
        if parts.hostname or not parts.path.startswith("/") or parts.path == "/":
            return (
                "a unix:// URL names the socket's absolute path "
                f"(unix:///run/redis/redis.sock?db=0), got {shown}"
            )
        if any(key != "db" or not value.isdigit() for key, value in query):
            return f"a unix:// URL takes only the option db=<number>, got {shown}"
        return None
    if not parts.hostname:
        return f"names no host ({_REDIS_EXAMPLE}), got {shown}"
    if port == 0:
        return f"the port must be between 1 and 65535, got {shown}"
    if parts.query:
        return f"takes no options after '?' (the database is the path: /0), got {shown}"
    if parts.path not in {"", "/"} and not re.fullmatch(r"/[0-9]{1,5}", parts.path):
        return f"the path is the database number (/0, /1, ...), got {shown}"
    return None


def _exposure(s: Settings) -> str | None:
    """Development mode where others can reach it, without being asked for: refused.

    Development opens ``POST /users`` to anyone, serves ``/docs`` and keeps the
    key-encryption key in a file next to the database; that is meant for one machine. On a
    host other than loopback, or behind an https issuer (a public URL), the environment must
    be given: ``production``, or ``development`` on purpose.
    """
    if is_loopback_host(s.host) and not s.issuer.startswith("https://"):
        return None
    where = (
        f"listens on {s.host!r}, which is not a loopback address"
        if not is_loopback_host(s.host)
        else f"has an https issuer ({s.issuer})"
    )
    return (
        f"{_label('environment')}: not set, and the service {where}: development mode (open "
        "registration at POST /users and POST /register, /docs, the key-encryption key in "
        "the key file) is not "
        "assumed there. Set environment = 'production' (JWTKIT_ENVIRONMENT=production or "
        "--environment production, with a key_encryption_key) to deploy, or environment = "
        "'development' explicitly to run a development service there"
    )


def _range_problem(name: str, value: int, low: int, high: int | None, unit: str = "") -> str | None:
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        return f"{_label(name)}: must be {bound}{unit}, got {value}"
    return None


def _text_problem(name: str, value: str) -> str | None:
    if not value.strip():
        return f"{_label(name)}: must not be empty"
    if value != value.strip():
        return f"{_label(name)}: must not start or end with spaces, got {value!r}"
    return None


def resource_problem(resource: str) -> str | None:
    """Why ``resource`` is not an RFC 8707 §2 resource indicator (an absolute URI without a
    fragment, at most 2000 ASCII characters, no spaces), or ``None`` if it is one."""
    scheme, colon, rest = resource.partition(":")
    if (
        not 0 < len(resource) <= 2000
        or not resource.isascii()
        or not resource.isprintable()
        or " " in resource
        or not colon
        or not rest
        or not scheme[:1].isalpha()
        or not all(ch.isalnum() or ch in "+-." for ch in scheme)
    ):
        return f"a resource must be an absolute URI (RFC 8707 §2), got {resource[:100]!r}"
    if "#" in resource:
        return f"a resource must not have a fragment (RFC 8707 §2), got {resource[:100]!r}"
    return None


def _client_registration_problems(s: Settings) -> list[str]:
    """The mode is known; ``"token"`` comes with a token that can be sent as a Bearer token and
    is long enough not to be guessed, and a token comes with ``"token"`` (else registration
    would be open, or off, while the operator believes it protected). The token is never
    shown."""
    problems = []
    mode, token = s.client_registration, s.client_registration_token
    if mode is not None and mode not in CLIENT_REGISTRATION_MODES:
        problems.append(
            f"{_label('client_registration')}: must be one of "
            f"{', '.join(CLIENT_REGISTRATION_MODES)}, got {mode!r}"
        )
    if token is None:
        if mode == "token":
            problems.append(
                f"{_label('client_registration_token')}: required when client_registration is "
                f"'token' (the initial access token of RFC 7591 §3); {_GENERATE_TOKEN}"
            )
        return problems
    if mode != "token":
        problems.append(
            f"{_label('client_registration_token')}: set, but client_registration is "
            f"{'unset' if mode is None else repr(mode)}: set client_registration = 'token' to "
            "require the token at POST /register, or remove the token"
        )
    problems.extend(_bearer_secret_problems("client_registration_token", token))
    return problems


def _bearer_secret_problems(name: str, token: str) -> list[str]:
    """A secret sent as a Bearer token (RFC 6750 §2.1 ``b64token``), long enough not to be
    guessed; never shown."""
    if MIN_REGISTRATION_TOKEN_LENGTH <= len(token) <= _MAX_REGISTRATION_TOKEN_LENGTH and (
        is_b64token(token)
    ):
        return []
    return [
        f"{_label(name)}: must be {MIN_REGISTRATION_TOKEN_LENGTH} to "
        f"{_MAX_REGISTRATION_TOKEN_LENGTH} characters that can be sent as a Bearer token "
        f"(letters, digits, - . _ ~ + / and trailing =; RFC 6750 §2.1); {_GENERATE_TOKEN}"
    ]


def _metrics_problems(s: Settings) -> list[str]:
    """A ``metrics_token`` is a secret like the registration token, and comes with metrics on
    (else the operator believes ``/metrics`` protected while it is off, or the reverse)."""
    if s.metrics_token is None:
        return []
    problems = _bearer_secret_problems("metrics_token", s.metrics_token)
    if s.metrics is False:
        problems.append(
            f"{_label('metrics_token')}: set, but metrics is false: remove the token, or set "
            "metrics = true (or leave it unset) to serve GET /metrics with it"
        )
    return problems


def _id_token_algorithms_problem(algorithms: tuple[str, ...]) -> str | None:
    label = _label("id_token_algorithms")
    unknown = [name for name in algorithms if name not in SIGNING_ALGORITHMS]
    if unknown:
        pq = (
            " (ML-DSA signs access tokens only: an ID token's at_hash needs the hash function "
            "of its alg, OpenID Connect Core 1.0 §3.1.3.6)"
        )
        return (
            f"{label}: each must be one of {', '.join(SIGNING_ALGORITHMS)}, got "
            f"{', '.join(short(name) for name in unknown)}"
            f"{pq if any(name in ML_DSA_ALGORITHMS for name in unknown) else ''}"
        )
    if len(set(algorithms)) != len(algorithms):
        return f"{label}: names an algorithm twice, got {' '.join(algorithms)!r}"
    if ID_TOKEN_REQUIRED_ALGORITHM not in algorithms:
        got = repr(" ".join(algorithms)) if algorithms else "none"
        return (
            f"{label}: must include {ID_TOKEN_REQUIRED_ALGORITHM} (OpenID Connect Discovery 1.0 "
            f"§3: id_token_signing_alg_values_supported MUST include {ID_TOKEN_REQUIRED_ALGORITHM}"
            f"), got {got}"
        )
    return None


def _published_algorithms_problem(s: Settings) -> str | None:
    label = _label("published_algorithms")
    unknown = [name for name in s.published_algorithms if name not in ACCESS_TOKEN_ALGORITHMS]
    if unknown:
        return (
            f"{label}: each must be one of {', '.join(ACCESS_TOKEN_ALGORITHMS)}, got "
            f"{', '.join(short(name) for name in unknown)}"
        )
    if len(set(s.published_algorithms)) != len(s.published_algorithms):
        return f"{label}: names an algorithm twice, got {' '.join(s.published_algorithms)!r}"
    if s.signing_algorithm in s.published_algorithms:
        return (
            f"{label}: must not name signing_algorithm ({s.signing_algorithm}), whose key "
            "signs access tokens already"
        )
    return None


def _value_problems(s: Settings) -> list[str]:
    problems: list[str | None] = []
    add = problems.append
    if s.environment not in ENVIRONMENTS:
        add(
            f"{_label('environment')}: must be 'development' or 'production', got {s.environment!r}"
        )
    issuer = _issuer_problem(s.issuer, s.environment)
    if issuer is not None:
        add(f"{_label('issuer')}: {issuer}")
    elif not s.environment_given and _text_problem("host", s.host) is None:
        add(_exposure(s))
    for name in ("host", "database", "audience", "key_file"):
        add(_text_problem(name, getattr(s, name)))
    if s.redis is not None:
        redis = _redis_problem(s.redis)
        if redis is not None:
            add(f"{_label('redis')}: {redis}")
    add(_range_problem("port", s.port, 0, 65535))
    add(_range_problem("access_token_ttl", s.access_token_ttl, 1, 86400, " seconds"))
    add(_range_problem("demo_access_token_ttl", s.demo_access_token_ttl, 1, 86400, " seconds"))
    add(_range_problem("refresh_idle_ttl", s.refresh_idle_ttl, 1, None, " seconds"))
    add(_range_problem("refresh_absolute_ttl", s.refresh_absolute_ttl, 1, None, " seconds"))
    if s.refresh_idle_ttl > s.refresh_absolute_ttl:
        add(
            f"{_label('refresh_idle_ttl')}: must not exceed refresh_absolute_ttl "
            f"({s.refresh_absolute_ttl}), got {s.refresh_idle_ttl}"
        )
    add(_range_problem("refresh_grace_period", s.refresh_grace_period, 0, 300, " seconds"))
    if s.signing_algorithm not in ACCESS_TOKEN_ALGORITHMS:
        add(
            f"{_label('signing_algorithm')}: must be one of "
            f"{', '.join(ACCESS_TOKEN_ALGORITHMS)}, got {s.signing_algorithm!r}"
        )
    add(_id_token_algorithms_problem(s.id_token_algorithms))
    add(_published_algorithms_problem(s))
    if s.key_encryption_key is not None:
        try:
            decode_key_encryption_key(s.key_encryption_key)
        except ValueError as exc:
            add(f"{_label('key_encryption_key')}: {exc}")
    elif s.environment == "production":
        add(
            f"{_label('key_encryption_key')}: required in production (signing keys are "
            f"encrypted at rest under it); {_GENERATE_KEK}"
        )
    if not is_client_id(s.first_party_client_id):
        add(
            f"{_label('first_party_client_id')}: must be 1 to 128 printable ASCII characters "
            f"without spaces, got {s.first_party_client_id!r}"
        )
    problems.extend(_client_registration_problems(s))
    if s.default_scope and not is_scope(s.default_scope):
        add(
            f"{_label('default_scope')}: must be scope tokens separated by single spaces "
            f"(RFC 6749 §3.3), got {s.default_scope!r}"
        )
    add(_text_problem("product_name", s.product_name))
    if len(s.product_name) > 60 or not s.product_name.isprintable():
        add(f"{_label('product_name')}: must be 1 to 60 printable characters")
    add(_range_problem("session_idle_ttl", s.session_idle_ttl, 60, None, " seconds"))
    add(_range_problem("session_absolute_ttl", s.session_absolute_ttl, 60, None, " seconds"))
    if s.session_idle_ttl > s.session_absolute_ttl:
        add(
            f"{_label('session_idle_ttl')}: must not exceed session_absolute_ttl "
            f"({s.session_absolute_ttl}), got {s.session_idle_ttl}"
        )
    add(
        _range_problem(
            "authorization_code_ttl",
            s.authorization_code_ttl,
            1,
            60,
            " seconds (RFC 6749 §4.1.2 recommends at most 10 minutes; OAuth 2.1 short)",
        )
    )
    for resource in s.resources.split(" ") if s.resources else ():
        problem = resource_problem(resource)
        if problem is not None:
            add(f"{_label('resources')}: {problem}")
            break
    add(_range_problem("argon2_time_cost", s.argon2_time_cost, 1, 100))
    add(_range_problem("argon2_parallelism", s.argon2_parallelism, 1, 255))
    add(
        _range_problem(
            "argon2_memory_cost",
            s.argon2_memory_cost,
            8 * max(s.argon2_parallelism, 1),
            4 * 1024 * 1024,
            " KiB (at least 8 x argon2_parallelism)",
        )
    )
    if s.environment == "production" and s.argon2_memory_cost < _PRODUCTION_MIN_ARGON2_MEMORY:
        add(
            f"{_label('argon2_memory_cost')}: must be at least {_PRODUCTION_MIN_ARGON2_MEMORY} "
            f"KiB in production (OWASP's minimum for Argon2id), got {s.argon2_memory_cost}"
        )
    add(_range_problem("login_max_failures_per_user", s.login_max_failures_per_user, 1, None))
    add(_range_problem("login_max_failures_per_ip", s.login_max_failures_per_ip, 1, None))
    add(_range_problem("login_failure_window", s.login_failure_window, 1, None, " seconds"))
    add(_range_problem("registration_max_per_ip", s.registration_max_per_ip, 1, None))
    add(_range_problem("max_body_bytes", s.max_body_bytes, 1024, 16 * 1024 * 1024, " bytes"))
    problems.extend(_metrics_problems(s))
    if s.log_level not in LOG_LEVELS:
        add(f"{_label('log_level')}: must be one of {', '.join(LOG_LEVELS)}, got {s.log_level!r}")
    if s.log_format not in LOG_FORMATS:
        add(
            f"{_label('log_format')}: must be one of {', '.join(LOG_FORMATS)}, got {s.log_format!r}"
        )
    add(_range_problem("workers", s.workers, 1, 128))
    return [problem for problem in problems if problem is not None]


# -- loading ---------------------------------------------------------------------------------


def _convert(name: str, value: object, source: str, problems: list[str]) -> object:
    """``value`` as the field's type; strings are parsed. Bad values go to ``problems``."""
    base, optional = _KINDS[name]
    if isinstance(value, str):
        text = value.strip()
        if optional and text == "":
            return None
        if base is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
        elif base is int:
            if _INTEGER_TEXT.fullmatch(text):
                return int(text)
        elif base is tuple:
            return tuple(name for name in _LIST_SEPARATOR.split(text) if name)
        else:
            return value
    elif base is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return tuple(value)
    elif base is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, base):
        return value
    expected = _TYPE_WORDS[base]
    if base is bool:
        expected += " (also yes/no, on/off, 1/0)"
    problems.append(f"{name}: expected {expected}, got {_show(name, value)} ({source})")
    return None


def _unknown(kind: str, names: list[str], known: list[str], prefix: str = "") -> str:
    """``unknown <kind>: a (did you mean b?), c``; suggestions compare names without ``prefix``."""
    bare = {name[len(prefix) :]: name for name in known}
    described = []
    for name in sorted(names):
        close = difflib.get_close_matches(name[len(prefix) :], list(bare), n=1)
        described.append(f"{name} (did you mean {bare[close[0]]}?)" if close else name)
    return f"unknown {kind}: {', '.join(described)}"


def _toml_module() -> ModuleType:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only the file loader needs it

        return tomllib
    return require("tomli", "server")  # pragma: no cover - Python 3.10


def _read_toml(path: str, problems: list[str]) -> dict[str, object]:
    toml = _toml_module()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    try:
        document: dict[str, object] = toml.loads(data.decode("utf-8"))
    except ValueError as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    unknown = [key for key in document if key not in _KINDS]
    if unknown:
        message = f"config file {path}: " + _unknown("keys", unknown, list(_KINDS))
        if "jwtkit" in unknown:
            message += " (settings go at the top level of the file, not in a [jwtkit] table)"
        problems.append(message)
    return {
        key: _convert(key, value, f"from config file {path}", problems)
        for key, value in document.items()
        if key in _KINDS
    }


def _read_env(env: Mapping[str, str], problems: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    unknown = []
    known = [env_var(name) for name in _KINDS]
    for variable, value in env.items():
        if not variable.startswith(ENV_PREFIX) or variable == CONFIG_ENV_VAR:
            continue
        name = variable[len(ENV_PREFIX) :].lower()
        if name in _KINDS and variable == env_var(name):
            values[name] = _convert(name, value, f"from environment variable {variable}", problems)
        else:
            unknown.append(variable)
    if unknown:
        problems.append(
            _unknown("environment variables", unknown, [*known, CONFIG_ENV_VAR], ENV_PREFIX)
        )
    return values


def _read_cli(cli: Mapping[str, Any], problems: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    unknown = []
    for option, value in cli.items():
        name = option.replace("-", "_")
        if name not in _KINDS:
            unknown.append(option)
        elif value is not None:
            values[name] = _convert(
                name, value, f"from option --{name.replace('_', '-')}", problems
            )
    if unknown:
        problems.append(_unknown("command-line settings", unknown, list(_KINDS)))
    return values


def load_settings(
    *,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Settings:
    """Merge CLI > ``JWTKIT_*`` environment > TOML file > defaults, then validate.

    ``env`` defaults to ``os.environ``; ``config_file`` (the ``--config`` option) defaults to
    ``$JWTKIT_CONFIG``. In ``cli``, keys are field names (dashes allowed) and ``None`` means
    "not given". Raises :class:`ConfigError` listing every problem found.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    problems: list[str] = []
    path = config_file if config_file is not None else environ.get(CONFIG_ENV_VAR) or None
    merged: dict[str, object] = {}
    if path is not None:
        merged.update(_read_toml(path, problems))
    merged.update(_read_env(environ, problems))
    merged.update(_read_cli(cli or {}, problems))
    if problems:
        raise ConfigError(problems)
    return Settings(**merged)  # type: ignore[arg-type] # each value was converted to its type
