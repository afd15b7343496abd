"""Issuing an SD-JWT (RFC 9901 §4.1, §4.2): the chosen claims replaced by digests, their
Disclosures made, decoys added, the payload signed with :func:`jwtkit.encode`."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .._codec import json_dumps, json_loads_object
from .._jwt import Now, encode
from .._messages import short
from ..errors import MalformedToken, UsageError
from ..jwa import DEFAULT_REGISTRY, Registry
from ..jwk import Key, OctKey
from .disclosures import DEFAULT_SD_ALG, Disclosure, decoy_digest, hasher, new_salt
from .paths import Path, PathLike, format_pointer, parse_paths, same_step

__all__ = ["DEFAULT_TYP", "NOT_DISCLOSABLE", "issue"]

#: The ``typ`` of an issued SD-JWT unless told otherwise: the media type ``application/sd-jwt``
#: (RFC 9901 §12.2) without its prefix (RFC 7515 §4.1.9). Profiles name their own
#: (``example+sd-jwt``, §9.11; SD-JWT VC's ``dc+sd-jwt``).
DEFAULT_TYP = "sd-jwt"
#: Top-level claims that control the SD-JWT's validity and are never made selectively
#: disclosable (RFC 9901 §9.7; ``aud`` entries may be), nor the members SD-JWT reserves.
NOT_DISCLOSABLE = frozenset({"iss", "aud", "exp", "nbf", "cnf", "_sd_alg"})
#: Member names an Issuer's input may never hold: SD-JWT gives them a meaning (§4.1 rule 7).
_RESERVED = ("_sd", "_sd_alg", "...")


def _check_reserved(value: Any, path: Path) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            if name in _RESERVED:
                raise UsageError(
                    f"claims: {short(name)} at {format_pointer(path) or '/'} is reserved by "
                    "SD-JWT (RFC 9901 §4.1)"
                )
            _check_reserved(child, (*path, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check_reserved(child, (*path, index))


def _resolve(claims: dict[str, Any], path: Path) -> Path:
    """``path`` with array indexes as ints, checked to name a claim of ``claims``."""
    node: Any = claims
    resolved: list[str | int] = []
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            resolved.append(step)
            node = node[step]
        elif isinstance(node, list) and any(same_step(step, i) for i in range(len(node))):
            index = int(step)
            resolved.append(index)
            node = node[index]
        else:
            raise UsageError(f"disclose: no claim at {format_pointer(path)}")
    if len(resolved) == 1 and resolved[0] in NOT_DISCLOSABLE:
        raise UsageError(
            f"disclose: {short(resolved[0])} controls the SD-JWT's validity and stays in the "
            "clear (RFC 9901 §9.7)"
        )
    return tuple(resolved)


def _decoy_count(maximum: int) -> int:
    """How many decoys one ``_sd`` array or array gets: 1 to ``maximum``, at random."""
    return 0 if maximum == 0 else 1 + secrets.randbelow(maximum)


class _Builder:
    """Walks the claims once, children first, so that a Disclosure holds the digests of the
    Disclosures below it (recursive disclosures, RFC 9901 §4.2.6)."""

    def __init__(self, selected: set[Path], sd_alg: str, decoys: int) -> None:
        self.selected = selected
        self.digest = hasher(sd_alg)
        self.decoys = decoys
        self.disclosures: list[Disclosure] = []

    def disclose(self, name: str | None, value: Any) -> str:
        disclosure = Disclosure.create(new_salt(), name, value)
        self.disclosures.append(disclosure)
        return self.digest(disclosure.encoded)

    def build(self, value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            return self.build_object(value, path)
        if isinstance(value, list):
            return self.build_array(value, path)
        return value

    def build_object(self, value: dict[str, Any], path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, child in value.items():
            child_path = (*path, name)
            built = self.build(child, child_path)
            if child_path in self.selected:
                digests.append(self.disclose(name, built))
            else:
                out[name] = built
        if digests:
            digests.extend(decoy_digest(self.digest) for _ in range(_decoy_count(self.decoys)))
            # §4.2.4.1: the order of the digests must not tell the order of the claims.
            out["_sd"] = sorted(digests)
        return out

    def build_array(self, value: list[Any], path: Path) -> list[Any]:
        out: list[Any] = []
        hidden = False
        for index, child in enumerate(value):
            child_path = (*path, index)
            built = self.build(child, child_path)
            if child_path in self.selected:
                out.append({"...": self.disclose(None, built)})
                hidden = True
            else:
                out.append(built)
        if hidden:
            for _ in range(_decoy_count(self.decoys)):
                out.insert(secrets.randbelow(len(out) + 1), {"...": decoy_digest(self.digest)})
        return out


def _holder_jwk(holder_key: Key | Mapping[str, Any]) -> dict[str, Any]:
    key = holder_key if isinstance(holder_key, Key) else Key.from_jwk(dict(holder_key))
    if isinstance(key, OctKey):
        raise UsageError("holder_key: Key Binding needs the Holder's public key, not a secret")
    jwk = key.public_key().to_jwk()
    for member in ("x5c", "x5t", "x5t#S256", "x5u"):
        jwk.pop(member, None)
    return jwk


def issue(
    claims: Mapping[str, Any],
    key: Key | bytes | str,
    algorithm: str | None = None,
    *,
    disclose: Iterable[PathLike] = (),
    holder_key: Key | Mapping[str, Any] | None = None,
    decoys: int = 0,
    sd_alg: str = DEFAULT_SD_ALG,
    typ: str | None = DEFAULT_TYP,
    headers: Mapping[str, Any] | None = None,
    expires_in: float | timedelta | None = None,
    not_before: float | timedelta | datetime | None = None,
    now: Now = None,
    registry: Registry = DEFAULT_REGISTRY,
) -> str:
    """Issue an SD-JWT: ``<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~``.

    ``disclose`` lists the claims that become selectively disclosable, as JSON Pointers
    (``"/email"``, ``"/address/street_address"``, ``"/nationalities/0"``) or sequences
    (``("address", "street_address")``). A claim and claims inside it may both be listed
    (recursive disclosures, RFC 9901 §4.2.6). Each gets its own 128-bit salt (§9.3); each
    ``_sd`` array is sorted (§4.2.4.1). ``decoys`` adds, to each object and array that holds
    digests, a random count (1 to ``decoys``) of decoy digests (§4.2.5). ``holder_key`` puts
    the Holder's public key in ``cnf.jwk`` (RFC 7800 §3.2) for Key Binding (§4.1.2).

    The payload is signed by :func:`jwtkit.encode` with ``key`` and ``algorithm`` (never
    ``none``, §9.1), with ``typ`` in the header (§9.11) and ``_sd_alg`` in the payload.
    ``iss``, ``aud``, ``exp``, ``nbf`` and ``cnf`` stay in the clear (§9.7): naming one in
    ``disclose`` is a :class:`~jwtkit.errors.UsageError`, as is any input member named
    ``_sd``, ``_sd_alg`` or ``...`` (§4.1).
    """
    if key is None:
        raise UsageError("an SD-JWT is signed by its Issuer: a key is required (RFC 9901 §9.1)")
    if not isinstance(claims, Mapping):
        raise UsageError(f"claims: expected a mapping, got {type(claims).__name__}")
    if type(decoys) is not int or not 0 <= decoys <= 100:
        raise UsageError("decoys: expected an int from 0 to 100")
    try:
        payload = json_loads_object(json_dumps(dict(claims)), "claims")
    except (TypeError, ValueError, MalformedToken) as exc:
        raise UsageError(f"claims: not a JSON object ({exc})") from None
    _check_reserved(payload, ())
    if holder_key is not None:
        if "cnf" in payload:
            raise UsageError("claims already hold 'cnf'; pass either it or holder_key")
        payload["cnf"] = {"jwk": _holder_jwk(holder_key)}
    selected = {_resolve(payload, path) for path in parse_paths(disclose)}
    builder = _Builder(selected, sd_alg, decoys)
    built = builder.build_object(payload, ())
    built["_sd_alg"] = sd_alg
    token = encode(
        built,
        key,
        algorithm,
        headers,
        typ=typ,
        expires_in=expires_in,
        not_before=not_before,
        now=now,
        registry=registry,
    )
    return token + "~" + "".join(d.encoded + "~" for d in builder.disclosures)
