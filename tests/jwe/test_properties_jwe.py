"""Property tests for JWE (Hypothesis).

1. Round trips: for every (``alg``, ``enc``) pair, opt-in ones enabled, ``encrypt`` then
   ``decrypt`` gives the plaintext back, compact and JSON, compressed or not.
2. Mutations: any change to a compact JWE, or to a JWE JSON object, is rejected with a jwtkit
   error (``JWTError``), never another exception; a JSON change that only adds or alters
   unprotected, unauthenticated data may still decrypt, but only to the same plaintext.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jwtkit import jwe
from jwtkit.errors import JWTError
from jwtkit.jwk import Key

from .jwe_helpers import (
    ALL_ALGORITHMS,
    ENCRYPTIONS,
    OPT_IN,
    PBES2_NAMES,
    decryption_key,
    encryption_key,
    rsa1_5_token,
    rsa_key,
)

CURVES = ("P-256", "P-384", "P-521", "X25519", "X448")
SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _headers(alg: str) -> dict[str, Any] | None:
    return {"p2c": 1000} if alg in PBES2_NAMES else None


def _open(token: str, key: Key, alg: str, enc: str) -> bytes:
    return jwe.decrypt(token, key, algorithms=[alg], encryptions=[enc], registry=OPT_IN).plaintext


@pytest.mark.parametrize("enc", ENCRYPTIONS)
@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
@SETTINGS
@given(
    plaintext=st.binary(max_size=300),
    compress=st.booleans(),
    curve=st.sampled_from(CURVES),
)
def test_compact_round_trip_for_every_alg_enc_pair(
    alg: str, enc: str, plaintext: bytes, compress: bool, curve: str
) -> None:
    key = decryption_key(alg, enc, curve)
    if alg == "RSA1_5":  # decryption only: the token is made by hand
        token = rsa1_5_token(rsa_key(), plaintext, enc)
    else:
        token = jwe.encrypt(
            plaintext,
            encryption_key(alg, enc, curve),
            algorithm=alg,
            encryption=enc,
            headers=_headers(alg),
            compress=compress,
            registry=OPT_IN,
        )
    assert _open(token, key, alg, enc) == plaintext


@pytest.mark.parametrize("alg", [a for a in ALL_ALGORITHMS if a != "RSA1_5"])
@SETTINGS
@given(
    plaintext=st.binary(max_size=200),
    enc=st.sampled_from(ENCRYPTIONS),
    compress=st.booleans(),
    flatten=st.booleans(),
    aad=st.none() | st.binary(max_size=40),
    shared=st.dictionaries(st.sampled_from(["x-a", "x-b", "cty"]), st.text(max_size=8)),
)
def test_json_round_trip_for_every_alg(
    alg: str,
    plaintext: bytes,
    enc: str,
    compress: bool,
    flatten: bool,
    aad: bytes | None,
    shared: dict[str, str],
) -> None:
    recipient = jwe.Recipient(encryption_key(alg, enc), alg, _headers(alg))
    data = jwe.encrypt_json(
        plaintext,
        [recipient],
        encryption=enc,
        unprotected=shared or None,
        aad=aad,
        compress=compress,
        flatten=flatten,
        registry=OPT_IN,
    )
    assert ("recipients" in data) is not flatten
    result = jwe.decrypt_json(
        json.dumps(data), decryption_key(alg, enc), algorithms=[alg], encryptions=[enc],
        registry=OPT_IN,
    )  # fmt: skip
    assert result.plaintext == plaintext
    assert result.aad == aad
    assert result.unprotected == (shared or None)


@functools.cache
def _samples() -> list[tuple[str, str, str]]:
    """A few valid compact tokens, (token, alg, enc), covering every key-management family."""
    out = []
    for alg, enc in (
        ("dir", "A128GCM"),
        ("A128KW", "A128CBC-HS256"),
        ("A256GCMKW", "A256GCM"),
        ("ECDH-ES", "A192CBC-HS384"),
        ("ECDH-ES+A128KW", "A128GCM"),
        ("RSA-OAEP-256", "A256CBC-HS512"),
        ("PBES2-HS256+A128KW", "A128GCM"),
    ):
        token = jwe.encrypt(
            b"the plaintext",
            encryption_key(alg, enc),
            algorithm=alg,
            encryption=enc,
            headers=_headers(alg),
            compress=alg == "A128KW",
            registry=OPT_IN,
        )
        out.append((token, alg, enc))
    out.append((rsa1_5_token(rsa_key(), b"the plaintext"), "RSA1_5", "A128CBC-HS256"))
    return out


_CHARS = "AQgw_-09azAZ.=+/ {}\"'\x00é"


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[str, str, str, str]:
    token, alg, enc = draw(st.sampled_from(_samples()))
    chars = list(token)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap"]))
        index = draw(st.integers(0, max(len(chars) - 1, 0)))
        if kind == "replace" and chars:
            chars[index] = draw(st.sampled_from(_CHARS))
        elif kind == "delete" and chars:
            del chars[index]
        elif kind == "insert":
            chars.insert(index, draw(st.sampled_from(_CHARS)))
        elif kind == "truncate":
            chars = chars[:index]
        else:
            parts = "".join(chars).split(".")
            if len(parts) > 1:
                i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
                parts[i], parts[j] = parts[j], parts[i]
            chars = list(".".join(parts))
    return token, "".join(chars), alg, enc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
@example(("", "", "dir", "A128GCM"))
def test_mutated_compact_jwes_are_rejected_with_a_jwtkit_error(
    case: tuple[str, str, str, str],
) -> None:
    original, mutated, alg, enc = case
    try:
        plaintext = _open(mutated, decryption_key(alg, enc), alg, enc)
    except JWTError:
        return
    # Only a no-op mutation (e.g. two swapped identical segments) may decrypt.
    assert mutated == original
    assert plaintext == b"the plaintext"


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
_MEMBERS = [
    "protected", "unprotected", "recipients", "header", "encrypted_key", "iv", "ciphertext",
    "tag", "aad", "x-extra",
]  # fmt: skip


@st.composite
def _mutated_json(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    alg, enc = draw(st.sampled_from([("A128KW", "A128GCM"), ("ECDH-ES", "A128CBC-HS256")]))
    data = jwe.encrypt_json(
        b"the plaintext",
        [jwe.Recipient(encryption_key(alg, enc), alg)],
        encryption=enc,
        unprotected={"x-u": 1},
        aad=b"extra",
        flatten=draw(st.booleans()),
    )
    for _ in range(draw(st.integers(1, 3))):
        member = draw(st.sampled_from(_MEMBERS))
        if draw(st.booleans()) and member in data:
            del data[member]
        else:
            data[member] = draw(_JSON_VALUES)
    return data, alg, enc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_json())
def test_mutated_json_jwes_are_rejected_or_give_the_same_plaintext(
    case: tuple[dict[str, Any], str, str],
) -> None:
    data, alg, enc = case
    try:
        result = jwe.decrypt_json(
            data, decryption_key(alg, enc), algorithms=[alg], encryptions=[enc]
        )
    except JWTError:
        return
    assert result.plaintext == b"the plaintext"
