"""JSON Web Tokens (RFC 7519): ``encode``, ``decode``, ``decode_complete``,
``decode_unverified`` and the reusable :class:`Verifier`.

Decoding always verifies the signature first (security matrix E4) and then validates the
claims (:mod:`jwtkit._claims`). The :class:`Verifier` does the per-key and per-option work once
and caches verified protected headers by their base64url segment, so the steady-state cost of a
token is one HMAC (or one signature check), two base64url decodes and one JSON parse.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ._claims import ClaimsPolicy, seconds, to_timestamp
from ._codec import (
    DEFAULT_MAX_TOKEN_SIZE,
    b64url_decode,
    b64url_decode_fast,
    b64url_encode,
    json_dumps,
    json_loads_object,
)
from ._header import check_header
from ._jwa_signing import SignatureAlgorithm, Signer, VerifyFunction
from ._jwe_common import DecryptedJWE
from ._jwe_decrypt import decrypt as jwe_decrypt
from ._jwe_encrypt import encrypt as jwe_encrypt
from ._jws_compact import (
    VerifiedJWS,
    allowed_algorithms,
    build_header,
    encode_header,
    pick_sign_algorithm,
    split_compact,
    verify_segments,
)
from ._jws_json import DEFAULT_MAX_SIGNATURES, sign_json
from ._jws_json import Signer as JWSSigner
from ._jws_policy import SignaturePolicy, verify_with_policy
from ._keysource import KeyArgument, KeySource, coerce_key
from ._memo import UNSHARED, SharedMemo, held, key_part, value_part
from ._messages import short
from ._types import Claims, Header
from .errors import (
    InvalidSignature,
    InvalidType,
    MalformedToken,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY, Registry
from .jwk import Key, KeySet, OctKey

__all__ = [
    "DecodedJSONJWT",
    "DecodedJWT",
    "Verifier",
    "decode",
    "decode_complete",
    "decode_json",
    "decode_unverified",
    "encode",
    "encode_json",
    "normalize_typ",
]

_JWT_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_TIME_CLAIMS = ("exp", "nbf", "iat")

Clock = Callable[[], float]
#: Why decode refuses ``none`` whatever the registry (RFC 8725 §3.2), and what to use instead.
_NONE_REFUSED = (
    "'none' cannot be accepted by decode: a JWT must be signed (RFC 8725 §3.2); to read an "
    "unsecured token's claims without verifying anything, use jwtkit.decode_unverified"
)
Now = float | datetime | None


@dataclass(frozen=True)
class DecodedJWT:
    """A decoded token: its protected header and claims, and how it was verified.

    Subscripting with ``"header"``, ``"payload"`` and ``"signature"`` works as with PyJWT's
    ``decode_complete``.
    """

    header: Header
    claims: Claims
    signature: bytes
    #: The algorithm that verified the token (``None`` from ``decode_unverified``).
    algorithm: str | None = None
    #: The trusted key that verified the signature (``None`` from ``decode_unverified``).
    key: Key | None = None
    #: For an encrypted JWT: the protected header of the JWE around it.
    encryption_header: Header | None = None

    def __getitem__(self, name: str) -> Any:
        if name == "header":
            return self.header
        if name == "payload":
            return self.claims
        if name == "signature":
            return self.signature
        raise KeyError(name)


@dataclass(frozen=True)
class DecodedJSONJWT:
    """A JWT in JWS JSON serialization (a hybrid token), verified under a signature policy and
    its claims validated: the claims, and every signature that verified, in document order."""

    claims: Claims
    signatures: tuple[VerifiedJWS, ...]

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms of the signatures that verified, in document order."""
        return tuple(signature.algorithm for signature in self.signatures)


def normalize_typ(value: str) -> str:
    """RFC 7515 §4.1.9: media types compare case-insensitively and ``application/`` may be
    omitted when no other ``/`` appears (``JWT`` == ``application/jwt``)."""
    value = value.lower()
    if value.startswith("application/") and "/" not in value[12:]:
        return value[12:]
    return value


def _now(now: Now, clock: Clock) -> float:
    if now is None:
        return clock()
    return to_timestamp(now, "now")


# --------------------------------------------------------------------------------------------
# encode


def _claims_json(payload: Mapping[str, Any], json_encoder: type[Any] | None) -> bytes:
    try:
        if json_encoder is None:
            return json_dumps(payload)
        text: str = json_encoder(separators=(",", ":"), allow_nan=False).encode(payload)
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise UsageError(f"payload is not JSON-serializable: {exc}") from None


@dataclass(frozen=True)
class _PreparedSigner:
    algorithm: SignatureAlgorithm
    key: Key
    sign: Signer


def _prepare_signer(
    key: Key | bytes | str, algorithm: str | None, registry: Registry
) -> _PreparedSigner:
    """Key checks and per-key set-up for signing."""
    signing_key = coerce_key(key)
    if algorithm is None and signing_key.alg is None and isinstance(signing_key, OctKey):
        algorithm = "HS256"  # PyJWT's default for secrets
    alg = pick_sign_algorithm(algorithm, signing_key, registry)
    if alg.unsecured:
        raise UsageError("'none' takes no key; pass key=None")
    return _PreparedSigner(alg, signing_key, alg.signer(signing_key))


_SHARED_SIGNERS: SharedMemo[_PreparedSigner] = SharedMemo(256)


def _signer_for(
    key: Key | bytes | str, algorithm: str | None, registry: Registry
) -> _PreparedSigner:
    """The prepared signer for ``key`` and ``algorithm``, done once per key (the memo rule of
    :mod:`jwtkit._memo`: a key object by identity, a secret by value)."""
    part = key if type(key) is bytes else key_part(key)
    if part is UNSHARED:
        return _prepare_signer(key, algorithm, registry)
    signature = (part, algorithm if type(algorithm) is str else value_part(algorithm), registry)
    prepared = _SHARED_SIGNERS.get(signature)
    if prepared is None:
        prepared = _prepare_signer(key, algorithm, registry)
        _SHARED_SIGNERS.put(signature, prepared, key, registry)
    return prepared


@lru_cache(maxsize=256)
def _plain_header_segment(algorithm: str, kid: str | None, typ: str | None) -> str:
    """The encoded header ``{"alg", "typ", "kid"}``, the one most tokens carry."""
    header: Header = {} if typ is None else {"typ": typ}
    return encode_header(
        build_header(algorithm, None, header if kid is None else {**header, "kid": kid})
    )


def encode(
    payload: Mapping[str, Any],
    key: Key | bytes | str | None,
    algorithm: str | None = None,
    headers: Mapping[str, Any] | None = None,
    *,
    expires_in: float | timedelta | None = None,
    not_before: float | timedelta | datetime | None = None,
    typ: str | None = "JWT",
    json_encoder: type[Any] | None = None,
    now: Now = None,
    registry: Registry = DEFAULT_REGISTRY,
    encrypt_with: Key | bytes | str | None = None,
    encryption_algorithm: str | None = None,
    content_encryption: str = "A256GCM",
    encryption_headers: Mapping[str, Any] | None = None,
    allow_unsigned: bool = False,
) -> str:
    """Sign ``payload`` as a JWT in compact form (RFC 7519 §7.1).

    ``algorithm`` defaults to the key's own ``alg`` (and to ``HS256`` for a bare secret, as in
    PyJWT). ``datetime`` values of ``exp``/``nbf``/``iat`` become NumericDates; ``expires_in``
    sets ``iat`` (now) and ``exp``; ``not_before`` sets ``nbf`` (seconds from now, a timedelta,
    or a datetime). The key's ``kid`` goes into the header. ``payload`` is never mutated.

    ``encrypt_with`` makes a nested JWT (RFC 7519 §5.2, §11.2): the signed JWT is then
    encrypted to that key with ``encryption_algorithm`` (default: the key's own ``alg``) and
    ``content_encryption``, in a JWE whose header says ``cty: "JWT"``. An encrypted JWT with no
    signature inside needs ``key=None`` and ``allow_unsigned=True``.
    """
    if encrypt_with is not None:
        return _encode_encrypted(
            payload,
            key,
            algorithm,
            headers,
            encrypt_with=encrypt_with,
            encryption_algorithm=encryption_algorithm,
            content_encryption=content_encryption,
            encryption_headers=encryption_headers,
            allow_unsigned=allow_unsigned,
            expires_in=expires_in,
            not_before=not_before,
            typ=typ,
            json_encoder=json_encoder,
            now=now,
            registry=registry,
        )
    if allow_unsigned:
        raise UsageError("allow_unsigned applies to encrypted JWTs only (with encrypt_with=...)")
    claims = _claims_to_sign(payload, expires_in, not_before, now)
    signer: Signer | None = None
    if key is None:
        alg = pick_sign_algorithm(algorithm, None, registry)
        if not alg.unsecured:
            raise UsageError(f"{alg.name} needs a key")
        signing_key: Key | None = None
    else:
        prepared = _signer_for(key, algorithm, registry)
        alg, signing_key, signer = prepared.algorithm, prepared.key, prepared.sign
    if headers or signing_key is None:
        header_extra: Header = {} if typ is None else {"typ": typ}
        if headers:
            header_extra.update(headers)
        header = build_header(alg.name, signing_key, header_extra)
        if header.get("b64") is False:
            raise UsageError(
                "a JWT payload is always base64url-encoded; 'b64': false is not allowed"
            )
        header_segment = encode_header(header)
    else:
        if typ is not None and not isinstance(typ, str):
            raise UsageError("typ: expected a string or None")
        header_segment = _plain_header_segment(alg.name, signing_key.kid, typ)
    signing_input = header_segment + "." + b64url_encode(_claims_json(claims, json_encoder))
    signature = b"" if signer is None else signer(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def _encode_encrypted(
    payload: Mapping[str, Any],
    key: Key | bytes | str | None,
    algorithm: str | None,
    headers: Mapping[str, Any] | None,
    *,
    encrypt_with: Key | bytes | str,
    encryption_algorithm: str | None,
    content_encryption: str,
    encryption_headers: Mapping[str, Any] | None,
    allow_unsigned: bool,
    expires_in: float | timedelta | None,
    not_before: float | timedelta | datetime | None,
    typ: str | None,
    json_encoder: type[Any] | None,
    now: Now,
    registry: Registry,
) -> str:
    """A nested JWT: sign, then encrypt (RFC 7519 §5.2 and §11.2, RFC 8725 §3.3)."""
    recipient = coerce_key(encrypt_with)
    outer: Header = dict(encryption_headers or {})
    if key is None:
        if not allow_unsigned:
            raise UsageError(
                "an encrypted JWT is signed first: pass a signing key, or key=None with "
                "allow_unsigned=True for an unsigned encrypted JWT"
            )
        plaintext = _claims_json(
            _claims_to_sign(payload, expires_in, not_before, now), json_encoder
        )
        if typ is not None:
            outer.setdefault("typ", typ)
    else:
        inner = encode(
            payload,
            key,
            algorithm,
            headers,
            expires_in=expires_in,
            not_before=not_before,
            typ=typ,
            json_encoder=json_encoder,
            now=now,
            registry=registry,
        )
        plaintext = inner.encode("ascii")
        outer["cty"] = "JWT"
    management = encryption_algorithm if encryption_algorithm is not None else recipient.alg
    if management is None:
        raise UsageError(
            "encryption_algorithm is required (e.g. 'RSA-OAEP-256' or 'ECDH-ES+A256KW') when "
            "the recipient key has no 'alg'"
        )
    return jwe_encrypt(
        plaintext,
        recipient,
        algorithm=management,
        encryption=content_encryption,
        headers=outer,
        registry=registry,
    )


def encode_json(
    payload: Mapping[str, Any],
    signers: Sequence[JWSSigner],
    *,
    expires_in: float | timedelta | None = None,
    not_before: float | timedelta | datetime | None = None,
    typ: str | None = "JWT",
    json_encoder: type[Any] | None = None,
    now: Now = None,
    registry: Registry = DEFAULT_REGISTRY,
) -> dict[str, Any]:
    """Sign ``payload`` as a JWT with several signatures: a JWS in the general JSON
    serialization (RFC 7515 §7.2.1), one signature per :class:`~jwtkit.jws.Signer`.

    A hybrid token: sign with a classical and a post-quantum key, and let each verifier apply
    its :class:`~jwtkit.jws.SignaturePolicy` (:func:`decode_json`). The claims are prepared as
    :func:`encode` prepares them (``expires_in``, ``not_before``, datetimes); ``typ`` goes into
    each signature's protected header unless the signer sets its own.

    .. warning:: RFC 7519 §1 defines JWTs in the compact serialization only, which carries one
       signature; a JSON-serialized JWT is read by :func:`decode_json` (and other JWS JSON
       libraries), not by ``decode`` or by libraries that expect a compact JWT.
    """
    if isinstance(signers, (JWSSigner, str, bytes)) or not isinstance(signers, Sequence):
        raise UsageError("signers must be a sequence of jws.Signer, e.g. [Signer(key, 'ES256')]")
    if typ is not None and not isinstance(typ, str):
        raise UsageError("typ: expected a string or None")
    prepared = []
    for signer in signers:
        if not isinstance(signer, JWSSigner):
            raise UsageError(f"signers: expected jws.Signer, got {type(signer).__name__}")
        protected = dict(signer.protected or {})
        if protected.get("b64", True) is not True:
            raise UsageError(
                "a JWT payload is always base64url-encoded; 'b64': false is not allowed"
            )
        if typ is not None and "typ" not in protected and "typ" not in (signer.unprotected or {}):
            protected["typ"] = typ
        prepared.append(replace(signer, protected=protected))
    claims = _claims_to_sign(payload, expires_in, not_before, now)
    return sign_json(_claims_json(claims, json_encoder), prepared, registry=registry)


def _claims_to_sign(
    payload: Mapping[str, Any],
    expires_in: float | timedelta | None,
    not_before: float | timedelta | datetime | None,
    now: Now,
) -> Claims:
    """The claims ``encode`` serializes: a dict, never the caller's object when anything is
    added, with datetimes as NumericDates and ``expires_in``/``not_before`` applied."""
    if type(payload) is not dict:
        if not isinstance(payload, Mapping):
            raise UsageError(f"payload must be a mapping of claims, got {type(payload).__name__}")
        payload = dict(payload)
    get = payload.get
    if (
        expires_in is not None
        or not_before is not None
        or isinstance(get("exp"), datetime)
        or isinstance(get("nbf"), datetime)
        or isinstance(get("iat"), datetime)
    ):
        return _with_times(payload, expires_in, not_before, now)
    return payload


def _with_times(
    payload: Mapping[str, Any],
    expires_in: float | timedelta | None,
    not_before: float | timedelta | datetime | None,
    now: Now,
) -> Claims:
    claims = dict(payload)
    for name in _TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, datetime):
            claims[name] = int(to_timestamp(value, name))
    if expires_in is not None or not_before is not None:
        current = int(_now(now, time.time))
        if expires_in is not None:
            claims["iat"] = current
            claims["exp"] = current + int(seconds(expires_in, "expires_in"))
        if isinstance(not_before, datetime):
            claims["nbf"] = int(to_timestamp(not_before, "not_before"))
        elif not_before is not None:
            claims["nbf"] = current + int(seconds(not_before, "not_before"))
    return claims


# --------------------------------------------------------------------------------------------
# decode


@dataclass(frozen=True)
class _HeaderEntry:
    header: Header
    algorithm: str
    checks: tuple[tuple[Key, VerifyFunction], ...]
    #: The provider's key set the checks were prepared from (``None`` for fixed keys).
    keyset: KeySet | None


@dataclass(frozen=True)
class _Decryption:
    """How a Verifier decrypts encrypted JWTs (all of them, when configured)."""

    key: KeyArgument
    algorithms: tuple[str, ...]
    encryptions: tuple[str, ...]
    allow_unsigned: bool

    @classmethod
    def build(
        cls,
        key: KeyArgument | None,
        algorithms: Iterable[str] | None,
        encryptions: Iterable[str] | None,
        allow_unsigned: bool,
    ) -> _Decryption | None:
        if key is None:
            if algorithms is not None or encryptions is not None or allow_unsigned:
                raise UsageError(
                    "decryption_algorithms, content_encryptions and allow_unsigned need a "
                    "decryption_key"
                )
            return None
        if isinstance(algorithms, (str, bytes)) or isinstance(encryptions, (str, bytes)):
            raise UsageError("decryption allow-lists must be lists of names, not strings")
        if algorithms is None or encryptions is None:
            raise UsageError(
                "an encrypted JWT needs allow-lists: decryption_algorithms=[...] (e.g. "
                "['RSA-OAEP-256']) and content_encryptions=[...] (e.g. ['A256GCM'])"
            )
        return cls(key, tuple(algorithms), tuple(encryptions), bool(allow_unsigned))


class Verifier:
    """Verify and validate many JWTs with the same keys and expectations. Build once, reuse.

    Takes the same arguments as :func:`decode` (``clock`` replaces ``now``: a callable that
    returns the current Unix time, :func:`time.time` by default) and is safe to share between
    threads. ``decode(token)`` returns the claims; ``decode_complete(token)`` also the header.
    With an async key provider (``jwtkit.remote.AsyncJWKSClient``) use ``await adecode(token)``
    and ``await adecode_complete(token)``.
    """

    __slots__ = (
        "_allowed",
        "_cache",
        "_cache_lock",
        "_cache_size",
        "_clock",
        "_crit",
        "_decryption",
        "_max_size",
        "_policy",
        "_registry",
        "_source",
        "_typ",
    )

    def __init__(
        self,
        key: KeyArgument | None,
        *,
        algorithms: Iterable[str] | None = None,
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
        require: Iterable[str] = (),
        max_age: float | timedelta | None = None,
        typ: str | None = None,
        options: Mapping[str, Any] | None = None,
        crit: Collection[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        clock: Clock | None = None,
        header_cache_size: int = 128,
        decryption_key: KeyArgument | None = None,
        decryption_algorithms: Iterable[str] | None = None,
        content_encryptions: Iterable[str] | None = None,
        allow_unsigned: bool = False,
    ) -> None:
        self._decryption = _Decryption.build(
            decryption_key, decryption_algorithms, content_encryptions, allow_unsigned
        )
        self._source = KeySource(key)
        self._registry = registry
        if (
            key is None
            and algorithms is None
            and self._decryption is not None
            and self._decryption.allow_unsigned
        ):
            self._allowed: frozenset[str] = frozenset()  # unsigned encrypted JWTs only
        else:
            if algorithms is not None and not isinstance(algorithms, (str, bytes)):
                algorithms = list(algorithms)
                if any(isinstance(name, str) and name.lower() == "none" for name in algorithms):
                    raise UsageError(_NONE_REFUSED)
            self._allowed = allowed_algorithms(algorithms, self._source, registry)
        if any(registry.signature(name).unsecured for name in self._allowed):  # type: ignore[union-attr]
            raise UsageError(_NONE_REFUSED)
        self._policy = ClaimsPolicy.build(
            audience=audience,
            issuer=issuer,
            subject=subject,
            leeway=leeway,
            require=require,
            max_age=max_age,
            options=options,
        )
        if typ is not None and not isinstance(typ, str):
            raise UsageError("typ: expected a string such as 'at+jwt'")
        self._typ = None if typ is None else normalize_typ(typ)
        self._crit = frozenset(crit)
        self._max_size = max_token_size
        self._clock: Clock = time.time if clock is None else clock
        self._cache: dict[str, _HeaderEntry] = {}
        self._cache_size = header_cache_size if self._source.cacheable else 0
        self._cache_lock = threading.Lock()

    @property
    def asynchronous(self) -> bool:
        """``True`` when the keys come from an async provider: call :meth:`adecode`."""
        return self._source.async_provider is not None

    def decode(self, token: str | bytes, *, now: Now = None) -> Claims:
        """Verify ``token`` and validate its claims; return the claims."""
        if self._decryption is not None:
            return self.decode_complete(token, now=now).claims
        claims = self._decode_cached(token, now, None)
        if claims is not None:
            return claims
        return self._decode_complete(token, now, None).claims

    def decode_complete(self, token: str | bytes, *, now: Now = None) -> DecodedJWT:
        """Verify ``token`` and validate its claims; return header, claims and the key used."""
        if self._decryption is not None:
            unwrapped = self._unwrap(token, now)
            if isinstance(unwrapped, DecodedJWT):
                return unwrapped
            inner, outer = unwrapped
            return replace(self._decode_complete(inner, now, None), encryption_header=outer)
        return self._decode_complete(token, now, None)

    async def adecode(self, token: str | bytes, *, now: Now = None) -> Claims:
        """:meth:`decode` for async key providers: awaits the provider for its keys."""
        if self._decryption is not None:
            return (await self.adecode_complete(token, now=now)).claims
        keys = await self._provider_keys_async(token)
        claims = self._decode_cached(token, now, keys)
        if claims is not None:
            return claims
        return self._decode_complete(token, now, keys).claims

    async def adecode_complete(self, token: str | bytes, *, now: Now = None) -> DecodedJWT:
        """:meth:`decode_complete` for async key providers."""
        if self._decryption is not None:
            unwrapped = self._unwrap(token, now)
            if isinstance(unwrapped, DecodedJWT):
                return unwrapped
            inner, outer = unwrapped
            keys = await self._provider_keys_async(inner)
            return replace(self._decode_complete(inner, now, keys), encryption_header=outer)
        return self._decode_complete(token, now, await self._provider_keys_async(token))

    def decode_json(
        self,
        document: Mapping[str, Any] | str | bytes,
        *,
        policy: SignaturePolicy,
        now: Now = None,
        max_signatures: int = DEFAULT_MAX_SIGNATURES,
    ) -> DecodedJSONJWT:
        """Verify a JWT in JWS JSON serialization (a hybrid token from :func:`encode_json`)
        under ``policy`` (:class:`~jwtkit.jws.SignaturePolicy`, RFC 7515 §5.2), then check
        each verified signature's header (``typ`` protected, no ``b64: false``, no nested
        ``cty``) and validate the claims with this verifier's expectations, as :meth:`decode`
        does. Signatures are checked before claims (security matrix E4)."""
        if self._decryption is not None:
            raise UsageError("decode_json reads signed JWS JSON; this Verifier decrypts JWEs")
        if self.asynchronous:
            raise UsageError(
                "decode_json needs keys at hand: pass a KeySet or a synchronous JWKS client"
            )
        verified = verify_with_policy(
            document,
            self._source,
            self._allowed,
            policy,
            detached_payload=None,
            crit=self._crit,
            registry=self._registry,
            max_token_size=self._max_size,
            max_signatures=max_signatures,
        )
        for signature in verified:
            self._check_jwt_header({**(signature.unprotected or {}), **signature.header})
            # A typ only in the unprotected header could be added by anyone (RFC 8725 §3.11).
            self._check_typ(signature.header)
        claims = json_loads_object(verified[0].payload, "claims")
        self._policy.check(claims, _now(now, self._clock))
        return DecodedJSONJWT(claims, verified)

    def _unwrap(self, token: str | bytes, now: Now) -> tuple[str, Header] | DecodedJWT:
        """Decrypt an encrypted JWT: the inner signed JWT and the JWE header, or the whole
        result for an unsigned encrypted JWT (RFC 7519 §7.2 steps 8-9; RFC 8725 §3.11)."""
        decryption = self._decryption
        assert decryption is not None  # noqa: S101 - only called with decryption configured
        if (isinstance(token, str) and token.count(".") == 2) or (
            isinstance(token, bytes) and token.count(b".") == 2
        ):
            raise MalformedToken(
                "token: a signed JWT (3 segments) was given where an encrypted JWT was "
                "expected (decryption_key is set)"
            )
        decrypted: DecryptedJWE = jwe_decrypt(
            token,
            decryption.key,
            algorithms=decryption.algorithms,
            encryptions=decryption.encryptions,
            crit=self._crit,
            registry=self._registry,
            max_token_size=self._max_size,
        )
        header = decrypted.header
        cty = header.get("cty")
        if isinstance(cty, str) and normalize_typ(cty) == "jwt":
            try:
                inner = decrypted.plaintext.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedToken("nested JWT: the plaintext is not a compact JWT") from None
            return inner, header
        if not decryption.allow_unsigned:
            raise MalformedToken(
                "encrypted JWT: the plaintext is not a signed JWT (cty is not 'JWT'); unsigned "
                "encrypted JWTs are accepted only with allow_unsigned=True"
            )
        self._check_typ(header)
        claims = json_loads_object(decrypted.plaintext, "claims")
        self._policy.check(claims, _now(now, self._clock))
        return DecodedJWT(header, claims, b"", None, None, encryption_header=header)

    async def _provider_keys_async(self, token: str | bytes) -> KeySet | None:
        provider = self._source.async_provider
        if provider is None:
            return None
        header_segment = _split_jwt(token, self._max_size)[0]
        entry = self._cache.get(header_segment)
        header = entry.header if entry is not None else self._checked_header(header_segment)
        return await self._source.async_provider_keys(header)

    def _entry_for(self, segment: str, keys: KeySet | None) -> _HeaderEntry | None:
        """The cached entry of a header segment, if its keys are still the current ones."""
        entry = self._cache.get(segment)
        if entry is None or entry.keyset is None:
            return entry
        current = keys if keys is not None else self._source.provider_keys(entry.header)
        return entry if current is entry.keyset else None

    def _decode_cached(self, token: str | bytes, now: Now, keys: KeySet | None) -> Claims | None:
        """The fast path for a header seen (and verified) before; ``None`` to take the full one.

        Anything unusual (bytes input, a new header, non-ASCII text, any decoding flaw) takes
        the full path, which reports the precise error. A cached header segment is known to be
        well formed, the signature check compares canonical encodings and the payload decoder
        is strict, so no separate pass over the token's alphabet is needed here.
        """
        if type(token) is not str or len(token) > self._max_size:
            return None
        signing_input, _, signature = token.rpartition(".")
        header_segment, _, payload_segment = signing_input.partition(".")
        entry = self._entry_for(header_segment, keys)
        if entry is None or not signing_input.isascii():
            return None
        data = signing_input.encode("ascii")
        for _, check in entry.checks:
            if check(data, signature):
                try:
                    payload = b64url_decode_fast(payload_segment)
                except ValueError:
                    return None  # reported precisely by the full path
                claims = json_loads_object(payload, "claims")
                self._policy.check(
                    claims, self._clock() if now is None else to_timestamp(now, "now")
                )
                return claims
        return None

    def _decode_complete(self, token: str | bytes, now: Now, keys: KeySet | None) -> DecodedJWT:
        header_segment, payload_segment, signature_segment = _split_jwt(token, self._max_size)
        entry = self._entry_for(header_segment, keys)
        key: Key | None = None
        if entry is not None:
            data = f"{header_segment}.{payload_segment}".encode("ascii")
            for candidate, check in entry.checks:
                if check(data, signature_segment):
                    key = candidate
                    break
            else:
                raise InvalidSignature()
            # Each result gets its own copy: a caller may change it, the cache must not change.
            header, algorithm = dict(entry.header), entry.algorithm
            payload = b64url_decode(payload_segment, "payload")
        else:
            header = self._checked_header(header_segment)
            if keys is None:
                keys = self._source.provider_keys(header)
            verified = verify_segments(
                header_segment,
                payload_segment,
                signature_segment,
                header,
                self._source,
                self._allowed,
                self._registry,
                keys=keys,
            )
            key, algorithm, payload = verified.key, verified.algorithm, verified.payload
            self._remember(header_segment, header, algorithm, key, keys)
        claims = json_loads_object(payload, "claims")
        self._policy.check(claims, _now(now, self._clock))
        return DecodedJWT(
            header, claims, b64url_decode(signature_segment, "signature"), algorithm, key
        )

    def _checked_header(self, segment: str) -> Header:
        header = json_loads_object(b64url_decode(segment, "header"), "header")
        check_header(header, self._crit)
        self._check_jwt_header(header)
        return header

    def _check_jwt_header(self, header: Header) -> None:
        """What a JWT's JOSE Header must not say (beyond the JWS rules), and its ``typ``."""
        if header.get("b64") is False:
            raise MalformedToken("header: 'b64': false is not allowed in a JWT (RFC 7797 §7)")
        cty = header.get("cty")
        if cty is not None and normalize_typ(cty) == "jwt":
            raise MalformedToken(
                "header: cty 'JWT' marks a nested JWT, which decode does not unwrap"
            )
        self._check_typ(header)

    def _check_typ(self, header: Mapping[str, Any]) -> None:
        if self._typ is not None:
            typ = header.get("typ")
            if typ is None or normalize_typ(typ) != self._typ:
                raise InvalidType(
                    "typ",
                    "unexpected type",
                    f"token type {short(typ)} is not the expected {self._typ!r} (RFC 8725 §3.11)",
                )

    def _remember(
        self,
        segment: str,
        header: Header,
        algorithm: str,
        key: Key | None,
        provided: KeySet | None,
    ) -> None:
        """Cache a header that just verified, with the winning key first (never before)."""
        if not self._cache_size or key is None:
            return
        keys = provided if provided is not None else self._source.static_keys
        assert keys is not None  # noqa: S101 - the cache is enabled for fixed or provided keys
        alg = self._registry.signature(algorithm)
        assert alg is not None  # noqa: S101 - the algorithm just verified a signature
        others = [k for k in keys.select(header.get("kid"), algorithm, "verify") if k is not key]
        checks = tuple((k, alg.verifier(k)) for k in (key, *others))
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[segment] = _HeaderEntry(dict(header), algorithm, checks, provided)


def _split_jwt(token: object, max_size: int) -> tuple[str, str, str]:
    """Split a JWT: strictly three non-empty base64url segments (security matrix A6, A7)."""
    if (isinstance(token, str) and token.count(".") == 4) or (
        isinstance(token, bytes) and token.count(b".") == 4
    ):
        raise MalformedToken(
            "token: 5 segments is a JWE; decode accepts only signed JWTs (JWS compact)"
        )
    header, payload, signature = split_compact(token, max_size)
    if not payload:
        raise MalformedToken("token: a JWT carries its claims; the payload is empty")
    if not _SEGMENT.fullmatch(payload):
        raise MalformedToken("token: the payload must be base64url")
    return header, payload, signature


def decode_complete(
    token: str | bytes,
    key: KeyArgument | None,
    *,
    algorithms: Iterable[str] | None = None,
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    subject: str | None = None,
    leeway: float | timedelta = 0,
    require: Iterable[str] = (),
    max_age: float | timedelta | None = None,
    typ: str | None = None,
    options: Mapping[str, Any] | None = None,
    now: Now = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    decryption_key: KeyArgument | None = None,
    decryption_algorithms: Iterable[str] | None = None,
    content_encryptions: Iterable[str] | None = None,
    allow_unsigned: bool = False,
) -> DecodedJWT:
    """Like :func:`decode`, but return the header and the verifying key as well."""
    return _verifier_for(
        key,
        algorithms,
        audience,
        issuer,
        subject,
        leeway,
        require,
        max_age,
        typ,
        options,
        crit,
        registry,
        max_token_size,
        decryption_key,
        decryption_algorithms,
        content_encryptions,
        allow_unsigned,
    ).decode_complete(token, now=now)


_SHARED_VERIFIERS: SharedMemo[Verifier] = SharedMemo(64)


def _verifier_for(
    key: KeyArgument | None,
    algorithms: Iterable[str] | None,
    audience: str | Iterable[str] | None,
    issuer: str | Iterable[str] | None,
    subject: str | None,
    leeway: float | timedelta,
    require: Iterable[str],
    max_age: float | timedelta | None,
    typ: str | None,
    options: Mapping[str, Any] | None,
    crit: Collection[str],
    registry: Registry,
    max_token_size: int,
    decryption_key: KeyArgument | None = None,
    decryption_algorithms: Iterable[str] | None = None,
    content_encryptions: Iterable[str] | None = None,
    allow_unsigned: bool = False,
) -> Verifier:
    """A :class:`Verifier` for one-shot calls, shared between calls with equal arguments.

    Keys and options are checked and prepared once, as a caller-built ``Verifier`` would be;
    shared verifiers sit in a small bounded memo keyed by the rule of :mod:`jwtkit._memo`
    (keys by identity, so that ``allow_weak`` is honoured and results name the caller's own
    key). Arguments that must not be shared (key resolvers, iterators, unhashable values) get
    a fresh verifier.
    """

    part = key if type(key) is bytes or type(key) is str else key_part(key)
    decryption_part = None if decryption_key is None else key_part(decryption_key)
    signature: Any = None
    if part is not UNSHARED and decryption_part is not UNSHARED:
        # The usual shapes (a secret or PEM, a list of names, str audience and issuer, the
        # defaults) are keyed directly; anything else goes through value_part.
        try:
            signature = (
                part,
                value_part(algorithms),
                audience if type(audience) is str else value_part(audience),
                issuer if type(issuer) is str else value_part(issuer),
                None if subject is None else value_part(subject),
                (type(leeway), leeway) if type(leeway) is int else value_part(leeway),
                () if require == () else value_part(require),
                None if max_age is None else value_part(max_age),
                None if typ is None else value_part(typ),
                None if options is None else value_part(options),
                () if crit == () else value_part(crit),
                registry,
                (type(max_token_size), max_token_size),
                None
                if decryption_key is None
                else (
                    decryption_part,
                    value_part(decryption_algorithms),
                    value_part(content_encryptions),
                    value_part(allow_unsigned),
                ),
            )
            verifier = _SHARED_VERIFIERS.get(signature)
        except TypeError:  # something unhashable, or an iterator: no sharing
            signature = None
        else:
            if verifier is not None:
                return verifier
    verifier = Verifier(
        key,
        algorithms=algorithms,
        audience=audience,
        issuer=issuer,
        subject=subject,
        leeway=leeway,
        require=require,
        max_age=max_age,
        typ=typ,
        options=options,
        crit=crit,
        registry=registry,
        max_token_size=max_token_size,
        decryption_key=decryption_key,
        decryption_algorithms=decryption_algorithms,
        content_encryptions=content_encryptions,
        allow_unsigned=allow_unsigned,
    )
    if signature is not None:
        _SHARED_VERIFIERS.put(signature, verifier, held(key), held(decryption_key), registry)
    return verifier


def decode(
    token: str | bytes,
    key: KeyArgument | None,
    *,
    algorithms: Iterable[str] | None = None,
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    subject: str | None = None,
    leeway: float | timedelta = 0,
    require: Iterable[str] = (),
    max_age: float | timedelta | None = None,
    typ: str | None = None,
    options: Mapping[str, Any] | None = None,
    now: Now = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    decryption_key: KeyArgument | None = None,
    decryption_algorithms: Iterable[str] | None = None,
    content_encryptions: Iterable[str] | None = None,
    allow_unsigned: bool = False,
) -> Claims:
    """Verify a JWT and validate its claims; return the claims (RFC 7519 §7.2).

    ``algorithms`` is the allow-list, required unless every key carries its own ``alg``
    (RFC 8725 §3.1). ``key`` is a :class:`~jwtkit.jwk.Key`, a :class:`~jwtkit.jwk.KeySet`,
    secret bytes/str (HMAC), PEM text (asymmetric) or a callable ``(header) -> Key``.
    Passing ``audience``, ``issuer`` or ``subject`` makes that claim required and exact;
    ``require`` lists more required claims; ``max_age`` bounds the age of ``iat``; ``typ``
    demands a header type (``"at+jwt"``); ``leeway`` allows for clock skew; ``now`` replaces
    the clock. ``options`` accepts PyJWT's ``verify_exp``/``verify_nbf``/``verify_iat``/
    ``verify_aud``/``require``; the signature cannot be skipped.

    Encrypted JWTs (RFC 7519 §5.2, §11.2): with ``decryption_key`` (and the allow-lists
    ``decryption_algorithms`` and ``content_encryptions``) the token must be a JWE; it is
    decrypted and the signed JWT inside is verified with ``key`` and ``algorithms`` as above.
    A JWE without a signed JWT inside is refused unless ``allow_unsigned=True``; a signed JWT
    given where an encrypted one is expected is refused too (security matrix A6).

    .. warning::
       A token that names an audience is rejected unless you pass ``audience``.
    """
    return _verifier_for(
        key,
        algorithms,
        audience,
        issuer,
        subject,
        leeway,
        require,
        max_age,
        typ,
        options,
        crit,
        registry,
        max_token_size,
        decryption_key,
        decryption_algorithms,
        content_encryptions,
        allow_unsigned,
    ).decode(token, now=now)


def decode_json(
    document: Mapping[str, Any] | str | bytes,
    key: KeyArgument | None,
    *,
    policy: SignaturePolicy,
    algorithms: Iterable[str] | None = None,
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    subject: str | None = None,
    leeway: float | timedelta = 0,
    require: Iterable[str] = (),
    max_age: float | timedelta | None = None,
    typ: str | None = None,
    options: Mapping[str, Any] | None = None,
    now: Now = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> DecodedJSONJWT:
    """Verify a JWT in JWS JSON serialization under ``policy`` and validate its claims.

    The arguments are :func:`decode`'s, plus ``policy`` (:class:`~jwtkit.jws.SignaturePolicy`):
    which signatures must verify. Returns the claims and every signature that verified.
    """
    return _verifier_for(
        key,
        algorithms,
        audience,
        issuer,
        subject,
        leeway,
        require,
        max_age,
        typ,
        options,
        crit,
        registry,
        max_token_size,
    ).decode_json(document, policy=policy, now=now)


def decode_unverified(
    token: str | bytes, *, max_token_size: int = DEFAULT_MAX_TOKEN_SIZE
) -> DecodedJWT:
    """Parse a JWT **without verifying anything**, for inspection and debugging only.

    .. warning::
       Nothing returned here can be trusted: anyone can forge it. Use :func:`decode`.
    """
    header_segment, payload_segment, signature_segment = _split_jwt(token, max_token_size)
    header = json_loads_object(b64url_decode(header_segment, "header"), "header")
    claims = json_loads_object(b64url_decode(payload_segment, "payload"), "claims")
    return DecodedJWT(header, claims, b64url_decode(signature_segment, "signature"))
