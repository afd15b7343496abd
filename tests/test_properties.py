"""Property-based tests (hypothesis).

1. Round trips: for every algorithm of ``jwtkit.jwa.DEFAULT_REGISTRY``, ``jws.sign`` then
   ``jws.verify`` returns any payload bytes, and ``encode`` then ``decode`` returns any JSON
   object of claims.
2. Mutations: every change to a valid token (characters flipped, inserted, deleted or replaced,
   truncation, extra dots and segments, segments swapped between tokens, a re-encoded header
   with another ``alg``, duplicate keys, ``NaN``, deep nesting, non-UTF-8 bytes or a BOM,
   non-canonical base64url, and random bytes or text as tokens) is rejected with a
   ``jwtkit.JWTError``, never another exception, by ``decode``, ``Verifier.decode`` and
   ``jws.verify``. With strict canonical base64url a token that differs from the valid one in
   any character must be rejected. ``decode_unverified`` may accept well-formed input, but then
   every segment is canonical base64url, and it raises nothing but ``JWTError`` otherwise.
3. The error-message rule (security matrix F4, CONVENTIONS 4): no ``str``/``repr`` of an error
   or a key contains a secret, its base64url form, a private JWK member or a whole token.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jwtkit
from jwtkit import JWTError, Key, KeySet, OctKey
from jwtkit._keys import mldsa_support
from jwtkit.errors import (
    AlgorithmNotAllowed,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidKey,
    InvalidSignature,
    InvalidSubject,
    InvalidType,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    TokenTooLarge,
    UsageError,
)
from jwtkit.jwa import DEFAULT_REGISTRY

NOW = 1_700_000_000
ML_DSA = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
# Every algorithm of the registry that this cryptography release can run (ML-DSA needs 48+).
ALL_ALGS = sorted(
    name
    for name in DEFAULT_REGISTRY
    if mldsa_support.MLDSA_MODULE is not None or name not in ML_DSA
)
MUTATION_ALGS = ["HS256", "RS256", "ES256", "EdDSA"]
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Registered claims whose values are validated; random claims leave them out.
VALIDATED_CLAIMS = frozenset({"exp", "nbf", "iat", "aud", "iss", "sub", "jti"})

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=50)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verification_key(key: Key) -> Key:
    return key if isinstance(key, OctKey) else key.public_key()


# --------------------------------------------------------------------------------------------
# 1. round trips


@pytest.fixture(scope="module")
def alg_keys() -> dict[str, Key]:
    """One key per algorithm, each carrying its own ``alg``."""
    return {alg: Key.generate(alg) for alg in ALL_ALGS}


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=16)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
CLAIMS = st.dictionaries(
    st.text(max_size=12).filter(lambda name: name not in VALIDATED_CLAIMS),
    JSON_VALUES,
    max_size=6,
)


def test_registry_holds_every_expected_algorithm() -> None:
    """The round trips below cover exactly these; a new algorithm must join them."""
    assert set(DEFAULT_REGISTRY) == {
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448", *ML_DSA,
    }  # fmt: skip
    if mldsa_support.MLDSA_MODULE is not None:
        assert set(ML_DSA) <= set(ALL_ALGS)


@pytest.mark.parametrize("alg", ALL_ALGS)
@SETTINGS
@given(payload=st.binary(max_size=1024))
def test_jws_sign_then_verify_returns_any_payload(
    alg: str, alg_keys: dict[str, Key], payload: bytes
) -> None:
    key = alg_keys[alg]
    token = jwtkit.jws.sign(payload, key, algorithm=alg)

    result = jwtkit.jws.verify(token, verification_key(key), algorithms=[alg])

    assert result.payload == payload
    assert result.algorithm == alg
    assert result.header["alg"] == alg


@pytest.mark.parametrize("alg", ALL_ALGS)
@FEW  # 16 algorithms x 50: generating nested JSON dominates the cost
@given(claims=CLAIMS)
def test_jwt_encode_then_decode_returns_any_json_claims(
    alg: str, alg_keys: dict[str, Key], claims: dict[str, Any]
) -> None:
    key = alg_keys[alg]
    original = copy.deepcopy(claims)
    token = jwtkit.encode(claims, key, algorithm=alg, expires_in=60, now=NOW)
    expected = {**original, "iat": NOW, "exp": NOW + 60}

    decoded = jwtkit.decode(token, verification_key(key), algorithms=[alg], now=NOW)

    assert decoded == expected
    assert claims == original  # the input mapping is never mutated
    assert jwtkit.decode_unverified(token).claims == expected
    verifier = jwtkit.Verifier(verification_key(key), algorithms=[alg])
    assert verifier.decode(token, now=NOW) == expected
    # The token expires exactly at exp (RFC 7519 §4.1.4: "on or after").
    with pytest.raises(ExpiredToken):
        verifier.decode(token, now=NOW + 60)


# --------------------------------------------------------------------------------------------
# 2. mutations


@dataclass(frozen=True)
class Target:
    """A valid token and what is needed to check it through every entry point."""

    alg: str
    key: Key
    token: str
    other_token: str  # same key, other claims
    foreign_token: str  # same algorithm, another key
    verifier: jwtkit.Verifier = field(repr=False)  # warm: the valid header is cached
    fragments: tuple[str, ...] = field(repr=False)  # must never appear in an error

    @property
    def valid(self) -> tuple[str, str]:
        """The tokens that must verify: swapping whole tokens may rebuild one of them."""
        return (self.token, self.other_token)


def key_without_alg(alg: str) -> Key:
    """A key that fits ``alg`` but is not restricted to it, so that a header that names
    another algorithm of the same family reaches signature verification."""
    if alg == "HS256":
        return Key.generate("oct", size=256)
    if alg == "RS256":
        return Key.generate("RSA")
    if alg == "ES256":
        return Key.generate("EC", crv="P-256")
    return Key.generate("OKP", crv="Ed25519")


@pytest.fixture(scope="module")
def targets() -> dict[str, Target]:
    made = {}
    for alg in MUTATION_ALGS:
        key = key_without_alg(alg)
        other = key_without_alg(alg)
        claims = {"sub": "user-1", "exp": NOW + 600, "scope": "read"}
        token = jwtkit.encode(claims, key, algorithm=alg, now=NOW)
        verifier = jwtkit.Verifier(verification_key(key), algorithms=ALL_ALGS)
        assert verifier.decode(token, now=NOW) == claims
        made[alg] = Target(
            alg=alg,
            key=key,
            token=token,
            other_token=jwtkit.encode({"sub": "admin", "exp": NOW + 900}, key, algorithm=alg),
            foreign_token=jwtkit.encode(claims, other, algorithm=alg),
            verifier=verifier,
            fragments=tuple(secret_fragments(key)),
        )
    return made


def entry_points(target: Target) -> dict[str, Callable[[str | bytes], object]]:
    """Every verifying entry point, each with the trusted key of ``target``."""
    key = verification_key(target.key)
    return {
        "decode": lambda t: jwtkit.decode(t, key, algorithms=[target.alg], now=NOW),
        "decode(all algorithms)": lambda t: jwtkit.decode(t, key, algorithms=ALL_ALGS, now=NOW),
        "Verifier.decode": lambda t: target.verifier.decode(t, now=NOW),
        "Verifier.decode_complete": lambda t: target.verifier.decode_complete(t, now=NOW),
        "jws.verify": lambda t: jwtkit.jws.verify(t, key, algorithms=ALL_ALGS),
    }


def check_mutation(
    target: Target,
    mutated: str | bytes,
    points: dict[str, Callable[[str | bytes], object]] | None = None,
) -> None:
    """Accepted only if unchanged (byte-identical to a valid token); otherwise a JWTError.

    Any other exception propagates and fails the test.
    """
    text = mutated.decode("latin-1") if isinstance(mutated, bytes) else mutated
    unchanged = text in target.valid
    for name, call in (entry_points(target) if points is None else points).items():
        error = jwt_error_of(call, mutated)
        if error is None:
            assert unchanged, f"{name} accepted a changed token: {mutated!r}"
        else:
            assert not unchanged, f"{name} rejected the valid token: {error!r}"
            assert_no_leak(error, target.fragments, text)
    check_unverified(mutated)


def jwt_error_of(call: Callable[[str | bytes], object], token: str | bytes) -> JWTError | None:
    """The JWTError ``call(token)`` raises, or ``None``; other exceptions propagate."""
    try:
        call(token)
    except JWTError as exc:
        return exc
    return None


def check_unverified(mutated: str | bytes) -> None:
    """``decode_unverified`` accepts only three canonical base64url segments of JSON objects."""
    try:
        decoded = jwtkit.decode_unverified(mutated)
    except JWTError:
        return
    text = mutated.decode("ascii") if isinstance(mutated, bytes) else mutated
    header_segment, payload_segment, signature_segment = text.split(".")
    for segment in (header_segment, payload_segment, signature_segment):
        assert b64url(b64url_decode(segment)) == segment, f"non-canonical {segment!r} accepted"
    assert json.loads(b64url_decode(header_segment)) == decoded.header
    assert json.loads(b64url_decode(payload_segment)) == decoded.claims
    assert b64url(decoded.signature) == signature_segment


MUTATION_CHARS: st.SearchStrategy[str] = st.sampled_from(
    [*B64URL_ALPHABET, ".", "=", "+", "/", " ", "\t", "\n", "\x00", "é", "\u2024", "\U0001f511"]
)


@st.composite
def character_mutations(draw: st.DrawFn, token: str) -> str:
    """Flip, insert, delete or replace characters anywhere; truncate; add dots or segments."""
    kind = draw(
        st.sampled_from(["flip", "insert", "delete", "replace", "truncate", "append", "prepend"])
    )
    if kind == "flip":
        i = draw(st.integers(0, len(token) - 1))
        return token[:i] + draw(MUTATION_CHARS) + token[i + 1 :]
    if kind == "insert":
        i = draw(st.integers(0, len(token)))
        return token[:i] + draw(st.text(MUTATION_CHARS, min_size=1, max_size=3)) + token[i:]
    if kind == "delete":
        i = draw(st.integers(0, len(token) - 1))
        return token[:i] + token[i + draw(st.integers(1, 8)) :]
    if kind == "replace":
        i = draw(st.integers(0, len(token) - 1))
        j = draw(st.integers(i, min(len(token), i + 12)))
        return token[:i] + draw(st.text(max_size=12)) + token[j:]
    if kind == "truncate":
        return token[: draw(st.integers(0, len(token) - 1))]
    suffix = draw(
        st.sampled_from([".", "..", ".e30", ".AAAA", ".e30.", "=", "==", " ", "\n", "\r\n"])
        | st.text(B64URL_ALPHABET + ".", min_size=1, max_size=20).map(lambda s: "." + s)
    )
    return token + suffix if kind == "append" else suffix.lstrip(".") + token


@st.composite
def decoded_bit_flips(draw: st.DrawFn, token: str) -> str:
    """Flip one bit in the decoded header, payload or signature and re-encode canonically:
    only the cryptography (or the JSON parser) can notice."""
    segments = token.split(".")
    index = draw(st.integers(0, 2))
    raw = bytearray(b64url_decode(segments[index]))
    bit = draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    segments[index] = b64url(bytes(raw))
    return ".".join(segments)


def _same_bytes_other_tail(segment: str) -> list[str]:
    """Other spellings of ``segment``'s last character that decode to the same bytes."""
    rest = len(segment) % 4
    if rest == 0:
        return []
    unused = 4 if rest == 2 else 2  # trailing bits that canonical base64url leaves zero
    value = B64URL_ALPHABET.index(segment[-1])
    base = value & ~((1 << unused) - 1)
    return [segment[:-1] + B64URL_ALPHABET[base | extra] for extra in range(1, 1 << unused)]


def noncanonical_spellings(token: str) -> list[str]:
    """Padding, the standard alphabet, and non-zero trailing bits (security matrix B7)."""
    segments = token.split(".")
    found = []
    for index, segment in enumerate(segments):
        variants = [*_same_bytes_other_tail(segment), segment + "=", segment + "=="]
        if "-" in segment or "_" in segment:
            variants.append(segment.replace("-", "+").replace("_", "/"))
        variants.append(segment[:10] + " " + segment[10:])
        for variant in variants:
            found.append(".".join([*segments[:index], variant, *segments[index + 1 :]]))
    return found


@st.composite
def segment_swaps(draw: st.DrawFn, tokens: tuple[str, str, str]) -> str:
    """Each segment taken from one of three valid tokens (same key or another key)."""
    parts = [t.split(".") for t in tokens]
    return ".".join(parts[draw(st.integers(0, 2))][i] for i in range(3))


ALG_NAMES = [*ALL_ALGS, "none", "None", "NONE", "nOnE", "", "hs256", "rs256", "HS256 ", " RS256",
             "HS256\x00", "ES256K", "RSA-OAEP", "dir"]  # fmt: skip
ALG_VALUES: st.SearchStrategy[object] = (
    st.sampled_from(ALG_NAMES)
    | st.text(max_size=10)
    | st.integers()
    | st.none()
    | st.lists(st.text(max_size=3), max_size=2)
)


@st.composite
def alg_changes(draw: st.DrawFn, token: str) -> str:
    """The header re-encoded with another ``alg`` (or a non-string one); payload and signature
    kept."""
    header_segment, payload, signature = token.split(".")
    header = json.loads(b64url_decode(header_segment))
    header["alg"] = draw(ALG_VALUES)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    return f"{b64url(encoded)}.{payload}.{signature}"


def malformed_json(document: dict[str, Any]) -> list[bytes]:
    """Encodings of ``document`` that strict JSON parsing must refuse (matrix D2, D4, D5)."""
    text = json.dumps(document, separators=(",", ":"))
    body = text[1:-1]
    first_name = next(iter(document))
    duplicate = json.dumps(document[first_name])
    return [
        f'{{{body},"{first_name}":{duplicate}}}'.encode(),  # duplicate member
        f'{{"{first_name}":{duplicate},{body}}}'.encode(),
        f'{{{body},"x":NaN}}'.encode(),
        f'{{{body},"x":Infinity}}'.encode(),
        f'{{{body},"x":-Infinity}}'.encode(),
        f'{{{body},"x":1e400}}'.encode(),
        f'{{{body},"x":{"[" * 33}1{"]" * 33}}}'.encode(),  # deeper than 32 levels
        f'{{{body},"x":{"[" * 50_000}1{"]" * 50_000}}}'.encode(),  # would exhaust recursion
        ("{" + body + ',"x":' + '{"a":' * 40 + "1" + "}" * 40 + "}").encode(),
        b"\xef\xbb\xbf" + text.encode(),  # BOM
        text.encode()[:-1] + b',"x":"\xff"}',  # not UTF-8
        text.encode()[:-1] + b',"x":"\xc3\x28"}',
        text.encode()[:-1] + b',"x":"\xed\xa0\x80"}',  # UTF-8 encoded surrogate
        text.encode("utf-16"),
        text.encode() + b"garbage",
        text.encode() + b"{}",
        b"[" + text.encode() + b"]",
        b'"' + text.encode().replace(b'"', b'\\"') + b'"',
        b"null",
        b"",
        b"{",
        text.encode()[:-1],
    ]


# A strategy of random compact-looking tokens, to get past the first format checks.
COMPACT_LIKE = st.from_regex(
    r"[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,90}", fullmatch=True
)


@pytest.mark.parametrize("alg", MUTATION_ALGS)
def test_valid_token_is_accepted_by_every_entry_point(alg: str, targets: dict[str, Target]) -> None:
    """The oracle of the mutation tests: the unchanged token passes everywhere."""
    target = targets[alg]
    for token in target.valid:
        for name, call in entry_points(target).items():
            assert call(token), name
            assert call(token.encode("ascii")), f"{name} (bytes)"
        check_unverified(token)


def test_mutation_oracle_catches_lenient_and_crashing_entry_points(
    targets: dict[str, Target],
) -> None:
    """The oracle can fail: an entry point that accepts a changed token, rejects the valid one,
    or raises something other than a JWTError is caught."""
    target = targets["HS256"]
    header, payload, _ = target.token.split(".")
    forged = f"{header}.{payload}.{target.foreign_token.split('.')[2]}"

    def crash(token: str | bytes) -> object:
        raise ValueError("not a jwtkit error")

    with pytest.raises(AssertionError, match="accepted a changed token"):
        check_mutation(target, forged, {"lenient": unverified})
    with pytest.raises(AssertionError, match="rejected the valid token"):
        check_mutation(target, target.token, {"strict": lambda t: jwtkit.decode(t, b"x" * 32)})
    with pytest.raises(ValueError, match="not a jwtkit error"):
        check_mutation(target, forged, {"crash": crash})


@pytest.mark.parametrize("alg", MUTATION_ALGS)
@SETTINGS
@given(data=st.data())
def test_character_mutations_are_rejected_with_jwt_error(
    alg: str, targets: dict[str, Target], data: st.DataObject
) -> None:
    target = targets[alg]
    check_mutation(target, data.draw(character_mutations(target.token)))


@pytest.mark.parametrize("alg", MUTATION_ALGS)
@SETTINGS
@given(data=st.data())
def test_bit_flips_in_decoded_segments_are_rejected(
    alg: str, targets: dict[str, Target], data: st.DataObject
) -> None:
    target = targets[alg]
    mutated = data.draw(decoded_bit_flips(target.token))
    assert mutated != target.token
    check_mutation(target, mutated)


@pytest.mark.parametrize("alg", MUTATION_ALGS)
@FEW
@given(data=st.data())
def test_segments_swapped_between_tokens_are_rejected(
    alg: str, targets: dict[str, Target], data: st.DataObject
) -> None:
    target = targets[alg]
    tokens = (target.token, target.other_token, target.foreign_token)
    check_mutation(target, data.draw(segment_swaps(tokens)))


@pytest.mark.parametrize("alg", MUTATION_ALGS)
@SETTINGS
@given(data=st.data())
def test_header_with_changed_alg_is_rejected(
    alg: str, targets: dict[str, Target], data: st.DataObject
) -> None:
    target = targets[alg]
    check_mutation(target, data.draw(alg_changes(target.token)))


@pytest.mark.parametrize("alg", MUTATION_ALGS)
def test_non_canonical_base64url_spellings_are_rejected(
    alg: str, targets: dict[str, Target]
) -> None:
    """Security matrix B7: padding, '+'/'/', whitespace and non-zero trailing bits."""
    target = targets[alg]
    spellings = noncanonical_spellings(target.token)
    assert len(spellings) >= 9
    for mutated in spellings:
        check_mutation(target, mutated)
        with pytest.raises(MalformedToken):
            jwtkit.decode_unverified(mutated)


@pytest.mark.parametrize("alg", MUTATION_ALGS)
def test_header_with_malformed_json_is_malformed_everywhere(
    alg: str, targets: dict[str, Target]
) -> None:
    """Security matrix D2, D4, D5: duplicate names, NaN, deep nesting, bad UTF-8, BOM."""
    target = targets[alg]
    header_segment, payload, signature = target.token.split(".")
    header = json.loads(b64url_decode(header_segment))
    for document in malformed_json(header):
        mutated = f"{b64url(document)}.{payload}.{signature}"
        check_mutation(target, mutated)
        for name, call in [*entry_points(target).items(), ("unverified", unverified)]:
            error = jwt_error_of(call, mutated)
            assert isinstance(error, MalformedToken), (name, document[:60], error)


def unverified(token: str | bytes) -> object:
    return jwtkit.decode_unverified(token)


@pytest.mark.parametrize("alg", MUTATION_ALGS)
def test_claims_with_malformed_json_are_rejected(alg: str, targets: dict[str, Target]) -> None:
    """Unsigned: the signature error comes first (matrix E4). Re-signed: the claims are
    malformed. decode_unverified refuses them either way."""
    target = targets[alg]
    header_segment, payload, signature = target.token.split(".")
    claims = json.loads(b64url_decode(payload))
    for document in malformed_json(claims):
        mutated = f"{header_segment}.{b64url(document)}.{signature}"
        check_mutation(target, mutated)
        # Signature first (E4); an empty payload segment is refused as a format error.
        with pytest.raises(InvalidSignature if document else MalformedToken):
            jwtkit.decode(mutated, verification_key(target.key), algorithms=[alg], now=NOW)
        with pytest.raises(MalformedToken):
            jwtkit.decode_unverified(mutated)
        resigned = jwtkit.jws.sign(document, target.key, algorithm=alg, headers={"typ": "JWT"})
        if resigned.split(".")[1]:  # an empty payload is its own (also rejected) case
            with pytest.raises(MalformedToken):
                jwtkit.decode(resigned, verification_key(target.key), algorithms=[alg], now=NOW)
            with pytest.raises(MalformedToken):
                target.verifier.decode(resigned, now=NOW)
        else:
            with pytest.raises(MalformedToken):
                jwtkit.decode(resigned, verification_key(target.key), algorithms=[alg], now=NOW)


@pytest.mark.parametrize("alg", MUTATION_ALGS)
@SETTINGS
@given(token=st.binary(max_size=300) | st.text(max_size=300) | COMPACT_LIKE)
def test_random_bytes_and_text_as_tokens_raise_only_jwt_errors(
    alg: str, targets: dict[str, Target], token: str | bytes
) -> None:
    check_mutation(targets[alg], token)


@pytest.mark.parametrize("value", [None, 1, 1.5, ["a.b.c"], {"a": 1}, bytearray(b"a.b.c")])
def test_non_string_tokens_are_malformed(value: object, alg_keys: dict[str, Key]) -> None:
    key = alg_keys["HS256"]
    token = cast(Any, value)
    with pytest.raises(MalformedToken):
        jwtkit.decode(token, key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedToken):
        jwtkit.Verifier(key, algorithms=["HS256"]).decode(token, now=NOW)
    with pytest.raises(MalformedToken):
        jwtkit.jws.verify(token, key, algorithms=["HS256"])
    with pytest.raises(MalformedToken):
        jwtkit.decode_unverified(token)


# --------------------------------------------------------------------------------------------
# 3. the error-message rule


SECRET = b"SECRET-jwtkit-hmac-key-DO-NOT-LEAK-0123456789-abcdefghijklmnopqrstuvwxyz!"
WEAK_SECRET = b"short-SECRET-do-not-leak"  # 24 bytes: shorter than HS256 needs
PASSWORD = b"pem-PASSWORD-do-not-leak-42"
DUPLICATE_ALG = b'{"alg":"HS256","alg":"HS256"}'


def secret_forms(secret: bytes) -> list[str]:
    """Ways a secret could show up in text: raw, base64url, base64, hex, bytes repr."""
    forms = [
        b64url(secret),
        base64.b64encode(secret).decode().rstrip("="),
        secret.hex(),
        repr(secret)[2:-1],
        secret.decode("latin-1"),
    ]
    return [form for form in forms if len(form) >= 12]


def secret_fragments(key: Key) -> list[str]:
    """Everything of ``key`` that is secret: private JWK members, numbers, PEM body, secret."""
    if not key.is_private:
        return []
    jwk = key.to_jwk(private=True)
    found = [jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi", "k") if m in jwk]
    if isinstance(key, OctKey):
        found += secret_forms(key.secret)
    else:
        for member in ("d", "p", "q"):
            if member in jwk:
                found.append(str(int.from_bytes(b64url_decode(jwk[member]), "big")))
                found.append(b64url_decode(jwk[member]).hex())
        body = key.to_pem(private=True).decode().splitlines()[2:-1]
        found += [line for line in body if len(line) >= 40]
    return [fragment for fragment in found if len(fragment) >= 12]


def texts_of(exc: BaseException) -> Iterator[str]:
    """``str`` and ``repr`` of an exception and of everything chained to it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        if isinstance(current, ClaimError):
            yield current.claim
            yield current.reason
        if isinstance(current, JWTError):
            yield current.message
        current = current.__cause__ or current.__context__


def assert_no_leak(
    exc: BaseException, fragments: tuple[str, ...] | list[str], token: str = ""
) -> None:
    for text in texts_of(exc):
        for fragment in fragments:
            assert fragment not in text, f"{type(exc).__name__} shows secret material: {text!r}"
        if len(token) > 64:
            assert token not in text, f"{type(exc).__name__} shows the whole token: {text!r}"


@dataclass(frozen=True)
class SecretKeys:
    oct: OctKey
    rsa: Key
    ec: Key
    okp: Key
    fragments: tuple[str, ...]


@pytest.fixture(scope="module")
def secret_keys() -> SecretKeys:
    oct_key = OctKey(SECRET, kid="hmac-1")
    rsa_key = Key.generate("RS256", kid="rsa-1")
    ec_key = Key.generate("ES256", kid="ec-1")
    okp_key = Key.generate("EdDSA", kid="okp-1")
    fragments = [
        *secret_fragments(oct_key),
        *secret_forms(WEAK_SECRET),
        *secret_forms(PASSWORD),
        *secret_fragments(rsa_key),
        *secret_fragments(ec_key),
        *secret_fragments(okp_key),
    ]
    assert len(fragments) >= 25
    return SecretKeys(oct_key, rsa_key, ec_key, okp_key, tuple(fragments))


def provoke(
    expected: type[JWTError],
    call: Callable[[], object],
    fragments: tuple[str, ...],
    token: str = "",
) -> JWTError:
    with pytest.raises(expected) as info:
        call()
    assert_no_leak(info.value, fragments, token)
    return info.value


def test_key_repr_and_str_show_no_key_material(secret_keys: SecretKeys) -> None:
    keys: list[Key] = [secret_keys.oct, secret_keys.rsa, secret_keys.ec, secret_keys.okp]
    keys += [k.public_key() for k in keys[1:]]
    keys.append(OctKey(WEAK_SECRET, allow_weak=True))
    texts = [repr(k) for k in keys] + [str(k) for k in keys]
    keyset = KeySet(keys, allow_mixed=True)
    texts += [repr(keyset), str(keyset)]
    token = jwtkit.encode({"sub": "1"}, secret_keys.oct, algorithm="HS256")
    decoded = jwtkit.decode_complete(token, keyset, algorithms=["HS256"], now=NOW)
    texts += [repr(decoded), str(decoded)]
    verified = jwtkit.jws.verify(token, keyset, algorithms=["HS256"])
    texts += [repr(verified), str(verified)]
    for text in texts:
        for fragment in secret_keys.fragments:
            assert fragment not in text, text


def test_signature_failures_show_no_secret_or_token(secret_keys: SecretKeys) -> None:
    frag = secret_keys.fragments
    oct_key, rsa, ec = secret_keys.oct, secret_keys.rsa, secret_keys.ec
    other_oct = OctKey(b"another-secret-that-is-long-enough-for-hs256!!")
    expectations: list[tuple[Key, Key, str, type[JWTError]]] = [
        (other_oct, oct_key, "HS256", InvalidSignature),
        # The token names kid 'hmac-1'; a trusted key without a kid is still tried.
        (oct_key, other_oct, "HS256", InvalidSignature),
        (oct_key, OctKey(other_oct.secret, kid="other"), "HS256", KeyNotFound),
        (oct_key, OctKey(b"x" * 32 + SECRET[32:], kid="hmac-1"), "HS256", InvalidSignature),
        (Key.generate("ES256"), ec.public_key(), "ES256", InvalidSignature),
        (ec, Key.generate("ES256").public_key(), "ES256", InvalidSignature),
        (ec, Key.generate("ES256", kid="other").public_key(), "ES256", KeyNotFound),
        (ec, Key.generate("ES256", kid="ec-1").public_key(), "ES256", InvalidSignature),
    ]
    for signer, verifier, alg, expected in expectations:
        token = jwtkit.encode({"sub": "1", "pad": "x" * 80}, signer, algorithm=alg)
        for call in (
            partial(jwtkit.decode, token, verifier, algorithms=[alg], now=NOW),
            partial(jwtkit.Verifier(verifier, algorithms=[alg]).decode, token, now=NOW),
            partial(jwtkit.jws.verify, token, verifier, algorithms=[alg]),
        ):
            provoke(expected, call, frag, token)
    # The raw secret as the key argument, and a JWKS of every key.
    token = jwtkit.encode({"sub": "1", "pad": "x" * 80}, other_oct, algorithm="HS256")
    provoke(
        InvalidSignature,
        lambda: jwtkit.decode(token, SECRET, algorithms=["HS256"], now=NOW),
        frag,
        token,
    )
    everything = KeySet([oct_key, rsa.public_key(), ec.public_key()], allow_mixed=True)
    provoke(
        InvalidSignature,
        lambda: jwtkit.decode(token, everything, algorithms=["HS256"], now=NOW),
        frag,
        token,
    )


def test_algorithm_and_key_misuse_errors_show_no_secret(secret_keys: SecretKeys) -> None:
    frag = secret_keys.fragments
    oct_key, rsa, ec, okp = secret_keys.oct, secret_keys.rsa, secret_keys.ec, secret_keys.okp
    hs = jwtkit.encode({"sub": "1", "pad": "x" * 80}, oct_key, algorithm="HS256")
    rs = jwtkit.encode({"sub": "1", "pad": "x" * 80}, rsa)
    # Algorithm not in the allow-list, or restricted by the key's own alg.
    provoke(AlgorithmNotAllowed, lambda: jwtkit.decode(hs, oct_key, algorithms=["HS384"]), frag, hs)
    provoke(
        AlgorithmNotAllowed,
        lambda: jwtkit.decode(rs, rsa.public_key(), algorithms=["PS256"]),
        frag,
        rs,
    )
    provoke(UsageError, lambda: jwtkit.decode(hs, oct_key, algorithms=["none"]), frag, hs)
    provoke(UsageError, lambda: jwtkit.decode(hs, oct_key), frag, hs)
    # A key of the wrong type or for another algorithm.
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, oct_key, algorithm="RS256"), frag)
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, rsa, algorithm="PS256"), frag)
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, ec, algorithm="ES384"), frag)
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, okp, algorithm="HS256"), frag)
    provoke(InvalidKey, lambda: jwtkit.jws.sign(b"x", rsa.public_key(), algorithm="RS256"), frag)
    provoke(
        InvalidKey,
        lambda: jwtkit.decode(hs, rsa.public_key(), algorithms=["HS256", "RS256"]),
        frag,
        hs,
    )
    provoke(
        InvalidKey,
        lambda: jwtkit.decode(rs, oct_key, algorithms=["HS256", "RS256"]),
        frag,
        rs,
    )
    # use / key_ops / alg restrictions on a key with a known secret.
    for restricted in (
        OctKey(SECRET, use="enc"),
        OctKey(SECRET, key_ops=["verify"]),
        OctKey(SECRET, alg="HS512"),
    ):
        provoke(InvalidKey, partial(jwtkit.encode, {"a": 1}, restricted, algorithm="HS256"), frag)
    for restricted in (OctKey(SECRET, use="enc"), OctKey(SECRET, key_ops=["sign"])):
        provoke(
            InvalidKey,
            partial(jwtkit.decode, hs, restricted, algorithms=["HS256"], now=NOW),
            frag,
            hs,
        )
    # A secret shorter than the hash (RFC 7518 §3.2) and public-key material as a secret (A2).
    weak = OctKey(WEAK_SECRET, allow_weak=False)
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, weak, algorithm="HS256"), frag)
    provoke(InvalidKey, lambda: jwtkit.encode({"a": 1}, WEAK_SECRET, algorithm="HS256"), frag)
    provoke(
        InvalidKey, lambda: jwtkit.encode({"a": 1}, OctKey(SECRET[:40]), algorithm="HS384"), frag
    )
    public_pem = rsa.public_key().to_pem()
    provoke(InvalidKey, lambda: OctKey(public_pem), frag)
    provoke(InvalidKey, lambda: OctKey(json.dumps(ec.public_key().to_jwk())), frag)
    provoke(InvalidKey, oct_key.public_key, frag)
    provoke(InvalidKey, lambda: rsa.public_key().to_jwk(private=True), frag)
    provoke(InvalidKey, lambda: oct_key.check_usable("ES256", "sign"), frag)


def test_key_import_errors_show_no_private_members(secret_keys: SecretKeys) -> None:
    frag = secret_keys.fragments
    rsa_jwk = secret_keys.rsa.to_jwk(private=True)
    ec_jwk = secret_keys.ec.to_jwk(private=True)
    okp_jwk = secret_keys.okp.to_jwk(private=True)
    oct_jwk = secret_keys.oct.to_jwk(private=True)
    other_ec = Key.generate("ES256").to_jwk(private=True)
    broken: list[dict[str, Any]] = [
        {**rsa_jwk, "p": rsa_jwk["q"]},  # inconsistent CRT parameters
        {**rsa_jwk, "d": rsa_jwk["p"]},
        {**rsa_jwk, "qi": rsa_jwk["dp"]},
        {**rsa_jwk, "e": "AQ"},  # e = 1
        {**rsa_jwk, "oth": [{"r": rsa_jwk["p"], "d": rsa_jwk["dp"], "t": rsa_jwk["qi"]}]},
        {**ec_jwk, "x": other_ec["x"], "y": other_ec["y"]},  # d does not match the point
        {**ec_jwk, "d": ec_jwk["d"] + "A"},  # wrong length
        {**ec_jwk, "d": ec_jwk["d"] + "="},  # padded
        {**ec_jwk, "crv": "P-384"},
        {**okp_jwk, "d": okp_jwk["d"][:-2]},
        {**okp_jwk, "crv": "X25519"},
        {**okp_jwk, "x": Key.generate("EdDSA").to_jwk()["x"]},  # d does not match x
        {**oct_jwk, "k": oct_jwk["k"] + "=="},  # padded
        {**oct_jwk, "k": oct_jwk["k"].replace("-", "+").replace("_", "/") + "+/"},
        {**oct_jwk, "use": "sig", "key_ops": ["encrypt"]},
        {**oct_jwk, "kty": "RSA"},
        {**oct_jwk, "alg": "RS256"},
        {**rsa_jwk, "kid": 7},
    ]
    for jwk in broken:
        provoke(InvalidKey, partial(Key.from_jwk, jwk), frag)
        provoke(InvalidKey, partial(Key.from_jwk, json.dumps(jwk)), frag)
    # A JWK Set skips the broken members (matrix F2); the reasons are shown to users too.
    keyset = KeySet.from_jwks({"keys": broken})
    assert len(keyset) == 0
    assert len(keyset.skipped) == len(broken)
    for skipped in keyset.skipped:
        for text in (skipped.reason, repr(skipped), str(skipped)):
            assert not any(fragment in text for fragment in frag), text
    assert not any(fragment in repr(keyset) for fragment in frag)
    # Encrypted PEM with the wrong password; the password must not show either.
    assert isinstance(secret_keys.ec, jwtkit.ECKey)
    private = secret_keys.ec.crypto_private_key
    assert private is not None
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD),
    )
    provoke(InvalidKey, lambda: Key.from_pem(encrypted, password=b"wrong-password"), frag)
    provoke(InvalidKey, lambda: Key.from_pem(encrypted), frag)
    damaged = secret_keys.rsa.to_pem(private=True).replace(b"A", b"B", 40)
    provoke(InvalidKey, lambda: Key.from_pem(damaged), frag)


def test_claim_errors_show_no_secret_or_token(secret_keys: SecretKeys) -> None:
    frag = secret_keys.fragments
    key = secret_keys.oct
    base = {"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "pad": "x" * 80}
    cases: list[tuple[type[JWTError], dict[str, Any], dict[str, Any]]] = [
        (ExpiredToken, {"exp": NOW - 10}, {"audience": "api"}),
        (NotYetValid, {"nbf": NOW + 100}, {"audience": "api"}),
        (NotYetValid, {"iat": NOW + 100}, {"audience": "api"}),
        (ExpiredToken, {"iat": NOW - 1000}, {"audience": "api", "max_age": 10}),
        (InvalidAudience, {}, {"audience": "other"}),
        (InvalidAudience, {}, {}),
        (InvalidIssuer, {}, {"audience": "api", "issuer": "https://issuer.example.evil"}),
        (InvalidSubject, {}, {"audience": "api", "subject": "user-2"}),
        (MissingClaim, {}, {"audience": "api", "require": ["jti"]}),
        (InvalidType, {}, {"audience": "api", "typ": "at+jwt"}),
        (ClaimError, {"exp": "tomorrow"}, {"audience": "api"}),
        (ClaimError, {"jti": 5}, {"audience": "api"}),
    ]
    for expected, extra, expectations in cases:
        token = jwtkit.encode({**base, **extra}, key, algorithm="HS256")
        provoke(
            expected,
            partial(jwtkit.decode, token, key, algorithms=["HS256"], now=NOW, **expectations),
            frag,
            token,
        )
    # A resolver that finds no key, and a kid that no trusted key has.
    token = jwtkit.encode(base, key, algorithm="HS256", headers={"kid": "unknown"})
    keyset = KeySet([key, secret_keys.rsa.public_key()], allow_mixed=True)
    provoke(KeyNotFound, lambda: jwtkit.decode(token, keyset, algorithms=["HS256"]), frag, token)

    def failing_resolver(header: Any) -> Key:
        raise LookupError("no such key")

    provoke(
        KeyNotFound,
        lambda: jwtkit.decode(token, failing_resolver, algorithms=["HS256"], now=NOW),
        frag,
        token,
    )


def test_malformed_token_errors_show_no_secret_or_token(secret_keys: SecretKeys) -> None:
    frag = secret_keys.fragments
    key = secret_keys.oct
    token = jwtkit.encode({"sub": "1", "pad": "x" * 80}, key, algorithm="HS256")
    header, payload, signature = token.split(".")
    malformed = [
        token + ".",
        token + "." + token,
        f"{header}.{payload}",
        f"{header}.{payload}.{signature}=",
        f"{header}={payload}.{signature}",
        " " + token,
        token.replace(".", ". ", 1),
        '{"payload":"' + payload + '","signatures":[]}',
        f"{header}.{payload}.{signature}.{header}.{payload}",
        f"{b64url(DUPLICATE_ALG)}.{payload}.{signature}",
        f"{b64url(b'not json')}.{payload}.{signature}",
        f"{b64url(SECRET)}.{payload}.{signature}",
    ]
    for bad in malformed:
        for call in (
            partial(jwtkit.decode, bad, key, algorithms=["HS256"], now=NOW),
            partial(jwtkit.Verifier(key, algorithms=["HS256"]).decode, bad, now=NOW),
            partial(jwtkit.jws.verify, bad, key, algorithms=["HS256"]),
            partial(jwtkit.decode_unverified, bad),
        ):
            provoke(MalformedToken, call, frag, bad)
    # An empty payload is a valid JWS (its signature is then what fails) but never a JWT.
    empty = f"{header}..{signature}"
    provoke(MalformedToken, lambda: jwtkit.decode(empty, key, algorithms=["HS256"]), frag)
    provoke(MalformedToken, lambda: jwtkit.decode_unverified(empty), frag)
    provoke(InvalidSignature, lambda: jwtkit.jws.verify(empty, key, algorithms=["HS256"]), frag)
    huge = token + "A" * 400
    provoke(
        TokenTooLarge,
        lambda: jwtkit.decode(huge, key, algorithms=["HS256"], max_token_size=300),
        frag,
        huge,
    )


@FEW
@given(
    secret=st.binary(min_size=32, max_size=96) | st.text(min_size=32, max_size=64),
    data=st.data(),
)
def test_errors_never_show_a_random_secret(secret: bytes | str, data: st.DataObject) -> None:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    fragments = tuple(secret_forms(raw))
    try:
        key = OctKey(secret)
    except InvalidKey as exc:  # e.g. a secret that happens to look like a key
        assert_no_leak(exc, fragments)
        return
    assert all(f not in repr(key) and f not in str(key) for f in fragments)
    token = jwtkit.encode({"sub": "1", "exp": NOW - 1}, key, algorithm="HS256")
    other = OctKey(b"0123456789abcdef0123456789abcdef-other")
    mutated = data.draw(character_mutations(token))
    calls: list[Callable[[], object]] = [
        lambda: jwtkit.decode(token, key, algorithms=["HS256"], now=NOW),  # expired
        lambda: jwtkit.decode(token, other, algorithms=["HS256"], now=NOW),  # wrong key
        lambda: jwtkit.decode(token, key, algorithms=["HS512"], now=NOW),  # wrong alg
        lambda: jwtkit.encode({"a": 1}, key, algorithm="HS512"),  # too short for HS512?
        lambda: jwtkit.encode({"a": 1}, key, algorithm="ES256"),  # wrong key type
        lambda: jwtkit.decode(mutated, key, algorithms=["HS256"], now=NOW - 10),
        lambda: jwtkit.jws.verify(mutated, key, algorithms=["HS256"]),
        key.public_key,
    ]
    for call in calls:
        try:
            call()
        except JWTError as exc:
            assert_no_leak(exc, fragments, token)


def test_fragments_helper_finds_material_in_a_leaky_message(secret_keys: SecretKeys) -> None:
    """The leak check itself can fail: a message that quotes a secret or a token is caught."""
    jwk = secret_keys.rsa.to_jwk(private=True)
    token = jwtkit.encode({"pad": "x" * 80}, secret_keys.oct, algorithm="HS256")
    leaky = [
        InvalidKey(f"bad key {jwk}"),
        InvalidKey(f"bad secret {SECRET!r}"),
        InvalidKey(f"bad secret {b64url(SECRET)}"),
        MalformedToken(f"bad token {token}"),
        ClaimError("d", jwk["d"]),
    ]
    for exc in leaky:
        with pytest.raises(AssertionError):
            assert_no_leak(exc, secret_keys.fragments, token)
