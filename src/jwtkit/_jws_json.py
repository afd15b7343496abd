"""JWS JSON Serialization, general and flattened: signing and verifying (RFC 7515 §7.2; RFC 7797).

The general form carries one or more signatures over one payload::

    {"payload": "...", "signatures": [{"protected": "...", "header": {...}, "signature": "..."}]}

and the flattened form exactly one, with the members of that signature at the top level
(RFC 7515 §7.2.2). The JOSE Header of a signature is the union of its protected and unprotected
headers, whose member names must be disjoint (RFC 7515 §7.2.1, security matrix A8); ``crit``
(RFC 7515 §4.1.11, A9) and ``b64`` (RFC 7797 §3, A10) are accepted only in the protected header,
and every signature of one JWS must agree on ``b64`` (RFC 7797 §3).

Verification parses and checks *every* signature entry before any cryptography runs: one
malformed entry makes the whole JWS malformed. It then tries the signatures in order and
succeeds with the first one that verifies with a trusted key and an allowed algorithm; an
entry whose ``alg`` is not allowed, or for which no trusted key fits, is skipped
(RFC 7515 §7.2.1 leaves this policy to the application). :func:`verify_json_all` demands
instead that every signature verify; :mod:`jwtkit._jws_policy` builds named policies (any, all,
required algorithms) on the parsing and the per-entry verification here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._codec import (
    DEFAULT_MAX_JSON_ENTRIES,
    DEFAULT_MAX_TOKEN_SIZE,
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_entries,
    json_loads_object,
    json_serialization_object,
    json_type,
)
from ._header import check_header
from ._jws_compact import (
    VerifiedJWS,
    allowed_algorithms,
    encode_header,
    pick_sign_algorithm,
    select_algorithm,
)
from ._keysource import KeyArgument, KeySource, coerce_key
from ._types import Header
from .errors import (
    AlgorithmNotAllowed,
    InvalidKey,
    InvalidSignature,
    JWTError,
    MalformedToken,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY, Registry
from .jwk import Key

__all__ = [
    "DEFAULT_MAX_SIGNATURES",
    "Signer",
    "sign_json",
    "verify_json",
    "verify_json_all",
]

#: Default upper bound on the number of signatures of one JWS, so that one input cannot make
#: a verifier run an unbounded number of signature checks (security matrix D1); the same
#: bound as the recipients of a JWE.
DEFAULT_MAX_SIGNATURES = DEFAULT_MAX_JSON_ENTRIES

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
# Members that make a JSON object a JWE (RFC 7516 §7.2.1), not a JWS (security matrix A6).
_JWE_MEMBERS = ("ciphertext", "recipients", "encrypted_key", "iv", "tag")
# Members of the flattened form that must not stand beside "signatures" (RFC 7515 §7.2.2).
_FLATTENED_MEMBERS = ("protected", "header", "signature")


@dataclass(frozen=True)
class Signer:
    """One signature to make with :func:`sign_json`.

    ``algorithm`` defaults to the key's own ``alg``. ``protected`` and ``unprotected`` add
    header members; their names must be disjoint (RFC 7515 §7.2.1). ``alg`` goes into the
    protected header unless you put it into ``unprotected``; the key's ``kid`` is added to the
    protected header unless either header already names one. ``crit`` and ``b64`` are accepted
    only in ``protected``; ``{"b64": False}`` signs the payload unencoded (RFC 7797, ``crit`` is
    added for you).
    """

    key: Key | bytes | str | None
    algorithm: str | None = None
    protected: Mapping[str, Any] | None = None
    unprotected: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class _Entry:
    """One signature of a parsed JWS, its headers checked."""

    index: int
    protected_segment: str  # "" when there is no protected header
    protected: Header  # {} when there is no protected header
    unprotected: Header | None
    header: Header  # the JOSE Header: the union of both (RFC 7515 §7.2.1)
    signature: str


@dataclass(frozen=True)
class _Parsed:
    entries: tuple[_Entry, ...]
    payload: bytes
    signed_payload: bytes  # what follows the "." of the JWS Signing Input


# ---------------------------------------------------------------------------------------------
# signing


def _mapping(value: object, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{what} must be a mapping of header names, got {type(value).__name__}")
    result = dict(value)
    for name in result:
        if type(name) is not str:
            raise UsageError(f"{what}: header names must be strings")
    return result


def _signer_headers(
    index: int, signer: Signer, alg_name: str, key: Key | None
) -> tuple[Header, Header]:
    """The protected and unprotected headers of one signature, checked."""
    what = f"signers[{index}]"
    given = _mapping(signer.protected, f"{what}.protected")
    unprotected = _mapping(signer.unprotected, f"{what}.unprotected")
    shared = sorted(given.keys() & unprotected.keys())
    if shared:
        raise UsageError(
            f"{what}: {shared} in both the protected and the unprotected header; the names "
            "must be disjoint (RFC 7515 §7.2.1)"
        )
    for name in ("crit", "b64"):
        if name in unprotected:
            raise UsageError(
                f"{what}: {name!r} must be in the protected header (RFC 7515 §4.1.11, RFC 7797 §3)"
            )
    named = given.get("alg", unprotected.get("alg", alg_name))
    if named != alg_name:
        raise UsageError(f"{what}: the header's 'alg' does not match algorithm {alg_name!r}")
    protected: Header = {} if "alg" in unprotected else {"alg": alg_name}
    protected.update(given)
    if key is not None and key.kid is not None and "kid" not in given and "kid" not in unprotected:
        protected["kid"] = key.kid
    crit = protected.get("crit", [])
    if protected.get("b64") is False and type(crit) is list and "b64" not in crit:
        protected["crit"] = crit = [*crit, "b64"]
    try:
        check_header({**unprotected, **protected}, crit if type(crit) is list else ())
    except MalformedToken as exc:
        raise UsageError(f"{what}: {exc.message}") from None
    if unprotected:
        try:
            unprotected = json_loads_object(json_dumps(unprotected))  # a deep, JSON-only copy
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{what}.unprotected is not JSON-serializable: {exc}") from None
    return protected, unprotected


def sign_json(
    payload: bytes,
    signers: Sequence[Signer],
    *,
    flatten: bool = False,
    detached: bool = False,
    registry: Registry = DEFAULT_REGISTRY,
) -> dict[str, Any]:
    """Sign ``payload`` once per signer and return a JWS JSON Serialization (RFC 7515 §7.2).

    The result is a ``dict`` ready for ``json.dumps``: the general form, or with
    ``flatten=True`` (exactly one signer) the flattened form. ``detached=True`` leaves the
    ``payload`` member out (RFC 7515 Appendix F). A payload signed with ``b64: false``
    (RFC 7797) stands in the ``payload`` member as text, so it must be UTF-8; all signers must
    agree on ``b64``.
    """
    if not isinstance(payload, bytes):
        raise UsageError(f"payload must be bytes, got {type(payload).__name__}")
    if isinstance(signers, (Signer, str, bytes)) or not isinstance(signers, Sequence):
        raise UsageError("signers must be a sequence of jws.Signer, e.g. [Signer(key, 'ES256')]")
    if not signers:
        raise UsageError("signers is empty: a JWS needs at least one signature")
    if flatten and len(signers) != 1:
        raise UsageError(f"the flattened form holds exactly one signature, got {len(signers)}")
    prepared = []
    encoded: bool | None = None
    for index, signer in enumerate(signers):
        if not isinstance(signer, Signer):
            raise UsageError(
                f"signers[{index}]: expected a jws.Signer, got {type(signer).__name__}"
            )
        key = None if signer.key is None else coerce_key(signer.key)
        alg = pick_sign_algorithm(signer.algorithm, key, registry)
        if alg.unsecured and key is not None:
            raise UsageError("'none' takes no key")
        if not alg.unsecured and key is None:
            raise UsageError(f"{alg.name} needs a key")
        protected, unprotected = _signer_headers(index, signer, alg.name, key)
        b64 = protected.get("b64", True)
        if encoded is not None and b64 != encoded:
            raise UsageError("every signature of one JWS must agree on 'b64' (RFC 7797 §3)")
        encoded = b64
        prepared.append((alg, key, protected, unprotected))

    if encoded:
        payload_member = b64url_encode(payload)
        signed = payload_member.encode("ascii")
    else:
        signed = payload
        try:
            payload_member = "" if detached else payload.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(
                "an unencoded payload (b64: false) in JSON must be UTF-8 text; sign it "
                "detached (detached=True) or with b64 (RFC 7797 §5.3)"
            ) from None

    entries: list[dict[str, Any]] = []
    for alg, key, protected, unprotected in prepared:
        segment = encode_header(protected) if protected else ""
        signing_input = segment.encode("ascii") + b"." + signed
        signature = b"" if key is None else alg.signer(key)(signing_input)
        entry: dict[str, Any] = {}
        if segment:
            entry["protected"] = segment
        if unprotected:
            entry["header"] = unprotected
        entry["signature"] = b64url_encode(signature)
        entries.append(entry)

    result: dict[str, Any] = {} if detached else {"payload": payload_member}
    if flatten:
        result.update(entries[0])
    else:
        result["signatures"] = entries
    return result


# ---------------------------------------------------------------------------------------------
# parsing


def _string(value: object, what: str) -> str:
    if type(value) is not str:
        raise MalformedToken(f"{what}: expected a string, got {json_type(value)}")
    return value


def _parse_entry(index: int, member: object, what: str, crit: Collection[str]) -> _Entry:
    """Check one signature object (RFC 7515 §7.2.1) and build its JOSE Header."""
    if not isinstance(member, Mapping):
        raise MalformedToken(f"{what}: expected an object, got {json_type(member)}")
    if "protected" not in member and "header" not in member:
        raise MalformedToken(
            f"{what}: neither 'protected' nor 'header' is present (RFC 7515 §7.2.1)"
        )
    if "signature" not in member:
        raise MalformedToken(f"{what}: 'signature' is missing (RFC 7515 §7.2.1)")
    signature = _string(member["signature"], f"{what}.signature")
    if not _SEGMENT.fullmatch(signature):
        raise MalformedToken(f"{what}.signature: not base64url")
    segment = ""
    protected: Header = {}
    if "protected" in member:
        segment = _string(member["protected"], f"{what}.protected")
        if not _SEGMENT.fullmatch(segment):
            raise MalformedToken(f"{what}.protected: not base64url")
        # An empty segment decodes to no JSON at all: the member must then be absent.
        protected = json_loads_object(
            b64url_decode(segment, f"{what}.protected"), f"{what}.protected"
        )
    unprotected: Header | None = None
    if "header" in member:
        given = member["header"]
        if not isinstance(given, Mapping):
            raise MalformedToken(f"{what}.header: expected an object, got {json_type(given)}")
        unprotected = dict(given)
        for name in unprotected:
            if type(name) is not str:
                raise MalformedToken(f"{what}.header: member names must be strings")
        shared = sorted(protected.keys() & unprotected.keys())
        if shared:
            raise MalformedToken(
                f"{what}: {len(shared)} header name(s) in both the protected and the "
                "unprotected header; they must be disjoint (RFC 7515 §7.2.1)"
            )
        if "crit" in unprotected:
            raise MalformedToken(
                f"{what}.header: 'crit' must be in the protected header (RFC 7515 §4.1.11)"
            )
        if "b64" in unprotected:
            raise MalformedToken(
                f"{what}.header: 'b64' must be in the protected header (RFC 7797 §3)"
            )
    header = {**unprotected, **protected} if unprotected else protected
    check_header(header, crit)
    return _Entry(index, segment, protected, unprotected, header, signature)


def _parse(
    data: object,
    detached_payload: bytes | None,
    crit: Collection[str],
    max_size: int,
    max_signatures: int,
) -> _Parsed:
    """Parse and check a whole JWS: every entry, ``b64`` agreement, the payload."""
    if detached_payload is not None and not isinstance(detached_payload, bytes):
        raise UsageError(f"detached_payload must be bytes, got {type(detached_payload).__name__}")
    jws = json_serialization_object(
        data, "JWS JSON", max_size, "a compact JWS goes to jwtkit.jws.verify (RFC 7515 §7)"
    )
    if "signatures" in jws:
        stray = [name for name in _FLATTENED_MEMBERS if name in jws]
        if stray:
            raise MalformedToken(
                f"JWS JSON: {stray} beside 'signatures': the general and the flattened forms "
                "must not be mixed (RFC 7515 §7.2.2)"
            )
        signatures = json_entries(jws["signatures"], "JWS JSON", "signatures", max_signatures)
        entries = tuple(
            _parse_entry(i, member, f"signatures[{i}]", crit) for i, member in enumerate(signatures)
        )
    elif "signature" in jws:
        entries = (_parse_entry(0, jws, "JWS JSON", crit),)
    elif any(name in jws for name in _JWE_MEMBERS):
        raise MalformedToken("JWS JSON: this is a JWE, not a JWS; use jwtkit.jwe (RFC 7516 §7.2)")
    else:
        raise MalformedToken("JWS JSON: neither 'signatures' nor 'signature' is present")

    encoded = entries[0].protected.get("b64", True)
    for entry in entries[1:]:
        if entry.protected.get("b64", True) != encoded:
            raise MalformedToken(
                "JWS JSON: the signatures disagree on 'b64'; all must use the same (RFC 7797 §3)"
            )
    if "payload" in jws:
        if detached_payload is not None:
            raise MalformedToken("JWS JSON: a detached payload was given but the JWS has one")
        text = _string(jws["payload"], "JWS JSON: payload")
        if encoded:
            payload = b64url_decode(text, "payload")
            signed = text.encode("ascii")
        else:
            try:
                payload = signed = text.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedToken("payload: not valid Unicode text") from None
    elif detached_payload is None:
        raise MalformedToken(
            "JWS JSON: no 'payload' member; the payload is detached, pass detached_payload= "
            "(RFC 7515 Appendix F)"
        )
    else:
        payload = detached_payload
        signed = b64url_encode(payload).encode("ascii") if encoded else payload
    return _Parsed(entries, payload, signed)


# ---------------------------------------------------------------------------------------------
# verifying


def _verify_entry(
    entry: _Entry,
    parsed: _Parsed,
    source: KeySource,
    allowed: frozenset[str],
    registry: Registry,
) -> VerifiedJWS:
    """Verify one signature; raise the reason it does not verify."""
    algorithm = select_algorithm(entry.header, allowed, registry)
    signing_input = entry.protected_segment.encode("ascii") + b"." + parsed.signed_payload

    def result(key: Key | None) -> VerifiedJWS:
        return VerifiedJWS(
            entry.protected,
            parsed.payload,
            algorithm.name,
            key,
            entry.index,
            entry.unprotected,
        )

    if algorithm.unsecured:
        if not source.is_empty:
            raise UsageError("'none' is accepted only when no key is given (RFC 8725 §3.1)")
        if entry.signature:
            raise InvalidSignature()
        return result(None)
    if entry.signature:
        for key in source.candidates(entry.header, algorithm.name, "verify"):
            if algorithm.verifier(key)(signing_input, entry.signature):
                return result(key)
    raise InvalidSignature()


# A signature that cannot verify for one of these reasons is skipped by verify_json; the most
# telling reason is raised when none verifies (later in this tuple wins).
_SKIPPED = (AlgorithmNotAllowed, InvalidKey, InvalidSignature)


def _prepare(
    data: object,
    key: KeyArgument | None,
    algorithms: Iterable[str] | None,
    detached_payload: bytes | None,
    crit: Collection[str],
    registry: Registry,
    max_token_size: int,
    max_signatures: int,
) -> tuple[_Parsed, KeySource, frozenset[str]]:
    source = KeySource(key)
    allowed = allowed_algorithms(algorithms, source, registry)
    parsed = _parse(data, detached_payload, crit, max_token_size, max_signatures)
    return parsed, source, allowed


def verify_json(
    data: Mapping[str, Any] | str | bytes,
    key: KeyArgument | None,
    algorithms: Iterable[str] | None = None,
    *,
    detached_payload: bytes | None = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> VerifiedJWS:
    """Verify a JWS in JSON serialization (general or flattened) and return what verified.

    ``data`` is the parsed object or its JSON text (parsed strictly: no duplicate names, UTF-8).
    Every signature entry is checked first; one malformed entry rejects the whole JWS. The
    signatures are then tried in order, and the first that verifies with a trusted key and an
    allowed algorithm is returned: ``signature_index`` says which, ``header`` is its protected
    header, ``unprotected`` its unprotected header, ``key`` the key that verified it. Entries
    whose ``alg`` is not allowed or for which no trusted key fits are skipped. When none
    verifies, the most telling reason is raised: :class:`~jwtkit.errors.InvalidSignature` if
    some signature was checked against a key, else :class:`~jwtkit.errors.KeyNotFound` or
    :class:`~jwtkit.errors.InvalidKey`, else :class:`~jwtkit.errors.AlgorithmNotAllowed`.

    .. warning:: One good signature is enough. When every signer must have signed, use
       :func:`verify_json_all`.
    """
    parsed, source, allowed = _prepare(
        data, key, algorithms, detached_payload, crit, registry, max_token_size, max_signatures
    )
    best: JWTError | None = None
    best_rank = -1
    for entry in parsed.entries:
        try:
            return _verify_entry(entry, parsed, source, allowed, registry)
        except _SKIPPED as exc:
            rank = next(i for i, kind in enumerate(_SKIPPED) if isinstance(exc, kind))
            if rank > best_rank:
                best, best_rank = exc, rank
    assert best is not None  # noqa: S101 - there is at least one entry, and each raised
    raise best


def verify_json_all(
    data: Mapping[str, Any] | str | bytes,
    key: KeyArgument | None,
    algorithms: Iterable[str] | None = None,
    *,
    detached_payload: bytes | None = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> tuple[VerifiedJWS, ...]:
    """Verify *every* signature of a JWS in JSON serialization; one result per signature.

    The strict counterpart of :func:`verify_json`, for when each signer must have signed
    (RFC 7515 §7.2.1 leaves the choice to the application). The first signature that fails
    raises its reason (:class:`~jwtkit.errors.AlgorithmNotAllowed`,
    :class:`~jwtkit.errors.KeyNotFound`, :class:`~jwtkit.errors.InvalidSignature`, ...).
    """
    parsed, source, allowed = _prepare(
        data, key, algorithms, detached_payload, crit, registry, max_token_size, max_signatures
    )
    return tuple(
        _verify_entry(entry, parsed, source, allowed, registry) for entry in parsed.entries
    )
