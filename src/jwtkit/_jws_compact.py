"""JWS Compact Serialization: signing and verifying (RFC 7515 §3.1, §5, §7.1; RFC 7797).

The verification order is fixed and matches RFC 7515 §5.2: check the token's shape, decode and
check the protected header, check ``alg`` against the caller's allow-list, pick trusted keys by
``kid`` and algorithm, verify the signature, and only then hand the payload back.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._codec import (
    DEFAULT_MAX_TOKEN_SIZE,
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_loads_object,
)
from ._header import check_header
from ._jwa_signing import SignatureAlgorithm
from ._keysource import KeyArgument, KeySource, coerce_key
from ._messages import short
from ._types import Header
from .errors import (
    AlgorithmNotAllowed,
    InvalidSignature,
    MalformedToken,
    TokenTooLarge,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY, Registry
from .jwk import Key, KeySet

__all__ = ["VerifiedJWS", "allowed_algorithms", "encode_header", "sign", "verify"]

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class VerifiedJWS:
    """The result of a successful verification: what was signed, and by which key.

    For the JSON serialization (``jws.verify_json``, RFC 7515 §7.2) ``header`` is the protected
    header of the signature that verified (``{}`` when it has none), ``unprotected`` that
    signature's unprotected header and ``signature_index`` its position in ``signatures``; the
    compact serialization leaves both ``None``.
    """

    header: Header
    payload: bytes
    algorithm: str
    #: The trusted key that verified the signature (``None`` only for an opted-in ``none``).
    key: Key | None
    #: JSON serialization only: the position of the verified signature (0 for flattened JSON).
    signature_index: int | None = None
    #: JSON serialization only: that signature's unprotected ``header`` (``None`` when absent).
    unprotected: Header | None = None


def allowed_algorithms(
    algorithms: Iterable[str] | None, source: KeySource, registry: Registry
) -> frozenset[str]:
    """The caller's allow-list, checked: required unless every key carries its own ``alg``.

    RFC 8725 §3.1: the verifier, not the token, decides which algorithms are acceptable.
    """
    if algorithms is None:
        implied = source.default_algorithms()
        if implied is None:
            raise UsageError(
                "algorithms is required (e.g. algorithms=['ES256']) unless every key carries "
                "its own 'alg' (RFC 8725 §3.1)"
            )
        names = implied
    elif isinstance(algorithms, (str, bytes)):
        raise UsageError(
            "algorithms must be a list of names, e.g. ['HS256'], not a string (a membership "
            "test on a string matches its substrings too)"
        )
    else:
        listed = list(algorithms)
        for name in listed:
            if type(name) is not str:
                raise UsageError(f"algorithms: expected names (str), got {type(name).__name__}")
        names = frozenset(listed)
        if not names:
            raise UsageError("algorithms is empty: no token could ever verify")
    for name in names:
        if name not in registry:
            if name.lower() == "none":
                raise UsageError(
                    "'none' is not enabled: pass a registry built with "
                    "DEFAULT_REGISTRY.including(jwtkit.jwa.NONE) to accept unsecured tokens"
                )
            raise UsageError(f"algorithms: {short(name)} is not a supported algorithm")
    return names


def select_algorithm(
    header: Mapping[str, Any], allowed: frozenset[str], registry: Registry
) -> SignatureAlgorithm:
    """The algorithm named by the header, if the caller allows it (byte-exact, A1)."""
    name = header["alg"]
    if name not in allowed:
        raise AlgorithmNotAllowed(
            f"algorithm {short(name)} is not allowed; expected one of {sorted(allowed)}"
        )
    algorithm = registry.signature(name)
    if algorithm is None:  # pragma: no cover - allowed names are checked against the registry
        raise AlgorithmNotAllowed(f"algorithm {short(name)} is not supported")
    return algorithm


def split_compact(token: object, max_size: int) -> tuple[str, str, str]:
    """Split a compact JWS after checking size, dot count and the header/signature alphabet.

    The payload segment is checked later, once the header says whether it is base64url
    (RFC 7797 §5.2 allows an unencoded payload without dots).
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken("token: not ASCII") from None
    if not isinstance(token, str):
        raise MalformedToken(f"token: expected str or bytes, got {type(token).__name__}")
    if len(token) > max_size:
        raise TokenTooLarge(f"token: {len(token)} characters, more than the maximum {max_size}")
    dots = token.count(".")
    if dots != 2:
        raise MalformedToken(f"token: {dots + 1} segments, expected 3 (JWS compact)")
    header, payload, signature = token.split(".")
    if not header or not _SEGMENT.fullmatch(header) or not _SEGMENT.fullmatch(signature):
        raise MalformedToken("token: header and signature must be base64url")
    return header, payload, signature


def decode_header(segment: str) -> Header:
    """The protected header of a segment already checked for the base64url alphabet."""
    return json_loads_object(b64url_decode(segment, "header"), "header")


def verify_segments(
    header_segment: str,
    payload_segment: str,
    signature_segment: str,
    header: Header,
    source: KeySource,
    allowed: frozenset[str],
    registry: Registry,
    detached_payload: bytes | None = None,
    keys: KeySet | None = None,
) -> VerifiedJWS:
    """Verify a compact JWS whose header is already decoded and checked.

    ``keys`` overrides the source's keys (what an async key provider has just supplied).
    """
    algorithm = select_algorithm(header, allowed, registry)
    encoded = header.get("b64", True)
    if detached_payload is not None:
        if payload_segment:
            raise MalformedToken("token: a detached payload was given but the token has one")
        payload = detached_payload
        signed_payload = payload if not encoded else b64url_encode(payload).encode("ascii")
    elif encoded:
        payload = b64url_decode(payload_segment, "payload")
        signed_payload = payload_segment.encode("ascii")
    else:
        payload = signed_payload = payload_segment.encode("utf-8")
    signing_input = header_segment.encode("ascii") + b"." + signed_payload

    if algorithm.unsecured:
        if not source.is_empty:
            raise UsageError("'none' is accepted only when no key is given (RFC 8725 §3.1)")
        if signature_segment:
            raise InvalidSignature()
        return VerifiedJWS(header, payload, algorithm.name, None)
    if not signature_segment:
        raise InvalidSignature()
    for key in source.candidates(header, algorithm.name, "verify", keys):
        if algorithm.verifier(key)(signing_input, signature_segment):
            return VerifiedJWS(header, payload, algorithm.name, key)
    raise InvalidSignature()


def verify(
    token: str | bytes,
    key: KeyArgument | None,
    algorithms: Iterable[str] | None = None,
    *,
    detached_payload: bytes | None = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> VerifiedJWS:
    """Verify a JWS in compact serialization and return its header and payload.

    ``algorithms`` is the allow-list (required unless every key carries its own ``alg``).
    ``detached_payload`` supplies detached content (RFC 7515 Appendix F, RFC 7797).
    ``crit`` names the critical extensions your code processes (RFC 7515 §4.1.11).
    Raises a :class:`~jwtkit.errors.JWTError` subclass on any failure.
    """
    source = KeySource(key)
    allowed = allowed_algorithms(algorithms, source, registry)
    header_segment, payload_segment, signature_segment = split_compact(token, max_token_size)
    header = decode_header(header_segment)
    check_header(header, crit)
    if header.get("b64", True):
        if not _SEGMENT.fullmatch(payload_segment):
            raise MalformedToken("token: payload must be base64url")
    elif detached_payload is None and not payload_segment.isprintable():
        raise MalformedToken("token: an unencoded payload must be printable text (RFC 7797 §5.2)")
    return verify_segments(
        header_segment,
        payload_segment,
        signature_segment,
        header,
        source,
        allowed,
        registry,
        detached_payload,
    )


def build_header(algorithm: str, key: Key | None, headers: Mapping[str, Any] | None) -> Header:
    """The protected header to sign: ``alg`` first, the key's ``kid`` unless overridden."""
    header: Header = {"alg": algorithm}
    if headers:
        if "alg" in headers and headers["alg"] != algorithm:
            raise UsageError(
                f"headers['alg'] is {short(headers['alg'])} but algorithm is {algorithm!r}"
            )
        header.update(headers)
    if key is not None and key.kid is not None and "kid" not in header:
        header["kid"] = key.kid
    if header.get("b64") is False:
        crit = list(header.get("crit", ()))
        if "b64" not in crit:
            header["crit"] = [*crit, "b64"]
    check_header(header, header.get("crit", ()))
    return header


def encode_header(header: Mapping[str, Any]) -> str:
    """The base64url segment of a protected header; values that are not JSON are refused."""
    try:
        return b64url_encode(json_dumps(header))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"headers are not JSON-serializable: {exc}") from None


def pick_sign_algorithm(
    algorithm: str | None, key: Key | None, registry: Registry
) -> SignatureAlgorithm:
    """The signing algorithm: the one named, else the key's own ``alg``."""
    name = algorithm if algorithm is not None else (key.alg if key is not None else None)
    if name is None:
        raise UsageError("algorithm is required (the key has no 'alg' of its own)")
    found = registry.signature(name)
    if found is None:
        hint = ""
        if isinstance(name, str) and name.lower() == "none":
            hint = (
                ": unsecured tokens are off unless the registry includes them "
                "(registry=DEFAULT_REGISTRY.including(jwtkit.jwa.NONE))"
            )
        raise AlgorithmNotAllowed(
            f"algorithm {short(name)} is not supported by this registry{hint}"
        )
    return found


def _unencoded_segment(payload: bytes) -> str:
    """An unencoded payload as it may stand in a compact JWS (RFC 7797 §5.2)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or "." in text or not text.isprintable():
        raise UsageError(
            "an unencoded payload in compact form must be printable UTF-8 text without '.'; "
            "use detached=True (RFC 7797 §5.2)"
        )
    return text


def sign(
    payload: bytes,
    key: Key | bytes | str | None,
    algorithm: str | None = None,
    headers: Mapping[str, Any] | None = None,
    *,
    detached: bool = False,
    registry: Registry = DEFAULT_REGISTRY,
) -> str:
    """Sign ``payload`` and return a compact JWS (RFC 7515 §5.1).

    ``headers`` adds protected header members; ``{"b64": False}`` signs the payload unencoded
    (RFC 7797, ``crit`` is added for you). ``detached=True`` leaves the payload out of the token
    (RFC 7515 Appendix F).
    """
    if not isinstance(payload, bytes):
        raise UsageError(f"payload must be bytes, got {type(payload).__name__}")
    signing_key = None if key is None else coerce_key(key)
    alg = pick_sign_algorithm(algorithm, signing_key, registry)
    header = build_header(alg.name, signing_key, headers)
    header_segment = encode_header(header)
    if header.get("b64", True):
        payload_segment = b64url_encode(payload)
        signed = payload_segment.encode("ascii")
    else:
        payload_segment = "" if detached else _unencoded_segment(payload)
        signed = payload
    signing_input = header_segment.encode("ascii") + b"." + signed
    if alg.unsecured:
        if signing_key is not None:
            raise UsageError("'none' takes no key")
        signature = b""
    else:
        if signing_key is None:
            raise UsageError(f"{alg.name} needs a key")
        signature = alg.signer(signing_key)(signing_input)
    return f"{header_segment}.{'' if detached else payload_segment}.{b64url_encode(signature)}"
