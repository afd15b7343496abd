"""Compare jwtkit with PyJWT, joserfc, jwcrypto, python-jose and a hand-written stdlib floor.

Every implementation runs in this one process, on the same claims, keys and tokens. Before
anything is timed, each decoder must accept the valid token and reject an expired, a
wrong-audience, a missing-audience, a wrong-issuer, a missing-issuer and a tampered token, and
must not warn: no implementation is timed doing less work than the others.

Usage::

    python benchmarks/compare.py              # full run (1-2 minutes), Markdown on stdout
    python benchmarks/compare.py --quick      # short run, noisier numbers
    python benchmarks/compare.py --json out.json   # also write the raw numbers (``-``: stdout)
    python benchmarks/compare.py --profile    # where jwtkit's time goes (cProfile + steps)
    python benchmarks/compare.py --limits-only   # only jwtkit against the limit (asymmetric)
    python benchmarks/compare.py --dpop-only     # only the DPoP proof tables (ES256, EdDSA)

Method: each implementation gets an iteration count N calibrated so that one timed batch takes
about 0.2 s; the batches of one table are interleaved (A B C ... A B C ...) five times, and the
best batch gives ops/s and every ratio (the median is reported too). The asymmetric tables
also have a "limit" row (the stdlib floor's parsing and claim checks around the bare
``cryptography`` verify); jwtkit's ratio to it is measured apart, in many paired rounds, until
it is known to +-3% (see LimitRatio). The DPoP tables (RFC 9449 proofs, ES256 and EdDSA)
time jwtkit's DPoPVerifier.verify against a limit of the same kind (see make_dpop_limit) and
against the peers' JWT APIs with the DPoP checks written by hand around them. See
docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import hashlib
import hmac
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib import metadata
from itertools import repeat
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import jwtkit
import jwtkit.dpop
from _timing import batch, calibrate

try:
    import jose.jwk
    import jose.jwt
    import joserfc.jwk
    import joserfc.jwt
    import jwcrypto.jwk
    import jwcrypto.jwt
    import jwt as pyjwt
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise SystemExit(
        f"benchmarks/compare.py needs the peer libraries ({exc.name} is missing): "
        "make bench (installs the bench dependency group from uv.lock)"
    ) from None

ISSUER = "https://id.example"
AUDIENCE = "api"
#: One 32-byte HMAC secret for everybody (random-looking, so no library refuses it as weak).
SECRET = hashlib.sha256(b"jwtkit benchmark secret").digest()

FLOOR = "stdlib floor (hand-written)"
BARE = "cryptography verify (bare)"
LIMIT = "limit: bare verify + floor's parsing and claims"
JWTKIT_VERIFIER = "jwtkit Verifier.decode"
JWTKIT_ONESHOT = "jwtkit.decode (one-shot)"
JWTKIT_ENCODE_BYTES = "jwtkit.encode (bytes key)"
JWTKIT_ENCODE_OCTKEY = "jwtkit.encode (OctKey)"
JWTKIT_ENCODE_AKPKEY = "jwtkit.encode (AKPKey)"
BARE_SIGN = "cryptography sign (bare)"
LIMIT_SIGN = "limit: bare sign + json.dumps and base64url"
PYJWT_DECODE = "PyJWT jwt.decode"
PYJWT_ENCODE = "PyJWT jwt.encode"
JOSERFC_DECODE = "joserfc jwt.decode + JWTClaimsRegistry.validate"
JOSERFC_ENCODE = "joserfc jwt.encode"
JWCRYPTO_DECODE = "jwcrypto JWT(jwt=..., check_claims=...)"
JWCRYPTO_ENCODE = "jwcrypto JWT.make_signed_token + serialize"
JOSE_DECODE = "python-jose jwt.decode"
JOSE_ENCODE = "python-jose jwt.encode"

Call = Callable[[Any], object]


# --------------------------------------------------------------------------------------------
# claims and tokens


def make_claims(now: int, **changes: Any) -> dict[str, Any]:
    """The benchmark's claims; ``changes`` replaces claims, ``None`` removes one."""
    claims: dict[str, Any] = {
        "sub": "1234567890",
        "name": "John Doe",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    }
    for name, value in changes.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    return claims


@dataclass(frozen=True)
class TokenSet:
    """A valid token and the invalid ones every decoder must reject, all signed alike."""

    valid: str
    invalid: Mapping[str, str]


def make_tokens(sign: Callable[[dict[str, Any]], str], now: int) -> TokenSet:
    valid = sign(make_claims(now))
    header, _, rest = valid.partition(".")
    _, _, signature = rest.partition(".")
    other_payload = sign(make_claims(now, sub="someone else")).split(".")[1]
    return TokenSet(
        valid=valid,
        invalid={
            "expired": sign(make_claims(now, iat=now - 7200, exp=now - 3600)),
            "wrong-audience": sign(make_claims(now, aud="another-api")),
            "missing-audience": sign(make_claims(now, aud=None)),
            "wrong-issuer": sign(make_claims(now, iss="https://evil.example")),
            "missing-issuer": sign(make_claims(now, iss=None)),
            "tampered-payload": f"{header}.{other_payload}.{signature}",
        },
    )


# --------------------------------------------------------------------------------------------
# the stdlib floor: the least work a correct HS256 decode can do


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_floor_decoder(key: bytes, issuer: str, audience: str) -> Callable[[str], dict[str, Any]]:
    """Hand-written HS256 decode: split, base64url, JSON, alg check, HMAC, exp/iss/aud."""
    digest = hmac.digest
    compare = hmac.compare_digest
    loads = json.loads
    clock = time.time

    def decode(token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("not a JWS compact token")
        header_b64, payload_b64, signature_b64 = parts
        header = loads(_b64decode(header_b64))
        payload = loads(_b64decode(payload_b64))
        if header["alg"] != "HS256":
            raise ValueError("algorithm not allowed")
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        if not compare(digest(key, signing_input, "sha256"), _b64decode(signature_b64)):
            raise ValueError("bad signature")
        if not payload["exp"] > clock():
            raise ValueError("expired")
        if payload["iss"] != issuer:
            raise ValueError("wrong issuer")
        if payload["aud"] != audience:
            raise ValueError("wrong audience")
        return payload  # type: ignore[no-any-return]

    return decode


def make_floor_encoder(key: bytes) -> Callable[[dict[str, Any]], str]:
    """Hand-written HS256 encode: compact JSON, base64url, one HMAC."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    digest = hmac.digest

    def encode(claims: dict[str, Any]) -> str:
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{_b64encode(digest(key, signing_input.encode(), 'sha256'))}"

    return encode


#: The ML-DSA-65 key type (``Any``: cryptography before 48 has no usable ML-DSA, and then the
#: ML-DSA tables are left out).
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | Any


def _signature_check(public_key: PublicKey) -> Callable[[bytes, bytes], None]:
    """``check(signature, signing_input)``: the one ``cryptography`` verify call for the JOSE
    signature, raising ``InvalidSignature``. ECDSA's raw R||S becomes DER first (RFC 7518 §3.4),
    as ``cryptography`` takes nothing else."""
    if isinstance(public_key, rsa.RSAPublicKey):
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        rsa_verify = public_key.verify

        def check_rsa(signature: bytes, data: bytes) -> None:
            rsa_verify(signature, data, pkcs1, sha256)

        return check_rsa
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        ecdsa = ec.ECDSA(hashes.SHA256())
        ec_verify = public_key.verify
        from_bytes = int.from_bytes

        def check_ec(signature: bytes, data: bytes) -> None:
            half = len(signature) // 2
            der = encode_dss_signature(
                from_bytes(signature[:half], "big"), from_bytes(signature[half:], "big")
            )
            ec_verify(der, data, ecdsa)

        return check_ec
    return public_key.verify


def make_limit_decoder(
    public_key: PublicKey, alg: str, issuer: str, audience: str
) -> Callable[[str], dict[str, Any]]:
    """The limit for an asymmetric decode: the stdlib floor's non-crypto work (split,
    base64url, ``json.loads`` of header and payload, alg check, exp/iss/aud) around the bare
    ``cryptography`` verify of the token's own signature. It is a real decoder: it is checked
    against the invalid tokens like every other row before anything is timed."""
    check = _signature_check(public_key)
    loads = json.loads
    clock = time.time

    def decode(token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("not a JWS compact token")
        header_b64, payload_b64, signature_b64 = parts
        header = loads(_b64decode(header_b64))
        payload = loads(_b64decode(payload_b64))
        if header["alg"] != alg:
            raise ValueError("algorithm not allowed")
        check(_b64decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
        if not payload["exp"] > clock():
            raise ValueError("expired")
        if payload["iss"] != issuer:
            raise ValueError("wrong issuer")
        if payload["aud"] != audience:
            raise ValueError("wrong audience")
        return payload  # type: ignore[no-any-return]

    return decode


# --------------------------------------------------------------------------------------------
# the peers, configured to do the same checks as jwtkit
#
# jwtkit: a signature check, then exp (if present), nbf/iat (if present); passing issuer and
# audience makes iss and aud required and exact. Each peer below is set up to do the same.


def pyjwt_decoder(key: Any, alg: str) -> Call:
    # PyJWT: passing audience/issuer makes aud/iss required (MissingRequiredClaimError).
    return partial(pyjwt.decode, key=key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)


def joserfc_decoder(key: Any, alg: str) -> Call:
    # joserfc: decode verifies only the signature; claims need a separate registry step.
    registry = joserfc.jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
    )
    decode = joserfc.jwt.decode
    validate = registry.validate

    def run(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = decode(token, key, algorithms=[alg]).claims
        validate(claims)
        return claims

    return run


def jwcrypto_decoder(key: Any, alg: str) -> Call:
    # jwcrypto: once check_claims is given, only the listed claims are checked (exp too).
    check = {"iss": ISSUER, "aud": AUDIENCE, "exp": None}
    make = jwcrypto.jwt.JWT
    loads = json.loads

    def run(token: str) -> dict[str, Any]:
        parsed = make(jwt=token, key=key, algs=[alg], check_claims=check, expected_type="JWS")
        return loads(parsed.claims)  # type: ignore[no-any-return]

    return run


def jose_decoder(key: Any, alg: str) -> Call:
    # python-jose: aud and iss are optional unless required explicitly.
    return partial(
        jose.jwt.decode,
        key=key,
        algorithms=[alg],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require_aud": True, "require_iss": True},
    )


def jwcrypto_encoder(key: Any) -> Call:
    make = jwcrypto.jwt.JWT

    def run(claims: dict[str, Any]) -> str:
        token = make(header={"alg": "HS256", "typ": "JWT"}, claims=claims)
        token.make_signed_token(key)
        return token.serialize()  # type: ignore[no-any-return]

    return run


# --------------------------------------------------------------------------------------------
# checks before timing


def _raises(call: Call, arg: object) -> bool:
    try:
        call(arg)
    except Exception:
        return True
    return False


def check_decoder(name: str, call: Call, tokens: TokenSet, expected: Mapping[str, Any]) -> None:
    """Fail unless ``call`` accepts the valid token (silently) and rejects every invalid one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        claims = call(tokens.valid)
    if caught:
        raise SystemExit(f"{name}: warns while decoding ({caught[0].message}); fix its setup")
    if claims != expected:
        raise SystemExit(f"{name}: returned {claims!r}, expected {dict(expected)!r}")
    accepted = [label for label, token in tokens.invalid.items() if not _raises(call, token)]
    if accepted:
        raise SystemExit(
            f"{name}: accepted the {', '.join(accepted)} token(s); it would be timed doing "
            "less work than the others"
        )


def check_encoder(
    name: str, call: Call, claims: dict[str, Any], verify: Call, alg: str = "HS256"
) -> None:
    """Fail unless ``call`` produces an ``alg`` JWT that verifies to ``claims``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = call(claims)
    if caught:
        raise SystemExit(f"{name}: warns while encoding ({caught[0].message}); fix its setup")
    if not isinstance(token, str):
        raise SystemExit(f"{name}: returned {type(token).__name__}, expected str")
    header = json.loads(_b64decode(token.split(".")[0]))
    if header.get("alg") != alg or header.get("typ") != "JWT":
        raise SystemExit(f"{name}: unexpected header {header!r}")
    if verify(token) != claims:
        raise SystemExit(f"{name}: the token does not verify to the same claims")


# --------------------------------------------------------------------------------------------
# timing


@dataclass
class Case:
    """One implementation in one table: ``call(arg)`` is one operation."""

    name: str
    call: Call
    arg: object
    iterations: int = 0
    seconds_per_op: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds_per_op)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds_per_op)


@dataclass
class Table:
    key: str
    title: str
    reference: str
    cases: list[Case]
    note: str = ""

    def case(self, name: str) -> Case:
        for case in self.cases:
            if case.name == name:
                return case
        raise KeyError(name)


def measure(table: Table, repeats: int, target: float) -> None:
    """Calibrate every case, then time interleaved batches (A B C, A B C, ...)."""
    for case in table.cases:
        case.iterations = calibrate(case.call, case.arg, target)
    for _ in range(repeats):
        for case in table.cases:
            gc.collect()
            elapsed = batch(case.call, case.arg, case.iterations)
            case.seconds_per_op.append(elapsed / case.iterations)


# --------------------------------------------------------------------------------------------
# the limit ratio: jwtkit Verifier.decode against the limit row, in paired batches

#: The reported limit ratio should be known to +-3% (the 95% interval of its median).
LIMIT_TOLERANCE = 0.03
#: jwtkit Verifier.decode time / limit time: "at the limit", with room for the +-3% precision.
#: Measured at 0.91-0.99 when the limit row was added; above this, verification got slower.
LIMIT_GOAL = 1.05


@dataclass
class LimitRatio:
    """``jwtkit Verifier.decode`` time / limit time, from rounds of two adjacent batches.

    A machine shared with other work slows both batches of a round alike, so the ratio of each
    round is steadier than either time; the median of the rounds is the reported ratio, and
    the rank-based 95% interval of that median (no assumption about the distribution) is its
    precision.
    """

    key: str
    title: str
    #: The jwtkit row and the limit row of the table, and the goal for their ratio.
    subject: str = JWTKIT_VERIFIER
    other: str = LIMIT
    goal: float = LIMIT_GOAL
    iterations: tuple[int, int] = (0, 0)
    #: (jwtkit seconds per op, limit seconds per op), one pair per round.
    pairs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [mine / limit for mine, limit in self.pairs]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    def interval(self) -> tuple[float, float]:
        """The 95% confidence interval of the median ratio: order statistics j and n + 1 - j,
        with j the largest rank whose two binomial(n, 1/2) tails together stay <= 5%."""
        ratios = sorted(self.ratios)
        n = len(ratios)
        j, tail = 0, 0.0
        while True:
            tail += math.comb(n, j) / 2**n
            if 2 * tail > 0.05:
                break
            j += 1
        if j == 0:
            return ratios[0], ratios[-1]
        return ratios[j - 1], ratios[n - j]

    @property
    def half_width(self) -> float:
        """Half the width of the 95% interval, relative to the median (0.03 = +-3%)."""
        low, high = self.interval()
        return (high - low) / 2 / self.median

    @property
    def stable(self) -> bool:
        return len(self.pairs) >= 6 and self.half_width <= LIMIT_TOLERANCE


def measure_limit(
    table: Table,
    target: float,
    min_rounds: int,
    max_rounds: int,
    rows: tuple[str, str, float] = (JWTKIT_VERIFIER, LIMIT, LIMIT_GOAL),
) -> LimitRatio:
    """Time jwtkit and the limit in adjacent batches (alternating which goes first) until the
    median ratio is known to +-LIMIT_TOLERANCE, with at least ``min_rounds`` rounds and at most
    ``max_rounds``. ``rows``: the jwtkit row, the limit row and the goal for their ratio."""
    subject, other, goal = rows
    mine, limit = table.case(subject), table.case(other)
    result = LimitRatio(table.key, table.title.split(" with ")[0], subject, other, goal)
    result.iterations = (
        calibrate(mine.call, mine.arg, target),
        calibrate(limit.call, limit.arg, target),
    )
    rounds = list(zip((mine, limit), result.iterations, strict=True))
    while len(result.pairs) < max_rounds:
        seconds = {}
        for case, iterations in rounds if len(result.pairs) % 2 == 0 else rounds[::-1]:
            gc.collect()
            seconds[case.name] = batch(case.call, case.arg, iterations) / iterations
        result.pairs.append((seconds[subject], seconds[other]))
        if len(result.pairs) >= min_rounds and result.stable:
            break
    return result


def render_limits(limits: list[LimitRatio], target: float) -> str:
    out = [
        "## jwtkit against the limit",
        "",
        "jwtkit Verifier.decode (DPoPVerifier.verify in the DPoP tables) against the table's "
        "limit row.",
        "",
        f"Rounds of two adjacent batches of about {target:g} s (jwtkit, limit; the order "
        "alternates), repeated until the 95% interval of the median ratio is within "
        f"+-{LIMIT_TOLERANCE:.0%} of it. The ratio is the median of the rounds' ratios; the "
        "times are each side's best batch.",
        "",
        "| algorithm | limit us/op (best) | jwtkit us/op (best) | ratio (median) | 95% interval | "
        "min-max of rounds | rounds | goal | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for limit in limits:
        low, high = limit.interval()
        ratios = limit.ratios
        mine = min(pair[0] for pair in limit.pairs)
        theirs = min(pair[1] for pair in limit.pairs)
        precision = f"+-{limit.half_width:.1%}" + ("" if limit.stable else " (not reached)")
        out.append(
            f"| {limit.title} | {_fmt_us(theirs)} | {_fmt_us(mine)} | {limit.median:.3f}x | "
            f"{low:.3f}-{high:.3f} ({precision}) | {min(ratios):.3f}-{max(ratios):.3f} | "
            f"{len(ratios)} | <= {limit.goal:.2f}x | "
            f"{'PASS' if limit.median <= limit.goal else 'MISS'} |"
        )
    out.append("")
    return "\n".join(out)


def limit_numbers(limits: list[LimitRatio]) -> list[dict[str, Any]]:
    return [
        {
            "table": limit.key,
            "subject": limit.subject,
            "other": limit.other,
            "iterations": list(limit.iterations),
            "seconds_per_op": [list(pair) for pair in limit.pairs],
            "ratio_median": limit.median,
            "ratio_interval_95": list(limit.interval()),
            "half_width": limit.half_width,
            "tolerance": LIMIT_TOLERANCE,
            "stable": limit.stable,
            "goal": limit.goal,
            "passed": limit.median <= limit.goal,
        }
        for limit in limits
    ]


# --------------------------------------------------------------------------------------------
# the tables


def hs256_tables(now: int) -> tuple[Table, Table]:
    octkey = jwtkit.OctKey(SECRET)
    tokens = make_tokens(partial(jwtkit.encode, key=octkey, algorithm="HS256"), now)
    expected = make_claims(now)
    verifier = jwtkit.Verifier(octkey, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    decoders: list[tuple[str, Call]] = [
        (FLOOR, make_floor_decoder(SECRET, ISSUER, AUDIENCE)),
        (JWTKIT_VERIFIER, verifier.decode),
        (
            JWTKIT_ONESHOT,
            partial(
                jwtkit.decode, key=SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
            ),
        ),
        (PYJWT_DECODE, pyjwt_decoder(SECRET, "HS256")),
        (JOSERFC_DECODE, joserfc_decoder(joserfc.jwk.OctKey.import_key(SECRET), "HS256")),
        (JWCRYPTO_DECODE, jwcrypto_decoder(jwcrypto.jwk.JWK.from_json(_oct_jwk()), "HS256")),
        (JOSE_DECODE, jose_decoder(jose.jwk.construct(SECRET, "HS256"), "HS256")),
    ]
    for name, call in decoders:
        check_decoder(name, call, tokens, expected)
    decode_table = Table(
        "hs256_decode",
        "HS256 decode with exp/iss/aud validation",
        JWTKIT_VERIFIER,
        [Case(name, call, tokens.valid) for name, call in decoders],
        "jwtkit.Verifier is built once; the one-shot jwtkit.decode and every peer get the "
        "key and expectations on each call, as their documentation shows.",
    )

    encoders: list[tuple[str, Call]] = [
        (FLOOR, make_floor_encoder(SECRET)),
        (JWTKIT_ENCODE_BYTES, partial(jwtkit.encode, key=SECRET, algorithm="HS256")),
        (JWTKIT_ENCODE_OCTKEY, partial(jwtkit.encode, key=octkey, algorithm="HS256")),
        (PYJWT_ENCODE, partial(pyjwt.encode, key=SECRET, algorithm="HS256")),
        (
            JOSERFC_ENCODE,
            partial(
                joserfc.jwt.encode, {"alg": "HS256"}, key=joserfc.jwk.OctKey.import_key(SECRET)
            ),
        ),
        (JWCRYPTO_ENCODE, jwcrypto_encoder(jwcrypto.jwk.JWK.from_json(_oct_jwk()))),
        (JOSE_ENCODE, partial(jose.jwt.encode, key=SECRET, algorithm="HS256")),
    ]
    for name, call in encoders:
        check_encoder(name, call, expected, verifier.decode)
    encode_table = Table(
        "hs256_encode",
        "HS256 encode",
        JWTKIT_ENCODE_BYTES,
        [Case(name, call, expected) for name, call in encoders],
        "Same claims, same 32-byte secret; every token carries the header "
        '{"alg":"HS256","typ":"JWT"}.',
    )
    return decode_table, encode_table


def _oct_jwk() -> str:
    return json.dumps({"kty": "oct", "k": _b64encode(SECRET)})


@dataclass(frozen=True)
class AsymmetricSetup:
    alg: str
    title: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    #: python-jose has no EdDSA.
    jose_supported: bool
    #: joserfc warns on the deprecated "EdDSA" name and wants "Ed25519" (RFC 9864).
    joserfc_alg: str
    #: The joserfc key class (its generic import_key warns about guessing the key type).
    joserfc_key: Any


def _bare_verify(
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey,
    signing_input: bytes,
    signature: bytes,
) -> tuple[Call, object]:
    """The cryptography call alone, with its arguments prepared outside the timed loop.

    The last positional argument is the one passed per call, so no Python frame is added.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        return partial(public_key.verify, signature, signing_input, padding.PKCS1v15()), (
            hashes.SHA256()
        )
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        half = len(signature) // 2
        der = encode_dss_signature(
            int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        )
        return partial(public_key.verify, der, signing_input), ec.ECDSA(hashes.SHA256())
    return partial(public_key.verify, signature), signing_input


def asymmetric_table(setup: AsymmetricSetup, now: int) -> Table:
    pem_private = setup.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = setup.private_key.public_key()
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_key = jwtkit.Key.from_pem(pem_private)
    tokens = make_tokens(partial(jwtkit.encode, key=signing_key, algorithm=setup.alg), now)
    expected = make_claims(now)
    signing_input, _, signature_b64 = tokens.valid.rpartition(".")
    bare_call, bare_arg = _bare_verify(
        public, signing_input.encode("ascii"), _b64decode(signature_b64)
    )
    bare_call(bare_arg)  # raises if the bare verify is set up wrong

    verifier = jwtkit.Verifier(
        jwtkit.Key.from_pem(pem_public),
        algorithms=[setup.alg],
        audience=AUDIENCE,
        issuer=ISSUER,
    )
    decoders: list[tuple[str, Call, TokenSet]] = [
        (LIMIT, make_limit_decoder(public, setup.alg, ISSUER, AUDIENCE), tokens),
        (JWTKIT_VERIFIER, verifier.decode, tokens),
        (PYJWT_DECODE, pyjwt_decoder(public, setup.alg), tokens),
    ]
    # joserfc deprecates "EdDSA" (RFC 9864) and warns on every use: give it the same claims
    # signed with the same key under the fully specified name it wants ("Ed25519").
    joserfc_tokens = tokens
    if setup.joserfc_alg != setup.alg:
        joserfc_tokens = make_tokens(
            partial(jwtkit.encode, key=signing_key, algorithm=setup.joserfc_alg), now
        )
    decoders.append(
        (
            JOSERFC_DECODE,
            joserfc_decoder(setup.joserfc_key.import_key(pem_public), setup.joserfc_alg),
            joserfc_tokens,
        )
    )
    decoders.append(
        (
            JWCRYPTO_DECODE,
            jwcrypto_decoder(jwcrypto.jwk.JWK.from_pem(pem_public), setup.alg),
            tokens,
        )
    )
    if setup.jose_supported:
        decoders.append(
            (
                JOSE_DECODE,
                jose_decoder(jose.jwk.construct(pem_public.decode(), setup.alg), setup.alg),
                tokens,
            )
        )
    for name, call, token_set in decoders:
        check_decoder(name, call, token_set, expected)
    cases = [Case(BARE, bare_call, bare_arg)]
    cases += [Case(name, call, token_set.valid) for name, call, token_set in decoders]
    note = (
        "The bare row is cryptography's verify() alone on the same signing input and signature "
        "(already decoded, DER for ECDSA): no parsing, no claims. The limit row is the stdlib "
        "floor's parsing and claim checks around that verify of the token's own signature "
        "(R||S to DER included for ECDSA). Decoders get the public key pre-loaded (PyJWT: the "
        "cryptography key object)."
    )
    if not setup.jose_supported:
        note += f" python-jose does not support {setup.alg}."
    if setup.joserfc_alg != setup.alg:
        note += f' joserfc verifies the same claims signed as "{setup.joserfc_alg}".'
    return Table(f"{setup.alg.lower()}_verify", setup.title, JWTKIT_VERIFIER, cases, note)


def asymmetric_setups() -> list[AsymmetricSetup]:
    return [
        AsymmetricSetup(
            "RS256",
            "RS256 verify (RSA 2048) with exp/iss/aud validation",
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            jose_supported=True,
            joserfc_alg="RS256",
            joserfc_key=joserfc.jwk.RSAKey,
        ),
        AsymmetricSetup(
            "ES256",
            "ES256 verify (P-256) with exp/iss/aud validation",
            ec.generate_private_key(ec.SECP256R1()),
            jose_supported=True,
            joserfc_alg="ES256",
            joserfc_key=joserfc.jwk.ECKey,
        ),
        AsymmetricSetup(
            "EdDSA",
            "EdDSA verify (Ed25519) with exp/iss/aud validation",
            ed25519.Ed25519PrivateKey.generate(),
            jose_supported=False,
            joserfc_alg="Ed25519",
            joserfc_key=joserfc.jwk.OKPKey,
        ),
    ]


def _mldsa65() -> Any:
    """cryptography's ML-DSA-65 private key class, or None where it cannot sign (before 48)."""
    from jwtkit._keys.mldsa_support import MLDSA_MODULE

    return None if MLDSA_MODULE is None else MLDSA_MODULE.MLDSA65PrivateKey


def mldsa_tables(now: int) -> tuple[Table, Table] | None:
    """ML-DSA-65 (RFC 9964) verify and sign, against the bare ``cryptography`` calls and the
    limit; jwcrypto is the one peer with ML-DSA (PyJWT, joserfc and python-jose have none)."""
    private_class = _mldsa65()
    if private_class is None:
        return None
    private = private_class.generate()
    public = private.public_key()
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_key = jwtkit.Key.from_cryptography(private)
    tokens = make_tokens(partial(jwtkit.encode, key=signing_key), now)
    expected = make_claims(now)
    signing_input, _, signature_b64 = tokens.valid.rpartition(".")
    bare_call, bare_arg = _bare_verify(
        public, signing_input.encode("ascii"), _b64decode(signature_b64)
    )
    bare_call(bare_arg)  # raises if the bare verify is set up wrong
    verifier = jwtkit.Verifier(
        jwtkit.Key.from_pem(pem_public), algorithms=["ML-DSA-65"], audience=AUDIENCE, issuer=ISSUER
    )
    peer_public = jwcrypto.jwk.JWK.from_pem(pem_public)
    decoders: list[tuple[str, Call]] = [
        (LIMIT, make_limit_decoder(public, "ML-DSA-65", ISSUER, AUDIENCE)),
        (JWTKIT_VERIFIER, verifier.decode),
        (JWCRYPTO_DECODE, jwcrypto_decoder(peer_public, "ML-DSA-65")),
    ]
    for name, call in decoders:
        check_decoder(name, call, tokens, expected)
    verify_table = Table(
        "ml-dsa-65_verify",
        "ML-DSA-65 verify with exp/iss/aud validation",
        JWTKIT_VERIFIER,
        [Case(BARE, bare_call, bare_arg)]
        + [Case(name, call, tokens.valid) for name, call in decoders],
        "The bare row is cryptography's verify() alone on the same signing input and "
        "signature; the limit row adds the stdlib floor's parsing and claim checks around it. "
        "PyJWT, joserfc and python-jose have no ML-DSA.",
    )

    header = _b64encode(json.dumps({"alg": "ML-DSA-65", "typ": "JWT"}).encode())
    dumps, sign = json.dumps, private.sign

    def limit_encode(claims: dict[str, Any]) -> str:
        signing_input = f"{header}.{_b64encode(dumps(claims, separators=(',', ':')).encode())}"
        return f"{signing_input}.{_b64encode(sign(signing_input.encode('ascii')))}"

    peer_private = jwcrypto.jwk.JWK.from_pem(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    peer_make = jwcrypto.jwt.JWT

    def jwcrypto_encode(claims: dict[str, Any]) -> str:
        token = peer_make(header={"alg": "ML-DSA-65", "typ": "JWT"}, claims=claims)
        token.make_signed_token(peer_private)
        return token.serialize()  # type: ignore[no-any-return]

    encoders: list[tuple[str, Call]] = [
        (LIMIT_SIGN, limit_encode),
        (JWTKIT_ENCODE_AKPKEY, partial(jwtkit.encode, key=signing_key)),
        (JWCRYPTO_ENCODE, jwcrypto_encode),
    ]
    for name, call in encoders:
        check_encoder(name, call, expected, verifier.decode, "ML-DSA-65")
    data = signing_input.encode("ascii")
    sign_table = Table(
        "ml-dsa-65_sign",
        "ML-DSA-65 sign (encode a JWT)",
        JWTKIT_ENCODE_AKPKEY,
        [Case(BARE_SIGN, sign, data)] + [Case(name, call, expected) for name, call in encoders],
        "The bare row is cryptography's sign() alone on a signing input of the same size; the "
        "limit row adds the least JWT work around it (json.dumps and base64url of the claims, "
        "a fixed header, base64url of the signature). ML-DSA signing is hedged (FIPS 204), so "
        "its time varies from call to call.",
    )
    return verify_table, sign_table


# --------------------------------------------------------------------------------------------
# DPoP proofs (RFC 9449 §4.3): jwtkit's DPoPVerifier against the limit and the peers' JWT APIs

DPOP_URL = "https://api.example/items"
#: The URL of the request as the server sees it: the query is not part of ``htu``.
DPOP_REQUEST_URL = DPOP_URL + "?page=2"
DPOP_ACCESS_TOKEN = "an-opaque-access-token-bound-to-the-key"
#: Every row accepts proofs at most this old (plus the leeway): the run must not outlive them.
DPOP_MAX_AGE = 300
DPOP_LEEWAY = 5
DPOP_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: RFC 7638 §3.2: the members of each key type that its thumbprint hashes.
DPOP_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
JWTKIT_DPOP = "jwtkit DPoPVerifier.verify"
PYJWT_DPOP = "PyJWT PyJWK + jwt.decode + checks by hand"
JOSERFC_DPOP = "joserfc import_key + jwt.decode + checks by hand"
JWCRYPTO_DPOP = "jwcrypto JWK + JWT + checks by hand"
DPOP_LIMIT = "limit: bare key + thumbprint + verify + stdlib parsing and checks"
#: jwtkit DPoPVerifier.verify time / the DPoP limit's time.
DPOP_LIMIT_GOAL = 1.3


def _jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace."""
    members = {name: jwk[name] for name in DPOP_THUMBPRINT_MEMBERS[jwk["kty"]]}
    data = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64encode(hashlib.sha256(data).digest())


def _dpop_claims_by_hand(claims: Mapping[str, Any], jwk: Mapping[str, Any], jkt: str) -> None:
    """The RFC 9449 §4.3 claim checks a user writes around a JWT library's verify: jti, htm,
    htu (the request URL without its query), iat not older than max_age, ath, cnf.jkt."""
    jti = claims["jti"]
    if type(jti) is not str or not jti:
        raise ValueError("jti")
    if claims["htm"] != "GET":
        raise ValueError("htm")
    if claims["htu"] != DPOP_REQUEST_URL.partition("?")[0]:
        raise ValueError("htu")
    age = time.time() - claims["iat"]
    if not -DPOP_LEEWAY <= age <= DPOP_MAX_AGE + DPOP_LEEWAY:
        raise ValueError("iat")
    ath = _b64encode(hashlib.sha256(DPOP_ACCESS_TOKEN.encode("ascii")).digest())
    if not hmac.compare_digest(claims["ath"], ath):
        raise ValueError("ath")
    if not hmac.compare_digest(_jwk_thumbprint(jwk), jkt):
        raise ValueError("cnf.jkt")


def _dpop_public_jwk(header: Mapping[str, Any]) -> dict[str, Any]:
    if header.get("typ") != "dpop+jwt":
        raise ValueError("typ")
    jwk = header.get("jwk")
    if type(jwk) is not dict or DPOP_PRIVATE_MEMBERS & jwk.keys():
        raise ValueError("jwk")
    return jwk


def make_dpop_limit(alg: str, jkt: str) -> Call:
    """The limit for a DPoP proof: split, base64url and ``json.loads`` of header and claims,
    typ/alg/jwk checks, the bare key construction from the jwk's coordinates, its RFC 7638
    thumbprint compared to ``cnf.jkt``, the bare ``cryptography`` verify, and the claim checks
    with the request's URL and access token hash known in advance (no URL normalization). It is
    a real verifier: it must reject every invalid proof before anything is timed."""
    loads = json.loads
    clock = time.time
    sha256 = hashlib.sha256
    compare = hmac.compare_digest
    expected_htu = DPOP_URL
    ath = _b64encode(sha256(DPOP_ACCESS_TOKEN.encode("ascii")).digest())
    members = DPOP_THUMBPRINT_MEMBERS["EC" if alg == "ES256" else "OKP"]
    ecdsa = ec.ECDSA(hashes.SHA256())
    curve = ec.SECP256R1()
    from_bytes = int.from_bytes

    def verify(proof: str) -> dict[str, Any]:
        parts = proof.split(".")
        if len(parts) != 3:
            raise ValueError("not a JWS compact token")
        header_b64, payload_b64, signature_b64 = parts
        header = loads(_b64decode(header_b64))
        claims = loads(_b64decode(payload_b64))
        if header["typ"] != "dpop+jwt" or header["alg"] != alg:
            raise ValueError("typ or alg")
        jwk = header["jwk"]
        if DPOP_PRIVATE_MEMBERS & jwk.keys():
            raise ValueError("private jwk")
        thumbprint_input = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"))
        if not compare(_b64encode(sha256(thumbprint_input.encode()).digest()), jkt):
            raise ValueError("cnf.jkt")
        signature = _b64decode(signature_b64)
        data = f"{header_b64}.{payload_b64}".encode("ascii")
        if alg == "ES256":
            point = b"\x04" + _b64decode(jwk["x"]) + _b64decode(jwk["y"])
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
            der = encode_dss_signature(from_bytes(signature[:32]), from_bytes(signature[32:]))
            key.verify(der, data, ecdsa)
        else:
            ed25519.Ed25519PublicKey.from_public_bytes(_b64decode(jwk["x"])).verify(signature, data)
        if type(claims["jti"]) is not str or claims["htm"] != "GET":
            raise ValueError("jti or htm")
        if claims["htu"] != expected_htu:
            raise ValueError("htu")
        if not -DPOP_LEEWAY <= clock() - claims["iat"] <= DPOP_MAX_AGE + DPOP_LEEWAY:
            raise ValueError("iat")
        if not compare(claims["ath"], ath):
            raise ValueError("ath")
        return claims  # type: ignore[no-any-return]

    return verify


def pyjwt_dpop(alg: str, jkt: str) -> Call:
    # PyJWT: PyJWK builds the key from the header's jwk; "require" makes the claims required.
    unverified = pyjwt.get_unverified_header
    decode = pyjwt.decode
    options: Any = {"require": ["jti", "htm", "htu", "iat"]}

    def run(proof: str) -> dict[str, Any]:
        jwk = _dpop_public_jwk(unverified(proof))
        claims: dict[str, Any] = decode(
            proof, pyjwt.PyJWK(jwk, alg), algorithms=[alg], options=options, leeway=DPOP_LEEWAY
        )
        _dpop_claims_by_hand(claims, jwk, jkt)
        return claims

    return run


def joserfc_dpop(alg: str, jkt: str) -> Call:
    # joserfc: the key is a callable that imports the header's jwk; jwt.decode verifies only.
    decode = joserfc.jwt.decode
    import_key = joserfc.jwk.import_key

    def run(proof: str) -> dict[str, Any]:
        seen: list[dict[str, Any]] = []

        def key(obj: Any) -> Any:
            seen.append(_dpop_public_jwk(obj.headers()))
            return import_key(seen[0])

        claims: dict[str, Any] = decode(proof, key, algorithms=[alg]).claims
        _dpop_claims_by_hand(claims, seen[0], jkt)
        return claims

    return run


def jwcrypto_dpop(alg: str, jkt: str) -> Call:
    # jwcrypto: JWT(jwt=...) without a key parses only; validate(key) verifies and checks the
    # listed claims' presence (check_claims with None values).
    make, load_key = jwcrypto.jwt.JWT, jwcrypto.jwk.JWK
    check = {"jti": None, "htm": "GET", "htu": DPOP_URL, "iat": None}
    loads = json.loads

    def run(proof: str) -> dict[str, Any]:
        token = make(jwt=proof, algs=[alg], check_claims=check, expected_type="JWS")
        jwk = _dpop_public_jwk(token.token.jose_header)
        token.validate(load_key(**jwk))
        claims: dict[str, Any] = loads(token.claims)
        _dpop_claims_by_hand(claims, jwk, jkt)
        return claims

    return run


def dpop_proofs(key: jwtkit.Key, alg: str, now: int) -> TokenSet:
    """A valid proof for ``GET DPOP_URL`` with the access token, and invalid ones."""
    create = partial(
        jwtkit.dpop.create_proof,
        key,
        method="GET",
        url=DPOP_URL,
        access_token=DPOP_ACCESS_TOKEN,
        algorithm=alg,
        clock=lambda: now,
        jti="the-benchmark-proof",
    )
    valid = create()
    header, _, rest = valid.partition(".")
    signature = rest.rpartition(".")[2]
    other_key = _dpop_key(alg)
    claims = json.loads(_b64decode(valid.split(".")[1]))
    jwk = key.public_key().to_jwk()
    return TokenSet(
        valid=valid,
        invalid={
            "wrong-typ": jwtkit.encode(claims, key, alg, {"jwk": jwk}, typ="JWT"),
            "wrong-method": create(method="POST"),
            "wrong-url": create(url="https://api.example/other"),
            "stale": create(clock=lambda: now - 3600),
            "wrong-access-token": create(access_token="another-token"),
            "other-key": jwtkit.dpop.create_proof(
                other_key,
                method="GET",
                url=DPOP_URL,
                access_token=DPOP_ACCESS_TOKEN,
                algorithm=alg,
                clock=lambda: now,
            ),
            "tampered": f"{header}.{create(jti='x').split('.')[1]}.{signature}",
        },
    )


def _dpop_key(alg: str) -> jwtkit.Key:
    """A client's key pair for ``alg`` (P-256 or Ed25519), without an ``alg`` member, so that
    it can sign as "EdDSA" and as "Ed25519"."""
    private = (
        ec.generate_private_key(ec.SECP256R1())
        if alg == "ES256"
        else (ed25519.Ed25519PrivateKey.generate())
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwtkit.Key.from_pem(pem)


def dpop_table(alg: str, now: int) -> Table:
    """One DPoP table: ``alg`` is ES256 (P-256) or EdDSA (Ed25519)."""
    key = _dpop_key(alg)
    jkt = key.thumbprint()
    proofs = dpop_proofs(key, alg, now)
    expected = json.loads(_b64decode(proofs.valid.split(".")[1]))
    verifier = jwtkit.dpop.DPoPVerifier(
        algorithms=[alg], max_age=DPOP_MAX_AGE, leeway=DPOP_LEEWAY, replay_cache=None
    )
    jwtkit_call = partial(
        verifier.verify,
        method="GET",
        url=DPOP_REQUEST_URL,
        access_token=DPOP_ACCESS_TOKEN,
        jkt=jkt,
    )
    signing_input, _, signature_b64 = proofs.valid.rpartition(".")
    bare_call, bare_arg = _bare_verify(
        key.public_key().crypto_public_key,  # type: ignore[attr-defined]
        signing_input.encode("ascii"),
        _b64decode(signature_b64),
    )
    bare_call(bare_arg)  # raises if the bare verify is set up wrong
    rows: list[tuple[str, Call, TokenSet]] = [
        (DPOP_LIMIT, make_dpop_limit(alg, jkt), proofs),
        # Checked through the claims it returns; timed as the call itself (below).
        (JWTKIT_DPOP, lambda proof: dict(jwtkit_call(proof).claims), proofs),
        (PYJWT_DPOP, pyjwt_dpop(alg, jkt), proofs),
    ]
    # joserfc warns on every use of "EdDSA" (RFC 9864): it gets the same proofs signed as
    # "Ed25519" (same key, same claims), which is just as much work.
    joserfc_alg = "Ed25519" if alg == "EdDSA" else alg
    joserfc_proofs = proofs if joserfc_alg == alg else dpop_proofs(key, joserfc_alg, now)
    rows.append((JOSERFC_DPOP, joserfc_dpop(joserfc_alg, jkt), joserfc_proofs))
    rows.append((JWCRYPTO_DPOP, jwcrypto_dpop(alg, jkt), proofs))
    for name, call, proof_set in rows:
        check_decoder(name, call, proof_set, expected)
    cases = [Case(BARE, bare_call, bare_arg)]
    cases += [
        Case(name, jwtkit_call if name == JWTKIT_DPOP else call, proof_set.valid)
        for name, call, proof_set in rows
    ]
    curve = "P-256" if alg == "ES256" else "Ed25519"
    note = (
        "Every row checks typ, alg, the jwk (public), the signature with the jwk's key, jti, "
        "htm, htu, iat (at most 300 s old, 5 s leeway), ath and cnf.jkt (the key's RFC 7638 "
        "thumbprint); none checks replays (jwtkit's replay_cache=None: the replay check is one "
        "store lookup whatever the library). jwtkit normalizes both URLs (RFC 3986 §6.2.2); "
        "the peers compare htu with the request URL cut at '?'; the limit compares it with a "
        "URL known in advance. The limit builds the key from the jwk's coordinates with "
        "cryptography at each call; the bare row is that key's verify() alone."
    )
    if joserfc_alg != alg:
        note += f' joserfc verifies the same claims signed as "{joserfc_alg}".'
    return Table(
        f"dpop_{alg.lower()}", f"DPoP proof verify, {alg} ({curve})", JWTKIT_DPOP, cases, note
    )


# --------------------------------------------------------------------------------------------
# targets


@dataclass(frozen=True)
class Target:
    """A goal for one ratio of best times.

    ``speedup``: the other's time / jwtkit's time must be >= goal;
    ``overhead``: jwtkit's time / the other's time must be <= goal.
    """

    table: str
    subject: str
    other: str
    kind: str
    goal: float

    def value(self, tables: Mapping[str, Table]) -> float:
        table = tables[self.table]
        mine, theirs = table.case(self.subject).best, table.case(self.other).best
        return theirs / mine if self.kind == "speedup" else mine / theirs

    def passed(self, tables: Mapping[str, Table]) -> bool:
        value = self.value(tables)
        return value >= self.goal if self.kind == "speedup" else value <= self.goal

    def describe(self, tables: Mapping[str, Table]) -> tuple[str, str, str]:
        title = tables[self.table].title.split(" with ")[0]
        if self.kind == "speedup":
            label = f"{title}: {self.subject} vs {self.other}"
            return label, f"{self.value(tables):.2f}x faster", f">= {self.goal:g}x faster"
        label = f"{title}: {self.subject} time / {self.other} time"
        return label, f"{self.value(tables):.3f}x", f"<= {self.goal:.2f}x"


TARGETS = (
    [
        Target("hs256_decode", JWTKIT_VERIFIER, PYJWT_DECODE, "speedup", 5.0),
        Target("hs256_decode", JWTKIT_VERIFIER, FLOOR, "overhead", 1.3),
        Target("hs256_decode", JWTKIT_ONESHOT, PYJWT_DECODE, "speedup", 3.0),
        Target("hs256_encode", JWTKIT_ENCODE_BYTES, PYJWT_ENCODE, "speedup", 3.0),
        Target("hs256_encode", JWTKIT_ENCODE_OCTKEY, PYJWT_ENCODE, "speedup", 3.0),
    ]
    + [
        target
        for key in ("rs256_verify", "es256_verify", "eddsa_verify")
        for target in (
            Target(key, JWTKIT_VERIFIER, PYJWT_DECODE, "speedup", 1.0),
            Target(key, JWTKIT_VERIFIER, BARE, "overhead", 1.10),
        )
    ]
    + [
        target
        for key in ("dpop_es256", "dpop_eddsa")
        for target in (
            Target(key, JWTKIT_DPOP, DPOP_LIMIT, "overhead", DPOP_LIMIT_GOAL),
            Target(key, JWTKIT_DPOP, PYJWT_DPOP, "speedup", 1.0),
            Target(key, JWTKIT_DPOP, JOSERFC_DPOP, "speedup", 1.0),
            Target(key, JWTKIT_DPOP, JWCRYPTO_DPOP, "speedup", 1.0),
        )
    ]
    + [Target("ml-dsa-65_verify", JWTKIT_VERIFIER, JWCRYPTO_DECODE, "speedup", 1.0)]
)


# --------------------------------------------------------------------------------------------
# machine description and report


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _openssl_version() -> str:
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return str(backend.openssl_version_text())
    except (ImportError, AttributeError):  # pragma: no cover - depends on cryptography
        return "OpenSSL version unknown"


def machine_info() -> dict[str, Any]:
    versions = {}
    for dist in ("jwtkit", "PyJWT", "joserfc", "jwcrypto", "python-jose", "cryptography"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "openssl": _openssl_version(),
        # Other processes on the machine skew every number; the load average says how busy it was.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def _fmt_ops(seconds: float) -> str:
    return f"{1 / seconds:,.0f}"


def _fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f}"


def render(
    info: Mapping[str, Any], tables: Mapping[str, Table], repeats: int, target: float
) -> str:
    out: list[str] = ["# jwtkit benchmark", ""]
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load = ", ".join(f"{x:g}" for x in info["load_average_at_start"])
    out += [
        f"- Date: {info['date']}",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs)",
        f"- Python: {info['python']} on {info['platform']}",
        f"- {info['openssl']}",
        f"- Load average (1, 5, 15 min) at start: {load} (keep the machine otherwise idle)",
        f"- Libraries: {versions}",
        f"- Method: best of {repeats} interleaved batches of about {target:g} s each; "
        "ratios use the best batch",
        "",
    ]
    for table in tables.values():
        reference = table.case(table.reference).best
        out += [
            f"## {table.title}",
            "",
            "| implementation | ops/s | us/op (best) | us/op (median) | "
            f"time vs {table.reference} |",
            "|---|---:|---:|---:|---:|",
        ]
        for case in table.cases:
            out.append(
                f"| {case.name} | {_fmt_ops(case.best)} | {_fmt_us(case.best)} | "
                f"{_fmt_us(case.median)} | {case.best / reference:.2f}x |"
            )
        out += ["", table.note, ""]
    targets = [goal for goal in TARGETS if goal.table in tables]
    if targets:
        out += ["## Targets", "", "| target | measured | goal | result |"]
        out.append("|---|---:|---:|:---:|")
    for goal in targets:
        label, measured, wanted = goal.describe(tables)
        out.append(
            f"| {label} | {measured} | {wanted} | {'PASS' if goal.passed(tables) else 'MISS'} |"
        )
    out.append("")
    return "\n".join(out)


def raw_numbers(
    info: Mapping[str, Any],
    tables: Mapping[str, Table],
    repeats: int,
    target: float,
    limits: list[LimitRatio],
) -> dict[str, Any]:
    return {
        "machine": dict(info),
        "method": {"repeats": repeats, "seconds_per_batch": target, "statistic": "best"},
        "tables": {
            table.key: {
                "title": table.title,
                "reference": table.reference,
                "results": [
                    {
                        "name": case.name,
                        "iterations": case.iterations,
                        "seconds_per_op": case.seconds_per_op,
                        "best_ops_per_second": 1 / case.best,
                        "median_ops_per_second": 1 / case.median,
                    }
                    for case in table.cases
                ],
            }
            for table in tables.values()
        },
        "targets": [
            {
                "table": goal.table,
                "subject": goal.subject,
                "other": goal.other,
                "kind": goal.kind,
                "goal": goal.goal,
                "value": goal.value(tables),
                "passed": goal.passed(tables),
            }
            for goal in TARGETS
            if goal.table in tables
        ],
        "limits": limit_numbers(limits),
    }


# --------------------------------------------------------------------------------------------
# profile mode: where jwtkit's time goes


def _profile(title: str, call: Call, arg: object, iterations: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in repeat(None, iterations):
        call(arg)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(14)
    print(f"## cProfile: {title} ({iterations:,} calls, sorted by own time)\n")
    print("```")
    print(stream.getvalue().strip())
    print("```\n")


def _step_breakdown(tables: Mapping[str, Table], now: int) -> None:
    """Time each step of the HS256 ``Verifier.decode`` fast path alone, on the same inputs.

    Uses jwtkit internals; a step whose internals have changed is shown as n/a.
    """
    from jwtkit import _codec

    table = tables["hs256_decode"]
    token = str(table.case(JWTKIT_VERIFIER).arg)
    verifier: Any = table.case(JWTKIT_VERIFIER).call.__self__  # type: ignore[attr-defined]
    signing_input, _, signature = token.rpartition(".")
    header_segment, _, payload_segment = signing_input.partition(".")
    payload = _codec.b64url_decode(payload_segment, "payload")
    claims = _codec.json_loads_object(payload, "claims")
    data = signing_input.encode("ascii")
    b64_fast = getattr(_codec, "b64url_decode_fast", None)
    clock = time.time
    # Each factory returns (call, arg): call(arg) is the step, as in _batch, so no extra
    # Python frame is timed (except where the label says so).
    steps: list[tuple[str, Callable[[], tuple[Call, object]]]] = [
        ("loop + one C call (id), for reference", lambda: (id, token)),
        ("token.rpartition('.')", lambda: (token.rpartition, ".")),
        ("signing_input.partition('.')", lambda: (signing_input.partition, ".")),
        ("header cache lookup (dict.get)", lambda: (verifier._cache.get, header_segment)),
        ("signing_input.encode('ascii')", lambda: (signing_input.encode, "ascii")),
        (
            "HMAC verify closure (MAC, base64url, compare)",
            lambda: (partial(verifier._cache[header_segment].checks[0][1], data), signature),
        ),
        (
            "payload base64url decode (b64url_decode_fast)",
            lambda: (b64_fast if b64_fast is not None else _codec.b64url_decode, payload_segment),
        ),
        ("json_loads_object(payload)", lambda: (partial(_codec.json_loads_object, payload), "c")),
        ("ClaimsPolicy.check(claims, now)", lambda: (partial(verifier._policy.check, claims), now)),
        ("clock() via a lambda", lambda: (lambda _: clock(), None)),
        ("whole Verifier.decode", lambda: (verifier.decode, token)),
        ("stdlib floor decode", lambda: (table.case(FLOOR).call, token)),
    ]
    print("## HS256 Verifier.decode, step by step (each step timed alone, best of 5)\n")
    print("| step | ns/call |\n|---|---:|")
    for label, factory in steps:
        try:
            call, arg = factory()
            call(arg)
        except (AttributeError, KeyError, IndexError, TypeError):
            print(f"| {label} | n/a (jwtkit internals changed) |")
            continue
        iterations = calibrate(call, arg, 0.05)
        best = min(batch(call, arg, iterations) / iterations for _ in range(5))
        print(f"| {label} | {best * 1e9:,.0f} |")
    print()


def profile(now: int) -> None:
    decode_table, encode_table = hs256_tables(now)
    tables = {decode_table.key: decode_table, encode_table.key: encode_table}
    rs256 = asymmetric_table(asymmetric_setups()[0], now)
    _step_breakdown(tables, now)
    for table, name, iterations in (
        (decode_table, JWTKIT_VERIFIER, 200_000),
        (decode_table, JWTKIT_ONESHOT, 50_000),
        (encode_table, JWTKIT_ENCODE_BYTES, 100_000),
        (rs256, JWTKIT_VERIFIER, 20_000),
        (dpop_table("ES256", now), JWTKIT_DPOP, 10_000),
    ):
        case = table.case(name)
        _profile(f"{table.title}: {name}", case.call, case.arg, iterations)


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (noisier)")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="also write the raw numbers as JSON to PATH (default: stdout)",
    )
    parser.add_argument(
        "--repeats", type=int, metavar="N", help="timed batches per implementation (default 5)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile jwtkit's paths instead of comparing"
    )
    parser.add_argument(
        "--dpop-only",
        action="store_true",
        help="only the DPoP tables and their limit ratios",
    )
    parser.add_argument(
        "--limits-only",
        action="store_true",
        help="only the asymmetric tables' limit ratios (checks every decoder, times two)",
    )
    args = parser.parse_args(argv)
    now = int(time.time())
    if args.profile:
        profile(now)
        return 0
    repeats, target = (3, 0.05) if args.quick else (5, 0.2)
    if args.repeats is not None:
        repeats = max(1, args.repeats)
    # Limit rounds: short batches, many of them (see LimitRatio and docs/performance.md).
    limit_target, min_rounds, max_rounds = (0.02, 9, 41) if args.quick else (0.05, 21, 201)
    tables: dict[str, Table] = {}
    if not (args.limits_only or args.dpop_only):
        decode_table, encode_table = hs256_tables(now)
        tables = {decode_table.key: decode_table, encode_table.key: encode_table}
    asymmetric = [] if args.dpop_only else [asymmetric_table(s, now) for s in asymmetric_setups()]
    mldsa = None if args.dpop_only else mldsa_tables(now)
    if mldsa is None and not args.dpop_only:
        print("note: no ML-DSA tables (needs cryptography >= 48.0.0)", file=sys.stderr)
    elif mldsa is not None:
        asymmetric.append(mldsa[0])
    limit_tables = {table.key: table for table in asymmetric}
    if not args.limits_only:
        tables.update(limit_tables)
        if mldsa is not None:
            tables[mldsa[1].key] = mldsa[1]
    info = machine_info()
    if info["load_average_at_start"][0] > 0.5 * (os.cpu_count() or 1):
        print(
            f"warning: the machine is busy (load {info['load_average_at_start'][0]}); "
            "the numbers will be noisy",
            file=sys.stderr,
        )
    for table in tables.values():
        print(f"timing: {table.title} ...", file=sys.stderr, flush=True)
        measure(table, repeats, target)
    limits = []
    for table in limit_tables.values():
        print(f"timing: {table.title}, jwtkit against the limit ...", file=sys.stderr, flush=True)
        limits.append(measure_limit(table, limit_target, min_rounds, max_rounds))
    # The DPoP tables last: their proofs are made now, and each row accepts them for
    # DPOP_MAX_AGE seconds (the timing of one table takes well under a minute).
    for alg in ("ES256", "EdDSA"):
        table = dpop_table(alg, int(time.time()))
        print(f"timing: {table.title} ...", file=sys.stderr, flush=True)
        if not args.limits_only:
            measure(table, repeats, target)
            tables[table.key] = table
        print(f"timing: {table.title}, jwtkit against the limit ...", file=sys.stderr, flush=True)
        rows = (JWTKIT_DPOP, DPOP_LIMIT, DPOP_LIMIT_GOAL)
        limits.append(measure_limit(table, limit_target, min_rounds, max_rounds, rows))
    print(render(info, tables, repeats, target))
    print(render_limits(limits, limit_target))
    if args.limits_only or args.dpop_only:
        _write_json(args.json, raw_numbers(info, tables, repeats, target, limits))
        return 0
    # The JWKS-backed verification (issue 4) and JWE decryption (issue 6) comparisons live in
    # their own modules beside this one; they print their own tables and targets.
    from jwe_tables import jwe_tables
    from jwks_tables import jwks_tables

    print("\n" + jwks_tables(quick=args.quick))
    print("\n" + jwe_tables(quick=args.quick))
    _write_json(args.json, raw_numbers(info, tables, repeats, target, limits))
    return 0


def _write_json(path: str | None, numbers: Mapping[str, Any]) -> None:
    if not path:
        return
    text = json.dumps(numbers, indent=2)
    if path == "-":
        print(text)
    else:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
