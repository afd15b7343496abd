"""Property tests: arbitrary input to the key importers raises only jwtkit errors, never crashes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jwtkit._codec import b64url_encode
from jwtkit.errors import JWTError
from jwtkit.jwk import Key, KeySet, OctKey

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_b64_values = st.binary(max_size=80).map(b64url_encode)
_member_values = _json_scalars | _b64_values | st.lists(_json_scalars | _b64_values, max_size=3)
_jwk_like = st.fixed_dictionaries(
    {"kty": st.sampled_from(["oct", "RSA", "EC", "OKP", "x"]) | _json_scalars},
    optional=dict.fromkeys(
        ("crv", "x", "y", "d", "n", "e", "k", "p", "q", "dp", "dq", "qi", "kid", "use",
         "key_ops", "alg", "x5c", "x5t", "x5t#S256", "oth"),
        _member_values,
    ),
)  # fmt: skip
_curves = st.sampled_from(["P-256", "P-384", "P-521", "secp256k1", "Ed25519", "Ed448", "X25519"])


def _accept_or_jwt_error(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(JWTError):
        call(*args, **kwargs)


@FUZZ
@given(st.binary(max_size=400))
@example(b'{"kty": "oct", "k": "AAAA"}')
@example(b'{"kty":"EC","crv":"P-256","x":"' + b"A" * 43 + b'","y":"' + b"A" * 43 + b'"}')
def test_from_jwk_random_bytes_raise_only_jwt_errors(data: bytes) -> None:
    _accept_or_jwt_error(Key.from_jwk, data)
    _accept_or_jwt_error(Key.from_jwk, data.decode("utf-8", "surrogateescape"))


@FUZZ
@given(_jwk_like)
def test_from_jwk_random_members_raise_only_jwt_errors(jwk: dict[str, Any]) -> None:
    _accept_or_jwt_error(Key.from_jwk, jwk)
    _accept_or_jwt_error(Key.from_jwk, json.dumps(jwk))


@FUZZ
@given(_curves, st.binary(min_size=30, max_size=70), st.binary(min_size=30, max_size=70))
def test_random_points_raise_only_jwt_errors(crv: str, x: bytes, d: bytes) -> None:
    kty = "OKP" if crv[0] in "EX" else "EC"
    jwk = {"kty": kty, "crv": crv, "x": b64url_encode(x), "y": b64url_encode(x[::-1])}
    _accept_or_jwt_error(Key.from_jwk, jwk)
    _accept_or_jwt_error(Key.from_jwk, {**jwk, "d": b64url_encode(d)})


@FUZZ
@given(st.binary(max_size=600))
@example(b"-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----")
@example(b"-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----")
@example(b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==")
@example(b"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=")
def test_from_pem_der_ssh_random_bytes_raise_only_jwt_errors(data: bytes) -> None:
    _accept_or_jwt_error(Key.from_pem, data)
    _accept_or_jwt_error(Key.from_pem, data, b"password")
    _accept_or_jwt_error(Key.from_der, data)
    _accept_or_jwt_error(Key.from_der, data, "password")
    _accept_or_jwt_error(Key.from_ssh, data)
    _accept_or_jwt_error(Key.from_ssh, data, "password")


@FUZZ
@given(st.text(alphabet=st.sampled_from("-BEGIN PUBLICKEYENDRSA\n\r =/+AQIMabc"), max_size=300))
def test_from_pem_random_armour_raises_only_jwt_errors(text: str) -> None:
    _accept_or_jwt_error(Key.from_pem, text)


@FUZZ
@given(st.binary(max_size=400))
@example(b'{"keys": [1, {"kty": "oct"}, {"kty": "EC", "kid": 5}]}')
def test_keyset_from_jwks_random_bytes_raise_only_jwt_errors(data: bytes) -> None:
    _accept_or_jwt_error(KeySet.from_jwks, data)


@FUZZ
@given(st.lists(_jwk_like | _json_scalars, max_size=5))
def test_keyset_from_jwks_random_members_never_raise(members: list[Any]) -> None:
    keyset = KeySet.from_jwks({"keys": members})
    assert len(keyset) + len(keyset.skipped) == len(members)


@FUZZ
@given(st.binary(min_size=1, max_size=200))
def test_random_secrets_are_accepted_or_refused_cleanly(secret: bytes) -> None:
    _accept_or_jwt_error(OctKey, secret)
    _accept_or_jwt_error(OctKey, secret, allow_weak=True)
