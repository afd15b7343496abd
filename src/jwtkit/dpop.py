"""DPoP, OAuth 2.0 Demonstrating Proof of Possession (RFC 9449): proofs made and checked.

A client that holds a key pair sends, with each request, a short JWT signed with its private key
(the *proof*, RFC 9449 §4) in the ``DPoP`` header; its header carries the public key (``jwk``)
and its claims name the request (``htm``, ``htu``), the moment (``iat``), a unique ``jti``,
and the access token it comes with (``ath``). An access token bound to that key (``cnf.jkt``,
RFC 9449 §6.1) is then useless to whoever steals it without the private key.

::

    key = jwtkit.Key.generate("ES256")                       # the client's key pair
    proof = create_proof(key, method="GET", url="https://api.example/items",
                         access_token=token)                 # one per request

    verifier = DPoPVerifier()                                # the server's, built once
    checked = verifier.verify(proof, method="GET", url="https://api.example/items",
                              access_token=token, jkt=claims["cnf"]["jkt"])

The proof is verified with the key of its own ``jwk`` header, passed explicitly to the same
JWS checks and verify functions that :func:`jwtkit.jws.verify` uses; nothing else ever trusts a
header key (security matrix A4).
Only asymmetric algorithms are accepted (RFC 9449 §4.2: never ``none`` nor a MAC), a ``jwk``
with private members is refused (RFC 9449 §4.3 point 7), every input is bounded (the proof's
size, ``jti``'s length, the replay cache's entries). Every failure is an
:class:`~jwtkit.errors.InvalidDPoPProof` (or its :class:`~jwtkit.errors.DPoPNonceRequired`).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable
from urllib.parse import SplitResult, quote, urlsplit

from . import _oauth
from ._claims import ClaimsPolicy
from ._codec import (
    b64url_decode,
    b64url_decode_fast,
    b64url_encode,
    json_dumps,
    json_loads_object,
)
from ._header import check_header
from ._jwa_signing import VerifyFunction
from ._jws_compact import _SEGMENT, decode_header, split_compact
from ._jws_compact import sign as jws_sign
from ._jwt import normalize_typ
from ._key_pair_signatures import KEY_PAIR_ALGORITHMS, default_algorithm, is_key_pair_signature
from ._keysource import KeySource
from ._memo import SharedMemo
from ._messages import short
from .errors import (
    ClaimError,
    DPoPNonceRequired,
    InvalidDPoPProof,
    InvalidKey,
    InvalidSignature,
    JWTError,
    MalformedToken,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY
from .jwk import Key, OctKey

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DPOP_TYP",
    "MAX_PQ_PROOF_SIZE",
    "MAX_PROOF_SIZE",
    "DPoPNonces",
    "DPoPProof",
    "DPoPVerifier",
    "MemoryReplayCache",
    "ReplayCache",
    "access_token_hash",
    "create_proof",
    "normalize_htu",
]

#: The ``typ`` of a DPoP proof (RFC 9449 §4.2).
DPOP_TYP = "dpop+jwt"
#: The algorithms a :class:`DPoPVerifier` accepts unless told otherwise: asymmetric only
#: (RFC 9449 §4.2, §11.6); never ``none``, never a MAC.
DEFAULT_ALGORITHMS: tuple[str, ...] = KEY_PAIR_ALGORITHMS
#: The longest proof accepted, in characters. A proof with an RSA-4096 key and a long ``htu``
#: stays under 4 KB; anything far longer is refused before it is decoded (security matrix D1).
MAX_PROOF_SIZE = 8 * 1024
#: The longest proof accepted when the verifier allows an ML-DSA algorithm (RFC 9964): its
#: public key (up to 2,592 bytes) and signature (up to 4,627 bytes) alone take about 9.6 KB of
#: base64url; an ML-DSA-87 proof with a 200-character ``htu`` is about 11.4 KB.
MAX_PQ_PROOF_SIZE = 16 * 1024
#: The longest ``jti`` accepted, so that the replay cache's memory stays bounded.
MAX_JTI_LENGTH = 256

# RFC 9110 §9.1: method = token; §5.6.2: token = 1*tchar.
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 7517 §4, RFC 7518 §6.2.2, §6.3.2, §6.4, RFC 8037 §2, RFC 9964 §3: members that only a
# private or secret key has.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"})
# JWK members that describe a certificate chain: useless in a proof, left out of its header.
_CERTIFICATE_MEMBERS = ("x5c", "x5t", "x5t#S256", "x5u")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 §2.3: unreserved characters, which percent-encoding must not hide (§6.2.2.2).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# RFC 3986 §3.3: what a path holds as it is (unreserved, sub-delims, ":", "@", "/"), and "%"
# of the percent-encodings already there; anything else is percent-encoded as UTF-8.
_PATH_SAFE = "!$&'()*+,;=:@/%"
_CLAIMS_REQUIRED = ("jti", "htm", "htu", "iat")
#: How many proof header segments a :class:`DPoPVerifier` remembers (one per client key, as a
#: client's header is the same in each of its proofs), each at most :data:`MAX_PROOF_SIZE`.
_PREPARED_HEADERS = 1024
#: How many URLs :func:`_memo_htu` remembers, and the longest it remembers (longer ones are
#: normalized at each call): at most 1024 x 2 x 2 KiB of text.
_MEMO_URLS = 1024
_MEMO_URL_LENGTH = 2048

Clock = Callable[[], float]


# --------------------------------------------------------------------------------------------
# the request's URL and the access token's hash


def _normalize_percent(text: str) -> str:
    """RFC 3986 §6.2.2.1-2: percent-encodings in upper case, unreserved characters decoded."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 (the §6.2.2.3 normalization): ``.`` and ``..`` segments resolved."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _split_url(url: object, what: str) -> SplitResult:
    if not isinstance(url, str):
        raise UsageError(f"{what}: expected a URL string, got {type(url).__name__}")
    if not url or len(url) > MAX_PROOF_SIZE or any(c <= " " or c == "\x7f" for c in url):
        raise UsageError(f"{what}: not a valid URL (empty, too long, or with spaces)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range or not a number is a ValueError here
    except ValueError:
        raise UsageError(f"{what}: not a valid URL {short(url)}") from None
    return parts


def normalize_htu(url: str) -> str:
    """``url`` as a DPoP ``htu``: without query and fragment (RFC 9449 §4.2, §4.3 point 9), after
    RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalization.

    Scheme and host in lower case, the default port (80 for http, 443 for https) left out,
    percent-encodings in upper case and unreserved characters decoded, dot segments removed, an
    empty path written ``/``. Characters a URI path cannot hold (non-ASCII, ``{``, ``"``...) are
    percent-encoded as UTF-8 (RFC 3987 §3.1), so that a path a framework reports decoded
    (``/café``) matches the one the client sent (``/caf%C3%A9``). Only ``http`` and ``https``
    URLs with a host and without user information are accepted; anything else is a
    :class:`~jwtkit.errors.UsageError`.

    .. warning:: A framework that decodes the path cannot tell ``/a%2Fb`` from ``/a/b``: avoid
       encoded ``/``, ``?`` or ``#`` in the paths of DPoP-protected resources.
    """
    parts = _split_url(url, "url")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UsageError(f"url: the scheme must be http or https, got {short(scheme or url)}")
    host = parts.hostname
    if not host:
        raise UsageError("url: the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UsageError("url: user information is not allowed in a DPoP URL")
    host = _normalize_percent(host).lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    authority = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_percent(quote(parts.path, safe=_PATH_SAFE))) or "/"
    return f"{scheme}://{authority}{path}"


# A server sees the same few URLs again and again, and a client's proofs name them the same way.
_NORMALIZED_URLS: SharedMemo[str] = SharedMemo(_MEMO_URLS)


def _memo_htu(url: str) -> str:
    """:func:`normalize_htu` of ``url``, remembered for the URLs seen before.

    The memo maps the exact text (``type(url) is str``: a ``str`` subclass could compare or hash
    unlike its text) to what :func:`normalize_htu` answered for it, a pure function of that text:
    an entry is right by construction, whoever caused it. Only answers are kept, never errors
    (a URL that is refused is refused again at each call), and only for URLs of at most
    ``_MEMO_URL_LENGTH`` characters in at most ``_MEMO_URLS`` entries, the oldest dropped first:
    a client naming ever new URLs costs the normalization it would have cost anyway.
    """
    if type(url) is not str:
        return normalize_htu(url)
    found = _NORMALIZED_URLS.get(url)
    if found is None:
        found = normalize_htu(url)
        if len(url) <= _MEMO_URL_LENGTH:
            _NORMALIZED_URLS.put(url, found)
    return found


def access_token_hash(access_token: str) -> str:
    """The ``ath`` of an access token: base64url(SHA-256(the token's ASCII)) (RFC 9449 §4.2)."""
    if not isinstance(access_token, str) or not access_token:
        raise UsageError("access_token: expected a non-empty string")
    try:
        data = access_token.encode("ascii")
    except UnicodeEncodeError:
        raise UsageError("access_token: an access token is ASCII (RFC 6750 §2.1)") from None
    return b64url_encode(hashlib.sha256(data).digest())


def _check_method(method: object) -> str:
    if not isinstance(method, str) or _METHOD.fullmatch(method) is None:
        raise UsageError(f"method: expected an HTTP method such as 'GET', got {short(method)}")
    return method


# --------------------------------------------------------------------------------------------
# the client side


def create_proof(
    key: Key,
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    nonce: str | None = None,
    algorithm: str | None = None,
    clock: Clock | None = None,
    jti: str | None = None,
) -> str:
    """A DPoP proof for one request (RFC 9449 §4.2), signed with the private ``key``.

    The header holds ``typ: dpop+jwt``, ``alg`` and the *public* key as ``jwk``; the claims
    ``jti`` (128 random bits unless given), ``htm`` (``method``), ``htu``
    (:func:`normalize_htu` of ``url``), ``iat`` (whole seconds of ``clock``), ``ath`` when an
    ``access_token`` goes with the request (RFC 9449 §7.1), and the server's ``nonce`` when it
    asked for one (RFC 9449 §8, §9). ``algorithm`` defaults to the key's ``alg``, else ES256,
    ES384, ES512, EdDSA or PS256 by key type. A symmetric key is a
    :class:`~jwtkit.errors.UsageError`; a public key cannot sign
    (:class:`~jwtkit.errors.InvalidKey`).
    """
    if not isinstance(key, Key):
        raise UsageError(f"key: expected a jwtkit Key (a key pair), got {type(key).__name__}")
    if isinstance(key, OctKey):
        raise UsageError("a DPoP proof is signed with a key pair, never a symmetric key")
    if not key.is_private:
        raise InvalidKey("a DPoP proof is signed with the private key; this key is public")
    name = algorithm if algorithm is not None else default_algorithm(key, "a DPoP proof")
    if not is_key_pair_signature(name):
        raise UsageError(
            f"algorithm {short(name)} cannot sign a DPoP proof: an asymmetric signature "
            "algorithm is required (RFC 9449 §4.2)"
        )
    claims: dict[str, Any] = {
        "jti": b64url_encode(secrets.token_bytes(16)) if jti is None else jti,
        "htm": _check_method(method),
        "htu": normalize_htu(url),
        "iat": int((clock or time.time)()),
    }
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= MAX_JTI_LENGTH:
        raise UsageError(f"jti: expected a string of 1 to {MAX_JTI_LENGTH} characters")
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        if not _oauth.is_dpop_nonce(nonce):
            raise UsageError("nonce: expected the server's DPoP-Nonce value (RFC 9449 §8.1)")
        claims["nonce"] = nonce
    jwk = key.public_key().to_jwk()
    for member in _CERTIFICATE_MEMBERS:
        jwk.pop(member, None)
    header = {"typ": DPOP_TYP, "jwk": jwk}
    return jws_sign(json_dumps(claims), key, name, header)


# --------------------------------------------------------------------------------------------
# the server side


@dataclass(frozen=True)
class DPoPProof:
    """A proof that passed every check of :meth:`DPoPVerifier.verify`."""

    #: The public key of the proof's ``jwk`` header.
    key: Key
    #: Its RFC 7638 SHA-256 thumbprint, base64url: what ``cnf.jkt`` holds (RFC 9449 §6.1).
    jkt: str
    jti: str
    iat: int
    #: Until when its ``jti`` must be remembered: ``iat + max_age + leeway``.
    expires_at: float
    header: Mapping[str, Any]
    claims: Mapping[str, Any]


@runtime_checkable
class ReplayCache(Protocol):
    """Where a verifier remembers the ``jti`` of the proofs it accepted (RFC 9449 §11.1).

    ``remember(jti, expires_at)`` records ``jti`` until ``expires_at`` (a Unix time) and says
    whether it was new: ``False`` when it was already there (a replay), or when it cannot be
    recorded (fail closed: it should not raise). Several processes that serve the same URLs
    must share one (a database table or Redis ``SET key NX EXAT``): each process's own memory
    would let a proof be replayed once in each.
    """

    def remember(self, jti: str, expires_at: float) -> bool: ...


class MemoryReplayCache:
    """A :class:`ReplayCache` in this process's memory: thread-safe and bounded.

    Holds at most ``max_entries`` unexpired ``jti`` values; expired ones are forgotten as new
    ones arrive. When it is full of unexpired entries it refuses new proofs (``remember``
    answers ``False``) rather than forget one that could be replayed (fail closed).
    """

    def __init__(self, max_entries: int = 100_000, *, clock: Clock | None = None) -> None:
        if type(max_entries) is not int or max_entries < 1:
            raise UsageError("max_entries: expected a positive int")
        self._max = max_entries
        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._entries: dict[str, float] = {}
        # (expires_at, jti) of every entry, soonest first: forgetting costs O(log n) each.
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def remember(self, jti: str, expires_at: float) -> bool:
        """Record ``jti`` until ``expires_at``; ``False`` for a replay or a full cache."""
        now = self._clock()
        with self._lock:
            entries, expiries = self._entries, self._expiries
            while expiries and expiries[0][0] <= now:
                del entries[heapq.heappop(expiries)[1]]
            if jti in entries or len(entries) >= self._max:
                return False
            entries[jti] = expires_at
            heapq.heappush(expiries, (expires_at, jti))
            return True


class DPoPNonces:
    """Server-provided nonces (RFC 9449 §8, §9) without state: each nonce is a time and an
    HMAC-SHA256 of it under ``secret``, valid for ``lifetime`` seconds from its issue.

    Every process that shares ``secret`` accepts the nonces of the others. The ``secret`` must
    be at least 32 random bytes (``secrets.token_bytes(32)``).
    """

    def __init__(self, secret: bytes, *, lifetime: float = 300, clock: Clock | None = None) -> None:
        if not isinstance(secret, bytes) or len(secret) < 32:
            raise UsageError("secret: expected at least 32 random bytes")
        if type(lifetime) not in (int, float) or not 0 < lifetime < math.inf:
            raise UsageError("lifetime: expected a positive number of seconds")
        self._secret = secret
        self._lifetime = float(lifetime)
        self._clock = clock or time.time

    def _tag(self, issued: bytes) -> bytes:
        return hmac.new(self._secret, b"jwtkit DPoP nonce\x00" + issued, hashlib.sha256).digest()

    def issue(self) -> str:
        """A fresh nonce for the ``DPoP-Nonce`` response header."""
        issued = max(0, int(self._clock())).to_bytes(8, "big")
        return b64url_encode(issued + self._tag(issued))

    def check(self, nonce: str) -> bool:
        """Whether ``nonce`` was issued with this secret less than ``lifetime`` seconds ago."""
        if not isinstance(nonce, str) or len(nonce) != 54:
            return False
        try:
            raw = b64url_decode_fast(nonce)
        except ValueError:
            return False
        issued, tag = raw[:8], raw[8:]
        if not hmac.compare_digest(tag, self._tag(issued)):
            return False
        age = self._clock() - int.from_bytes(issued, "big")
        return -1 <= age < self._lifetime


def _refuse(message: str) -> InvalidDPoPProof:
    return InvalidDPoPProof(f"DPoP proof: {message}")


@dataclass(frozen=True)
class _PreparedHeader:
    """What a proof's protected header segment prepares: its ``jwk`` as a key, that key's RFC 7638
    thumbprint and the verify function of the header's ``alg`` with it.

    A :class:`DPoPVerifier` remembers these by the *exact header segment*, and the segment is
    all that the header checks, the key, the thumbprint and the verify function depend on (with
    the verifier's own settings, hence one memo per verifier). So an entry is right by
    construction: a different ``jwk`` (a different key, another member, a tampered coordinate,
    the same ``kid`` or thumbprint-like members on another key) is a different segment and
    never finds it, and what a segment finds is what checking it anew would give. Nothing is
    shared between segments that merely decode alike (other spacing, member order or escapes
    are other segments, checked on their own).

    An entry is stored only after the proof's signature verified with it, so proofs with a bad
    signature (anyone's header with any key) cannot fill or churn the memo; the checks that
    follow the signature (claims, ``ath``, ``cnf.jkt``, the replay check) run at every call.
    The memo holds at most ``_PREPARED_HEADERS`` entries, the oldest dropped first; a hit
    saves building the key and its thumbprint, never a check.
    """

    key: Key
    jkt: str
    check: VerifyFunction

    @classmethod
    def build(cls, header: Mapping[str, Any], key: Key) -> _PreparedHeader:
        """Prepare ``key`` for the header's ``alg``; raises the error a JWS verify would
        (:class:`~jwtkit.errors.InvalidKey`, :class:`~jwtkit.errors.KeyNotFound`) when the key
        does not fit the algorithm (RFC 8725 §3.1)."""
        alg: str = header["alg"]
        algorithm = DEFAULT_REGISTRY.signature(alg)
        assert algorithm is not None  # noqa: S101 - the verifier accepts only registry names
        (chosen,) = KeySource(key).candidates(header, alg, "verify")
        return cls(chosen, chosen.thumbprint(), algorithm.verifier(chosen))


class DPoPVerifier:
    """Checks DPoP proofs as RFC 9449 §4.3 says; built once, used for every request.

    ``algorithms`` (asymmetric only) are the accepted ``alg`` values; ``max_age`` bounds the
    age of ``iat`` and ``leeway`` allows for clock skew both ways. ``replay_cache`` remembers
    accepted ``jti`` values (a new :class:`MemoryReplayCache` unless given); with
    ``replay_cache=None`` :meth:`verify` does not look at ``jti`` and the caller **must**
    (``DPoPProof.jti`` until ``DPoPProof.expires_at``). ``nonces`` makes the server's nonce
    required (RFC 9449 §8, §9).
    """

    _NO_CACHE: Any = object()

    def __init__(
        self,
        *,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        max_age: float = 60,
        leeway: float = 5,
        replay_cache: ReplayCache | None = _NO_CACHE,
        nonces: DPoPNonces | None = None,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(algorithms, (str, bytes)):
            raise UsageError("algorithms must be a list of names, e.g. ['ES256'], not a string")
        names = tuple(dict.fromkeys(algorithms))
        if not names:
            raise UsageError("algorithms is empty: no proof could ever verify")
        for name in names:
            if not is_key_pair_signature(name):
                raise UsageError(
                    f"algorithms: {short(name)} cannot sign DPoP proofs; only asymmetric "
                    "signature algorithms can (RFC 9449 §4.2)"
                )
        for value, what in ((max_age, "max_age"), (leeway, "leeway")):
            if type(value) not in (int, float) or not 0 <= value < math.inf:
                raise UsageError(f"{what}: expected a non-negative number of seconds")
        if max_age <= 0:
            raise UsageError("max_age: expected a positive number of seconds")
        if nonces is not None and not isinstance(nonces, DPoPNonces):
            raise UsageError("nonces: expected a DPoPNonces")
        given = replay_cache is not None and replay_cache is not self._NO_CACHE
        if given and not isinstance(replay_cache, ReplayCache):
            raise UsageError("replay_cache: expected an object with remember(jti, expires_at)")
        self.algorithms: tuple[str, ...] = names
        self._allowed = frozenset(names)
        post_quantum = any(name.startswith("ML-DSA-") for name in names)
        self._max_size = MAX_PQ_PROOF_SIZE if post_quantum else MAX_PROOF_SIZE
        self.max_age = float(max_age)
        self.leeway = float(leeway)
        self._clock = clock or time.time
        self.replay_cache: ReplayCache | None = (
            MemoryReplayCache(clock=self._clock) if replay_cache is self._NO_CACHE else replay_cache
        )
        self.nonces = nonces
        self._policy = ClaimsPolicy.build(
            leeway=self.leeway, max_age=self.max_age, options={"verify_aud": False}
        )
        # Header segment -> what it prepares, for segments whose signature verified.
        self._prepared: SharedMemo[_PreparedHeader] = SharedMemo(_PREPARED_HEADERS)

    def verify(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        jkt: str | None = None,
    ) -> DPoPProof:
        """Check ``proof`` for a request of ``method`` to ``url`` (RFC 9449 §4.3).

        ``url`` is the URL the client used (behind a proxy: the public one, not the one the
        application sees). ``access_token`` makes ``ath`` required and checked (RFC 9449 §7.1);
        ``jkt`` is the access token's ``cnf.jkt``, which must be the proof key's thumbprint
        (RFC 9449 §6.1). The caller passes the one ``DPoP`` header value: a request with
        several is refused before this (RFC 9449 §4.3 point 1). Raises
        :class:`~jwtkit.errors.InvalidDPoPProof`, or :class:`~jwtkit.errors.DPoPNonceRequired`
        carrying a fresh nonce.

        The checks run in the order of RFC 9449 §4.3 (the header's, then the signature, the
        claims, ``ath``, ``cnf.jkt``, and the replay check last). A client signs its proofs
        with one key, so its header segment is the same in each: what that segment prepares
        once its checks passed (the key, its thumbprint, the verify function) is remembered,
        and so is each URL's normalized form; see :class:`_PreparedHeader` and
        :func:`_memo_htu` for why neither can let a wrong key or URL pass.
        """
        method = _check_method(method)
        expected_htu = _memo_htu(url)
        try:
            header_segment, payload_segment, signature_segment = split_compact(
                proof, self._max_size
            )
        except JWTError as exc:
            raise _refuse(exc.message) from exc
        prepared = self._prepared.get(header_segment)
        try:
            if prepared is None:
                header = decode_header(header_segment)
                key = self._header_key(header)
                check_header(header)
            else:
                # The segment checked before; this decoding is only the caller's own copy.
                header = json_loads_object(b64url_decode_fast(header_segment), "header")
            if not _SEGMENT.fullmatch(payload_segment):
                raise MalformedToken("token: payload must be base64url")
            payload = b64url_decode(payload_segment, "payload")
            if not signature_segment:
                raise InvalidSignature()
            if prepared is None:
                prepared = _PreparedHeader.build(header, key)
                fresh = True
            else:
                fresh = False
            signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
            if not prepared.check(signing_input, signature_segment):
                raise InvalidSignature()
            if fresh:
                self._prepared.put(header_segment, prepared)
            claims = json_loads_object(payload, "claims")
        except InvalidDPoPProof:
            raise
        except JWTError as exc:
            raise _refuse(exc.message) from exc
        for name in _CLAIMS_REQUIRED:
            if name not in claims:
                raise _refuse(f"the claim {name!r} is missing (RFC 9449 §4.2)")
        jti = claims["jti"]
        if type(jti) is not str or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise _refuse(f"'jti' must be a string of 1 to {MAX_JTI_LENGTH} characters")
        if claims["htm"] != method:
            raise _refuse(f"'htm' is {short(claims['htm'])}, the request's method is {method!r}")
        htu = claims["htu"]
        try:
            if type(htu) is not str or _memo_htu(htu) != expected_htu:
                raise _refuse(f"'htu' is {short(htu)}, the request's URL is {expected_htu!r}")
        except UsageError:
            raise _refuse(f"'htu' is not an http(s) URL: {short(htu)}") from None
        now = self._clock()
        try:
            self._policy.check(claims, now)
        except ClaimError as exc:
            raise _refuse(f"{exc.claim!r}: {exc.message}") from exc
        self._check_nonce(claims)
        if access_token is not None:
            ath = claims.get("ath")
            if type(ath) is not str or not hmac.compare_digest(
                ath.encode(), access_token_hash(access_token).encode()
            ):
                raise _refuse("'ath' is missing or is not the hash of the access token")
        thumbprint = prepared.jkt
        if jkt is not None and not (
            isinstance(jkt, str) and hmac.compare_digest(jkt.encode(), thumbprint.encode())
        ):
            raise _refuse("the proof's key is not the key the access token is bound to (cnf.jkt)")
        iat = claims["iat"]
        expires_at = iat + self.max_age + self.leeway
        if self.replay_cache is not None and not self.replay_cache.remember(jti, expires_at):
            raise _refuse("this proof was already used (its 'jti' was seen before)")
        return DPoPProof(
            key=prepared.key,
            jkt=thumbprint,
            jti=jti,
            iat=math.floor(iat),
            expires_at=float(expires_at),
            header=MappingProxyType(header),
            claims=MappingProxyType(claims),
        )

    def _header_key(self, header: Mapping[str, Any]) -> Key:
        """The key of the header's ``jwk``, after RFC 9449 §4.3 points 4-7 on the header."""
        typ = header.get("typ")
        if not isinstance(typ, str) or normalize_typ(typ) != DPOP_TYP:
            raise _refuse(f"'typ' is {short(typ)}, expected {DPOP_TYP!r} (RFC 9449 §4.2)")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._allowed:
            raise _refuse(
                f"algorithm {short(alg)} is not accepted; expected one of {list(self.algorithms)}"
            )
        if header.get("b64", True) is not True:
            raise _refuse("a DPoP proof is a JWT: its payload is base64url ('b64' is refused)")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise _refuse("the header has no 'jwk' object holding the public key (RFC 9449 §4.2)")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise _refuse("the 'jwk' holds private key members; it must be a public key")
        try:
            # The kid is a lookup hint, meaningless here: the key is the one of the proof.
            key = Key.from_jwk({k: v for k, v in jwk.items() if k != "kid"})
        except JWTError as exc:
            raise _refuse(f"the 'jwk' is not a usable public key: {exc.message}") from exc
        if key.is_private or isinstance(key, OctKey):  # pragma: no cover - the members say so
            raise _refuse("the 'jwk' must be a public key")
        return key

    def _check_nonce(self, claims: Mapping[str, Any]) -> None:
        nonces = self.nonces
        if nonces is None:
            return
        nonce = claims.get("nonce")
        if nonce is None:
            raise DPoPNonceRequired(
                "DPoP proof: the server requires a nonce (RFC 9449 §8, §9)", nonces.issue()
            )
        if not isinstance(nonce, str) or not nonces.check(nonce):
            raise DPoPNonceRequired(
                "DPoP proof: the nonce is not or no longer accepted", nonces.issue()
            )
