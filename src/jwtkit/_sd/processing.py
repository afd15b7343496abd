"""What Holders and Verifiers both do with an SD-JWT (RFC 9901 §4, §7.1): split the compact
form, and turn the Issuer-signed payload and the Disclosures into the processed payload,
rejecting every misuse the RFC names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._codec import DEFAULT_MAX_TOKEN_SIZE
from .._messages import short
from ..errors import InvalidSDJWT, TokenTooLarge
from .disclosures import DEFAULT_SD_ALG, Disclosure
from .paths import Path

__all__ = ["MAX_DISCLOSURES", "MAX_NESTING", "Processed", "process", "sd_alg_of", "split"]

#: The most Disclosures one SD-JWT may carry (a bound on work, security matrix D1).
MAX_DISCLOSURES = 1024
#: The deepest nesting of the processed payload, Disclosures inside Disclosures included.
MAX_NESTING = 64
# Members that are never claims of a processed payload (RFC 9901 §7.1 step 3.3.2.2).
_NOT_A_CLAIM_NAME = frozenset({"_sd", "...", "_sd_alg"})


def split(
    text: object, max_size: int = DEFAULT_MAX_TOKEN_SIZE, max_disclosures: int = MAX_DISCLOSURES
) -> tuple[str, list[str], str | None]:
    """``<JWT>~<D1>~...~<DN>~[<KB-JWT>]`` -> (JWT, Disclosures, KB-JWT or ``None``) (§4)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidSDJWT("SD-JWT: not ASCII") from None
    if not isinstance(text, str):
        raise InvalidSDJWT(f"SD-JWT: expected a string, got {type(text).__name__}")
    if len(text) > max_size:
        raise TokenTooLarge(f"SD-JWT: longer than {max_size} characters")
    if text.count("~") > max_disclosures + 1:
        raise InvalidSDJWT(f"SD-JWT: more than {max_disclosures} Disclosures")
    parts = text.split("~")
    if len(parts) < 2:
        raise InvalidSDJWT(
            "SD-JWT: expected '<Issuer-signed JWT>~<Disclosures>~' (RFC 9901 §4); no '~' was found"
        )
    disclosures = parts[1:-1]
    if any(not part for part in disclosures):
        raise InvalidSDJWT("SD-JWT: an empty Disclosure between two '~' (RFC 9901 §4)")
    return parts[0], disclosures, parts[-1] or None


@dataclass(frozen=True)
class Processed:
    """The processed payload and, for each Disclosure used, its digest and claim path."""

    claims: dict[str, Any]
    #: digest -> (the Disclosure, the path of its claim in ``claims``)
    used: dict[str, tuple[Disclosure, Path]]


class _Walk:
    def __init__(self, digests: dict[str, Disclosure]) -> None:
        self.digests = digests
        self.seen: set[str] = set()
        self.used: dict[str, tuple[Disclosure, Path]] = {}

    def digest_seen(self, digest: str) -> Disclosure | None:
        # §7.1 step 4: a digest found twice anywhere, decoys included, rejects the SD-JWT.
        if digest in self.seen:
            raise InvalidSDJWT(f"SD-JWT: the digest {short(digest)} appears more than once")
        self.seen.add(digest)
        return self.digests.get(digest)

    def value(self, value: Any, path: Path, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise InvalidSDJWT(f"SD-JWT: claims nested deeper than {MAX_NESTING} levels")
        if isinstance(value, dict):
            return self.object(value, path, depth)
        if isinstance(value, list):
            return self.array(value, path, depth)
        return value

    def object(self, value: dict[str, Any], path: Path, depth: int) -> dict[str, Any]:
        if "..." in value:
            raise InvalidSDJWT(
                f"SD-JWT: '...' at {_where(path)} outside an array element {{'...': digest}} "
                "(RFC 9901 §4.1)"
            )
        out: dict[str, Any] = {}
        for name, child in value.items():
            if name == "_sd_alg":
                if depth:
                    raise InvalidSDJWT(
                        f"SD-JWT: '_sd_alg' at {_where(path)}; it is allowed at the top level "
                        "only (RFC 9901 §4.1.1)"
                    )
            elif name != "_sd":
                out[name] = self.value(child, (*path, name), depth + 1)
        if "_sd" not in value:
            return out
        digests = value["_sd"]
        if type(digests) is not list or not all(isinstance(d, str) for d in digests):
            raise InvalidSDJWT(
                f"SD-JWT: '_sd' at {_where(path)} must be an array of strings (RFC 9901 §4.2.4.1)"
            )
        for digest in digests:
            disclosure = self.digest_seen(digest)
            if disclosure is None:
                continue  # a decoy, or a claim the Holder did not disclose (§7.1 step 3.3.1)
            claim = disclosure.name
            if claim is None:
                raise InvalidSDJWT(
                    f"SD-JWT: an array-element Disclosure is referenced from '_sd' at "
                    f"{_where(path)} (RFC 9901 §7.1 step 3.3.2.1)"
                )
            if claim in _NOT_A_CLAIM_NAME:
                raise InvalidSDJWT(
                    f"SD-JWT: a Disclosure names the reserved member {short(claim)} "
                    "(RFC 9901 §7.1 step 3.3.2.2)"
                )
            if claim in out:
                raise InvalidSDJWT(
                    f"SD-JWT: a Disclosure names {short(claim)}, which already exists at "
                    f"{_where(path)} (RFC 9901 §7.1 step 3.3.2.3)"
                )
            child_path = (*path, claim)
            self.used[digest] = (disclosure, child_path)
            out[claim] = self.value(disclosure.value, child_path, depth + 1)
        return out

    def array(self, value: list[Any], path: Path, depth: int) -> list[Any]:
        out: list[Any] = []
        for element in value:
            if not (isinstance(element, dict) and "..." in element):
                out.append(self.value(element, (*path, len(out)), depth + 1))
                continue
            digest = element["..."]
            if len(element) != 1 or not isinstance(digest, str):
                raise InvalidSDJWT(
                    f"SD-JWT: an array element at {_where(path)} must be exactly "
                    "{'...': '<digest>'} (RFC 9901 §4.2.4.2)"
                )
            disclosure = self.digest_seen(digest)
            if disclosure is None:
                continue  # §7.1 step 3.4: removed
            if disclosure.name is not None:
                raise InvalidSDJWT(
                    f"SD-JWT: an object-property Disclosure is referenced from the array at "
                    f"{_where(path)} (RFC 9901 §7.1 step 3.3.3.1)"
                )
            child_path = (*path, len(out))
            self.used[digest] = (disclosure, child_path)
            out.append(self.value(disclosure.value, child_path, depth + 1))
        return out


def _where(path: Path) -> str:
    return short("".join(f"/{part}" for part in path) or "/")


def sd_alg_of(payload: dict[str, Any], accepted: Sequence[str]) -> str:
    """The payload's ``_sd_alg`` (``sha-256`` when absent), which must be one of ``accepted``
    (RFC 9901 §4.1.1, §7.1 step 2.5)."""
    name = payload.get("_sd_alg", DEFAULT_SD_ALG)
    if not isinstance(name, str) or name not in accepted:
        raise InvalidSDJWT(
            f"SD-JWT: '_sd_alg' {short(name)} is not accepted; expected one of {list(accepted)} "
            "(RFC 9901 §7.1 step 2.5)"
        )
    return name


def process(
    payload: dict[str, Any], disclosures: Sequence[str], digest: Callable[[str], str]
) -> Processed:
    """RFC 9901 §7.1 step 3 to 5: every Disclosure parsed and matched to its digest, the
    payload rebuilt without ``_sd`` and ``_sd_alg``; a Disclosure sent twice or matched by no
    digest rejects the SD-JWT."""
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        key = digest(encoded)
        if key in by_digest:
            raise InvalidSDJWT("SD-JWT: a Disclosure is sent more than once (RFC 9901 §4)")
        by_digest[key] = Disclosure.parse(encoded)
    walk = _Walk(by_digest)
    claims = walk.object(payload, (), 0)
    if len(walk.used) != len(by_digest):
        raise InvalidSDJWT(
            "SD-JWT: a Disclosure is not referenced by any digest of the Issuer-signed JWT "
            "(RFC 9901 §7.1 step 5)"
        )
    return Processed(claims, walk.used)
