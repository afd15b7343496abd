"""``jwtkit.jwe.Decrypter``: JWE decryption with the arguments checked and the keys prepared once.

The oracle for every result and every error is a Decrypter with its caches disabled
(``header_cache_size=0``), which takes the full path of RFC 7516 §5.2 for every token. A warm
Decrypter (one that decrypted a token with the same header, or for ECDH-ES with an ``epk`` on
the same curve, before) must give the same result and the same error, with the same message,
for the same token. The one-shot ``jwe.decrypt`` shares Decrypters between calls with the same
arguments; a changed key, allow-list or limit must never be served from another's cache.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import jwtkit
from jwtkit import _jwa_keymgmt, jwe
from jwtkit import _jwe_decrypt as _jwe
from jwtkit._codec import b64url_decode, b64url_encode, json_dumps
from jwtkit._jwa_keymgmt import concat_kdf
from jwtkit.errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    JWTError,
    MalformedToken,
    TokenTooLarge,
    UsageError,
)
from jwtkit.jwa import Registry
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, OKPKey

from .jwe_helpers import (
    ALL_ALGORITHMS,
    OPT_IN,
    decryption_key,
    encryption_key,
    rsa1_5_token,
    rsa_key,
)

PLAINTEXT = b"Decrypter: the same answer, faster. \x00\xff"
SECRET = bytes(range(32))
#: P-256's field prime (FIPS 186-5 / SP 800-186 §3.2.1.3) and curve coefficient b.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B

Outcome = tuple[Any, ...]


def _outcome(call: Callable[[], jwe.DecryptedJWE]) -> Outcome:
    """What a decryption gave: its result (with the key's identity), or its error and message."""
    try:
        result = call()
    except JWTError as exc:
        return ("error", type(exc), str(exc))
    return (
        "ok",
        result.header,
        result.plaintext,
        result.algorithm,
        result.encryption,
        id(result.key),
    )


def _pair(key: Any, alg: str, enc: str, **kwargs: Any) -> tuple[jwe.Decrypter, jwe.Decrypter]:
    """A Decrypter and its oracle, the same Decrypter with nothing cached."""
    decrypter = jwe.Decrypter(key, algorithms=[alg], encryptions=[enc], **kwargs)
    oracle = jwe.Decrypter(key, algorithms=[alg], encryptions=[enc], header_cache_size=0, **kwargs)
    return decrypter, oracle


def _assert_same(decrypter: jwe.Decrypter, oracle: jwe.Decrypter, token: str) -> Outcome:
    expected = _outcome(lambda: oracle.decrypt(token))
    assert _outcome(lambda: decrypter.decrypt(token)) == expected
    return expected


def _segments(token: str) -> list[str]:
    return token.split(".")


def _with(token: str, index: int, segment: str) -> str:
    parts = _segments(token)
    parts[index] = segment
    return ".".join(parts)


# -- the same results as the full path, warm or cold ------------------------------------------


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A256GCM"])
def test_every_algorithm_decrypts_cold_and_warm_as_the_full_path(alg: str, enc: str) -> None:
    key = decryption_key(alg, enc)
    headers = {"p2c": 1000} if alg.startswith("PBES2") else None
    decrypter, oracle = _pair(key, alg, enc, registry=OPT_IN)
    if alg == "RSA1_5":
        tokens = [rsa1_5_token(rsa_key(), PLAINTEXT, enc) for _ in range(2)]
    else:
        tokens = [
            jwe.encrypt(
                PLAINTEXT,
                encryption_key(alg, enc),
                algorithm=alg,
                encryption=enc,
                headers=headers,
                registry=OPT_IN,
            )
            for _ in range(2)
        ]
    for token in (*tokens, *tokens):  # cold, then warm: a cached header or ECDH-ES keys
        outcome = _assert_same(decrypter, oracle, token)
        assert outcome[0] == "ok"
        assert outcome[2] == PLAINTEXT
        assert outcome[5] == id(key)
        assert (
            _outcome(
                lambda t=token: jwe.decrypt(  # type: ignore[misc]
                    t, key, algorithms=[alg], encryptions=[enc], registry=OPT_IN
                )
            )
            == outcome
        )


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521", "X25519", "X448"])
@pytest.mark.parametrize("alg", ["ECDH-ES", "ECDH-ES+A128KW"])
def test_ecdh_es_on_every_curve_with_apu_and_apv(crv: str, alg: str) -> None:
    key = decryption_key(alg, curve=crv)
    decrypter, oracle = _pair(key, alg, "A128GCM")
    for apu in ("", b64url_encode(b"Alice"), b64url_encode(b"Bob")):
        headers = {"apu": apu, "apv": b64url_encode(b"Carol")} if apu else None
        token = jwe.encrypt(
            PLAINTEXT,
            encryption_key(alg, curve=crv),
            algorithm=alg,
            encryption="A128GCM",
            headers=headers,
        )
        assert _assert_same(decrypter, oracle, token)[2] == PLAINTEXT
    assert decrypter._agreements  # the keys on the curve are prepared
    assert not decrypter._cache  # epk differs in every message: no header is cached


def test_decrypt_json_gives_the_module_functions_result() -> None:
    key = OctKey(SECRET)
    data = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(key, "A256KW")], encryption="A256GCM", aad=b"aad"
    )
    decrypter = jwe.Decrypter(key, algorithms=["A256KW"], encryptions=["A256GCM"])
    result = decrypter.decrypt_json(data)
    assert result == jwe.decrypt_json(data, key, algorithms=["A256KW"], encryptions=["A256GCM"])
    assert (result.plaintext, result.aad, result.recipient_index) == (PLAINTEXT, b"aad", 0)
    with pytest.raises(DecryptionError):
        decrypter.decrypt_json({**data, "tag": b64url_encode(bytes(16))})


def test_bytes_tokens_decrypt_and_non_ascii_bytes_are_malformed() -> None:
    key = OctKey(SECRET)
    token = jwe.encrypt(PLAINTEXT, key, algorithm="dir", encryption="A256GCM")
    decrypter, oracle = _pair(key, "dir", "A256GCM")
    for _ in range(2):
        assert decrypter.decrypt(token.encode("ascii")).plaintext == PLAINTEXT
    bad = token.encode("ascii")[:-1] + "é".encode()
    assert _outcome(lambda: decrypter.decrypt(bad)) == _outcome(lambda: oracle.decrypt(bad))
    assert _outcome(lambda: decrypter.decrypt(bad))[1] is MalformedToken


def test_the_first_key_that_decrypts_is_reported_warm_as_cold() -> None:
    wrong, right = OctKey(bytes(32)), OctKey(SECRET)
    token = jwe.encrypt(PLAINTEXT, right, algorithm="dir", encryption="A256GCM")
    decrypter = jwe.Decrypter([wrong, right], algorithms=["dir"], encryptions=["A256GCM"])
    assert [decrypter.decrypt(token).key for _ in range(3)] == [right] * 3
    assert decrypter.decrypt(token).key is right
    with pytest.raises(DecryptionError):
        decrypter.decrypt(
            jwe.encrypt(PLAINTEXT, OctKey(b"\1" * 32), algorithm="dir", encryption="A256GCM")
        )


def test_a_dir_key_bound_to_its_enc_reports_the_callers_key_warm() -> None:
    # RFC 7520 §5.6 gives its dir key "alg": "A128GCM" (see test_vectors.py).
    key = OctKey(bytes(16), alg="A128GCM")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="dir", encryption="A128GCM")
    decrypter = jwe.Decrypter(key, algorithms=["dir"], encryptions=["A128GCM"])
    assert decrypter.decrypt(token).key is key
    assert decrypter.decrypt(token).key is key


# -- the same errors as the full path, warm -----------------------------------------------------


def _mutations(token: str) -> Iterator[tuple[str, str]]:
    parts = _segments(token)
    ciphertext = b64url_decode(parts[3])
    yield (
        "tampered ciphertext",
        _with(token, 3, b64url_encode(bytes([ciphertext[0] ^ 1]) + ciphertext[1:])),
    )
    yield "tag cut short", _with(token, 4, b64url_encode(b64url_decode(parts[4])[:8]))
    yield "zero tag", _with(token, 4, b64url_encode(bytes(16)))
    yield "short iv", _with(token, 2, b64url_encode(bytes(8)))
    yield "empty ciphertext", _with(token, 3, "")
    yield "encrypted key added or removed", _with(token, 1, "" if parts[1] else "AAAA")
    yield "encrypted key tampered", _with(token, 1, "AAAA" + parts[1][4:])
    # The 16-byte tag takes 22 characters: the last one carries 2 bits and 4 zero bits, and
    # flipping its lowest bit always makes the encoding non-canonical (RFC 4648 §3.5).
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(parts[4][-1]) ^ 1]
    yield "non-canonical base64url", _with(token, 4, parts[4][:-1] + last)
    yield "base64url of the wrong length", _with(token, 3, parts[3] + "A")
    yield "standard base64 alphabet", _with(token, 3, "+/" + parts[3][2:])
    yield "padding", _with(token, 4, parts[4] + "==")
    yield "non-ASCII", _with(token, 3, "é" + parts[3][1:])
    yield "six segments", token + ".AAAA"
    yield "four segments", token.rpartition(".")[0]
    yield "empty header", _with(token, 0, "")
    yield "too large", token + "A" * 300


@pytest.mark.parametrize(
    ("alg", "enc"),
    [
        ("dir", "A256GCM"),
        ("dir", "A128CBC-HS256"),
        ("A256KW", "A256CBC-HS512"),
        ("RSA-OAEP-256", "A256GCM"),
        ("ECDH-ES", "A128GCM"),
        ("ECDH-ES+A256KW", "A256GCM"),
    ],
)
def test_a_warm_decrypter_fails_exactly_as_the_full_path(alg: str, enc: str) -> None:
    key = decryption_key(alg, enc)
    token = jwe.encrypt(PLAINTEXT, encryption_key(alg, enc), algorithm=alg, encryption=enc)
    decrypter, oracle = _pair(key, alg, enc, max_token_size=len(token) + 100)
    decrypter.decrypt(token)  # warm
    seen: set[type[JWTError]] = set()
    for name, mutated in _mutations(token):
        outcome = _assert_same(decrypter, oracle, mutated)
        assert outcome[0] == "error", name
        seen.add(outcome[1])
    assert {DecryptionError, MalformedToken, TokenTooLarge} <= seen
    assert decrypter.decrypt(token).plaintext == PLAINTEXT  # the mutations changed nothing


def test_every_decryption_failure_on_the_warm_path_is_one_opaque_error() -> None:
    key = OctKey(SECRET)
    token = jwe.encrypt(PLAINTEXT, key, algorithm="dir", encryption="A256GCM")
    decrypter = jwe.Decrypter(key, algorithms=["dir"], encryptions=["A256GCM"])
    decrypter.decrypt(token)
    messages = set()
    for name, mutated in _mutations(token):
        if name in {"tampered ciphertext", "tag cut short", "zero tag", "short iv"}:
            with pytest.raises(DecryptionError) as caught:
                decrypter.decrypt(mutated)
            messages.add((type(caught.value), str(caught.value), caught.value.__cause__))
    assert messages == {(DecryptionError, "decryption failed", None)}


def test_zip_is_inflated_and_capped_on_the_warm_path() -> None:
    key = OctKey(SECRET)
    big = b"a" * 5000
    token = jwe.encrypt(big, key, algorithm="A256KW", encryption="A256GCM", compress=True)
    decrypter, oracle = _pair(key, "A256KW", "A256GCM", max_decompressed_size=4000)
    roomy = jwe.Decrypter(key, algorithms=["A256KW"], encryptions=["A256GCM"])
    assert roomy.decrypt(token).plaintext == big
    assert roomy.decrypt(token).plaintext == big
    small = jwe.encrypt(b"a" * 100, key, algorithm="A256KW", encryption="A256GCM", compress=True)
    assert _segments(small)[0] == _segments(token)[0]
    assert decrypter.decrypt(small).plaintext == b"a" * 100  # warms the header
    outcome = _assert_same(decrypter, oracle, token)
    assert outcome[1] is TokenTooLarge


def test_rsa1_5_draws_the_random_cek_on_the_warm_path_too(monkeypatch: pytest.MonkeyPatch) -> None:
    key = rsa_key()
    decrypter, oracle = _pair(key, "RSA1_5", "A128CBC-HS256", registry=OPT_IN)
    token = rsa1_5_token(key, PLAINTEXT)
    assert decrypter.decrypt(token).plaintext == PLAINTEXT  # warm
    drawn: list[int] = []
    original = _jwa_keymgmt._random_cek

    def spy(size: int) -> bytes:
        drawn.append(size)
        return original(size)

    monkeypatch.setattr(_jwa_keymgmt, "_random_cek", spy)
    assert decrypter.decrypt(token).plaintext == PLAINTEXT
    bad = rsa1_5_token(key, PLAINTEXT, encrypted_key=bytes(256))
    assert _segments(bad)[0] == _segments(token)[0]
    assert _assert_same(decrypter, oracle, bad)[1] is DecryptionError
    assert drawn == [32, 32, 32]


# -- ECDH-ES: the epk is read per message; keys are prepared per curve -------------------------


def _ecdh_direct_token(recipient: ECKey, epk: Mapping[str, Any], public: Any) -> str:
    """An ECDH-ES + A128GCM token for ``recipient`` whose header carries ``epk`` verbatim;
    ``public`` is the point ``epk`` stands for (Z is symmetric: the recipient computes it)."""
    private = recipient.crypto_private_key
    assert private is not None
    z = private.exchange(ec.ECDH(), public)
    cek = concat_kdf(z, "A128GCM", b"", b"", 16)
    segment = b64url_encode(json_dumps({"alg": "ECDH-ES", "enc": "A128GCM", "epk": dict(epk)}))
    iv = bytes(range(12))
    sealed = AESGCM(cek).encrypt(iv, PLAINTEXT, segment.encode("ascii"))
    return ".".join(
        [segment, "", b64url_encode(iv), b64url_encode(sealed[:-16]), b64url_encode(sealed[-16:])]
    )


def _p256_point_with_small_x() -> tuple[int, int]:
    """A P-256 point whose x is small enough that x + p still fits in 32 bytes."""
    for x in range(1, 1000):  # pragma: no branch - x = 5 works
        rhs = (x**3 - 3 * x + P256_B) % P256_P
        y = pow(rhs, (P256_P + 1) // 4, P256_P)  # p = 3 (mod 4)
        if y * y % P256_P == rhs:
            return x, y
    raise AssertionError("unreachable")  # pragma: no cover


def _epk_variants(valid: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "missing", None
    yield "a string", "epk"
    yield "without x", {k: v for k, v in valid.items() if k != "x"}
    yield "crv not a string", {**valid, "crv": 256}
    yield "x not a string", {**valid, "x": 5}
    yield "y not a string", {**valid, "y": None}
    yield "x too short", {**valid, "x": b64url_encode(bytes(31))}
    yield "x not base64url", {**valid, "x": "!" + valid["x"][1:]}
    yield "off the curve", {**valid, "y": b64url_encode(bytes(31) + b"\1")}
    yield "with d", {**valid, "d": valid["x"]}
    yield "another curve", ECKey.generate(crv="P-384").public_key().to_jwk()
    yield "an X25519 key", OKPKey.generate(crv="X25519").public_key().to_jwk()
    yield "an OKP key of the wrong length", {"kty": "OKP", "crv": "X25519", "x": "AAAA"}
    yield "an oct key", {"kty": "oct", "k": valid["x"]}
    yield "kty not a string", {**valid, "kty": ["EC"]}


def test_a_warm_ecdh_decrypter_reads_every_epk_as_the_full_path() -> None:
    recipient = ECKey.generate(crv="P-256")
    decrypter, oracle = _pair(recipient, "ECDH-ES", "A128GCM")
    warm = jwe.encrypt(PLAINTEXT, recipient.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    decrypter.decrypt(warm)
    assert decrypter._agreements
    valid = json.loads(b64url_decode(_segments(warm)[0]))["epk"]
    seen = set()
    for name, epk in _epk_variants(valid):
        header: dict[str, Any] = {"alg": "ECDH-ES", "enc": "A128GCM"}
        if epk is not None:
            header["epk"] = epk
        token = _with(warm, 0, b64url_encode(json_dumps(header)))
        outcome = _assert_same(decrypter, oracle, token)
        assert outcome[0] == "error", name
        seen.add(outcome[1])
    assert seen == {MalformedToken, InvalidKey}


def test_epk_forms_the_lean_reader_leaves_to_the_full_parser_still_decrypt() -> None:
    recipient = ECKey.generate(crv="P-256")
    decrypter, oracle = _pair(recipient, "ECDH-ES", "A128GCM")
    decrypter.decrypt(
        jwe.encrypt(PLAINTEXT, recipient.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    )
    ephemeral = ECKey.generate(crv="P-256").public_key()
    extra = {**ephemeral.to_jwk(), "kid": "ephemeral"}
    x, y = _p256_point_with_small_x()
    point = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    # x + p names the same point; the full parser (Key.from_jwk) reduces it, the lean reader
    # (from_encoded_point) refuses it and hands it over.
    unreduced = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode((x + P256_P).to_bytes(32, "big")),
        "y": b64url_encode(y.to_bytes(32, "big")),
    }
    for epk, public in ((extra, ephemeral.crypto_public_key), (unreduced, point)):
        token = _ecdh_direct_token(recipient, epk, public)
        assert _assert_same(decrypter, oracle, token)[2] == PLAINTEXT


def test_a_warm_ecdh_decrypter_refuses_apu_ek_and_low_order_points_as_the_full_path() -> None:
    key = OKPKey.generate(crv="X25519")
    decrypter, oracle = _pair(key, "ECDH-ES", "A128GCM")
    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    decrypter.decrypt(token)
    header = json.loads(b64url_decode(_segments(token)[0]))
    low_order = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(32))}
    cases = [
        _with(token, 0, b64url_encode(json_dumps({**header, "apu": 5}))),
        _with(token, 0, b64url_encode(json_dumps({**header, "apv": "*"}))),
        _with(token, 1, "AAAA"),
        _with(token, 0, b64url_encode(json_dumps({**header, "epk": low_order}))),
    ]
    outcomes = [_assert_same(decrypter, oracle, case)[1] for case in cases]
    assert outcomes == [MalformedToken, MalformedToken, MalformedToken, DecryptionError]


def test_an_ecdh_plan_is_per_kid_and_tries_its_keys_in_order() -> None:
    first, second = ECKey.generate(crv="P-256"), ECKey.generate(crv="P-256")
    decrypter = jwe.Decrypter(
        [first, second], algorithms=["ECDH-ES+A128KW"], encryptions=["A128GCM"]
    )
    for key in (second, first, second):
        token = jwe.encrypt(
            PLAINTEXT, key.public_key(), algorithm="ECDH-ES+A128KW", encryption="A128GCM"
        )
        assert decrypter.decrypt(token).key is key
    assert len(decrypter._agreements) == 1
    named = ECKey.generate(crv="P-256", kid="n1")
    decrypter = jwe.Decrypter(
        KeySet([first, named]), algorithms=["ECDH-ES+A128KW"], encryptions=["A128GCM"]
    )
    token = jwe.encrypt(
        PLAINTEXT, named.public_key(), algorithm="ECDH-ES+A128KW", encryption="A128GCM"
    )
    assert decrypter.decrypt(token).key is named
    assert decrypter.decrypt(token).key is named
    with pytest.raises(DecryptionError):
        decrypter.decrypt(
            jwe.encrypt(
                PLAINTEXT,
                ECKey.generate(crv="P-256").public_key(),
                algorithm="ECDH-ES+A128KW",
                encryption="A128GCM",
            )
        )


def test_a_public_ecdh_key_is_not_prepared() -> None:
    assert _jwa_keymgmt._exchange(ECKey.generate(crv="P-256").public_key()) is None
    assert _jwa_keymgmt._exchange(OctKey(SECRET)) is None
    assert _jwa_keymgmt._exchange(OKPKey.generate(crv="X448")) is not None


# -- what is cached, and when -----------------------------------------------------------------


def test_nothing_is_cached_before_a_token_decrypts() -> None:
    key = OctKey(SECRET)
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption="A256GCM")
    decrypter = jwe.Decrypter(key, algorithms=["A256KW"], encryptions=["A256GCM"])
    for _, mutated in _mutations(token):
        with pytest.raises(JWTError):
            decrypter.decrypt(mutated)
    with pytest.raises(DecryptionError):
        decrypter.decrypt(
            jwe.encrypt(PLAINTEXT, OctKey(bytes(32)), algorithm="A256KW", encryption="A256GCM")
        )
    assert not decrypter._cache
    decrypter.decrypt(token)
    assert list(decrypter._cache) == [_segments(token)[0]]


def test_the_header_cache_is_bounded_oldest_first() -> None:
    key = OctKey(SECRET)
    decrypter = jwe.Decrypter(
        key, algorithms=["A256KW"], encryptions=["A256GCM"], header_cache_size=2
    )
    tokens = [
        jwe.encrypt(
            PLAINTEXT, key, algorithm="A256KW", encryption="A256GCM", headers={"cty": f"type-{n}"}
        )
        for n in range(3)
    ]
    for token in (*tokens, tokens[2]):
        assert (
            decrypter.decrypt(token).header["cty"]
            == json.loads(b64url_decode(_segments(token)[0]))["cty"]
        )
    assert list(decrypter._cache) == [_segments(tokens[1])[0], _segments(tokens[2])[0]]


@pytest.mark.parametrize(
    ("alg", "headers"),
    [("A128GCMKW", None), ("PBES2-HS256+A128KW", {"p2c": 1000}), ("ECDH-ES", None)],
)
def test_headers_with_per_message_parameters_are_not_cached(
    alg: str, headers: dict[str, Any] | None
) -> None:
    key = decryption_key(alg)
    decrypter = jwe.Decrypter(key, algorithms=[alg], encryptions=["A128GCM"], registry=OPT_IN)
    token = jwe.encrypt(
        PLAINTEXT,
        encryption_key(alg),
        algorithm=alg,
        encryption="A128GCM",
        headers=headers,
        registry=OPT_IN,
    )
    for _ in range(2):
        assert decrypter.decrypt(token).plaintext == PLAINTEXT
    assert not decrypter._cache


def test_long_headers_decrypt_but_are_not_cached() -> None:
    key = OctKey(SECRET)
    decrypter = jwe.Decrypter(key, algorithms=["dir"], encryptions=["A256GCM"])
    token = jwe.encrypt(
        PLAINTEXT, key, algorithm="dir", encryption="A256GCM", headers={"cty": "x" * 1000}
    )
    assert len(_segments(token)[0]) > _jwe._MAX_CACHED_HEADER
    for _ in range(2):
        assert decrypter.decrypt(token).plaintext == PLAINTEXT
    assert not decrypter._cache


def test_header_cache_size_zero_and_key_resolvers_cache_nothing() -> None:
    key = OctKey(SECRET)
    token = jwe.encrypt(PLAINTEXT, key, algorithm="dir", encryption="A256GCM")
    calls: list[Mapping[str, Any]] = []

    def resolver(header: Mapping[str, Any]) -> Key:
        calls.append(header)
        return key

    for decrypter in (
        jwe.Decrypter(key, algorithms=["dir"], encryptions=["A256GCM"], header_cache_size=0),
        jwe.Decrypter(resolver, algorithms=["dir"], encryptions=["A256GCM"]),
    ):
        for _ in range(2):
            assert decrypter.decrypt(token).key is key
        assert not decrypter._cache
    assert len(calls) == 2  # the resolver is asked for every token
    for _ in range(2):
        jwe.decrypt(token, resolver, algorithms=["dir"], encryptions=["A256GCM"])
    assert len(calls) == 4


@pytest.mark.parametrize("size", [-1, 1.5, True, None])
def test_header_cache_size_must_be_a_non_negative_integer(size: Any) -> None:
    with pytest.raises(UsageError, match="header_cache_size"):
        jwe.Decrypter(SECRET, algorithms=["dir"], encryptions=["A256GCM"], header_cache_size=size)


def test_the_results_header_is_the_callers_own_copy() -> None:
    key = OctKey(SECRET)
    decrypter = jwe.Decrypter(key, algorithms=["dir"], encryptions=["A256GCM"], crit=["exp"])
    flat = jwe.encrypt(
        PLAINTEXT, key, algorithm="dir", encryption="A256GCM", headers={"cty": "text/plain"}
    )
    nested = jwe.encrypt(
        PLAINTEXT,
        key,
        algorithm="dir",
        encryption="A256GCM",
        headers={"crit": ["exp"], "exp": {"list": [1, 2]}},
    )
    for token in (flat, nested):
        first = decrypter.decrypt(token)
        expected = json.loads(json.dumps(first.header))
        first.header["cty"] = "changed"
        if "exp" in first.header:
            first.header["exp"]["list"].append(3)
            first.header["crit"].append("other")
        for _ in range(2):
            assert decrypter.decrypt(token).header == expected


# -- key providers: keys that change -----------------------------------------------------------


class _Rotating:
    """A key provider (as ``jwtkit.remote.JWKSClient``): the same KeySet until it rotates."""

    def __init__(self, *keys: Key) -> None:
        self.keyset = KeySet(keys)
        self.calls = 0

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        return self.keyset


def test_a_rotated_provider_key_set_is_never_served_from_the_cache() -> None:
    old, new = OctKey(bytes(32)), OctKey(SECRET)
    provider = _Rotating(old)
    decrypter = jwe.Decrypter(provider, algorithms=["dir"], encryptions=["A256GCM"])
    old_token = jwe.encrypt(PLAINTEXT, old, algorithm="dir", encryption="A256GCM")
    new_token = jwe.encrypt(PLAINTEXT, new, algorithm="dir", encryption="A256GCM")
    assert _segments(old_token)[0] == _segments(new_token)[0]
    for _ in range(2):
        assert decrypter.decrypt(old_token).key is old
    with pytest.raises(DecryptionError):
        decrypter.decrypt(new_token)
    provider.keyset = KeySet([new])
    with pytest.raises(DecryptionError):
        decrypter.decrypt(old_token)
    for _ in range(2):
        assert decrypter.decrypt(new_token).key is new
    kwargs: dict[str, Any] = {"algorithms": ["dir"], "encryptions": ["A256GCM"]}
    for _ in range(2):  # the one-shot function shares a Decrypter for the same provider
        assert jwe.decrypt(new_token, provider, **kwargs).key is new
    provider.keyset = KeySet([old])
    assert jwe.decrypt(old_token, provider, **kwargs).key is old
    with pytest.raises(DecryptionError):
        jwe.decrypt(new_token, provider, **kwargs)


def test_a_rotated_provider_key_set_is_never_used_from_an_ecdh_plan() -> None:
    old, new = ECKey.generate(crv="P-256"), ECKey.generate(crv="P-256")
    provider = _Rotating(old)
    decrypter = jwe.Decrypter(provider, algorithms=["ECDH-ES"], encryptions=["A128GCM"])

    def token(key: ECKey) -> str:
        return jwe.encrypt(PLAINTEXT, key.public_key(), algorithm="ECDH-ES", encryption="A128GCM")

    for _ in range(2):
        assert decrypter.decrypt(token(old)).key is old
    provider.keyset = KeySet([new])
    with pytest.raises(DecryptionError):
        decrypter.decrypt(token(old))
    for _ in range(2):
        assert decrypter.decrypt(token(new)).key is new


# -- separate Decrypters, and the one-shot memo -------------------------------------------------


def test_another_key_or_allow_list_is_not_served_from_another_decrypters_cache() -> None:
    key, other = OctKey(SECRET), OctKey(bytes(32))
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption="A256GCM")
    warm = jwe.Decrypter(key, algorithms=["A256KW"], encryptions=["A256GCM"])
    assert warm.decrypt(token).plaintext == PLAINTEXT
    with pytest.raises(DecryptionError):
        jwe.Decrypter(other, algorithms=["A256KW"], encryptions=["A256GCM"]).decrypt(token)
    with pytest.raises(AlgorithmNotAllowed, match="algorithm 'A256KW'"):
        jwe.Decrypter(key, algorithms=["A128KW"], encryptions=["A256GCM"]).decrypt(token)
    with pytest.raises(AlgorithmNotAllowed, match="encryption 'A256GCM'"):
        jwe.Decrypter(key, algorithms=["A256KW"], encryptions=["A128GCM"]).decrypt(token)


def test_one_shot_calls_with_other_arguments_get_other_decrypters() -> None:
    key, other = OctKey(SECRET), OctKey(bytes(32))
    token = jwe.encrypt(b"a" * 500, key, algorithm="A256KW", encryption="A256GCM", compress=True)
    kwargs: dict[str, Any] = {"algorithms": ["A256KW"], "encryptions": ["A256GCM"]}
    for _ in range(2):
        assert jwe.decrypt(token, key, **kwargs).plaintext == b"a" * 500
    with pytest.raises(DecryptionError):
        jwe.decrypt(token, other, **kwargs)
    with pytest.raises(DecryptionError):
        jwe.decrypt(token, [other], **kwargs)
    with pytest.raises(DecryptionError):
        jwe.decrypt(token, bytes(32), **kwargs)
    with pytest.raises(AlgorithmNotAllowed):
        jwe.decrypt(token, key, algorithms=["A128KW"], encryptions=["A256GCM"])
    with pytest.raises(AlgorithmNotAllowed):
        jwe.decrypt(token, key, algorithms=("A256KW",), encryptions=("A128GCM",))
    with pytest.raises(TokenTooLarge):
        jwe.decrypt(token, key, max_decompressed_size=100, **kwargs)
    with pytest.raises(TokenTooLarge):
        jwe.decrypt(token, key, max_token_size=100, **kwargs)
    with pytest.raises(UsageError, match="not a supported algorithm"):
        jwe.decrypt(token, key, registry=Registry([]), **kwargs)
    crit_token = jwe.encrypt(
        PLAINTEXT,
        key,
        algorithm="A256KW",
        encryption="A256GCM",
        headers={"crit": ["exp"], "exp": 1},
    )
    assert jwe.decrypt(crit_token, key, crit=["exp"], **kwargs).plaintext == PLAINTEXT
    with pytest.raises(JWTError, match="crit"):
        jwe.decrypt(crit_token, key, **kwargs)
    assert jwe.decrypt(token, key, **kwargs).plaintext == b"a" * 500


def test_one_shot_results_report_the_callers_own_key_object() -> None:
    first, equal = OctKey(SECRET), OctKey(SECRET)
    assert first == equal
    assert first is not equal
    token = jwe.encrypt(PLAINTEXT, first, algorithm="dir", encryption="A256GCM")
    kwargs: dict[str, Any] = {"algorithms": ["dir"], "encryptions": ["A256GCM"]}
    for key in (first, equal, first, equal):
        assert jwe.decrypt(token, key, **kwargs).key is key
    keys = [OctKey(bytes(32)), equal]
    assert jwe.decrypt(token, keys, **kwargs).key is equal
    assert jwe.decrypt(token, tuple(keys), **kwargs).key is equal
    keyset = KeySet(keys)
    assert jwe.decrypt(token, keyset, **kwargs).key is equal
    assert jwe.decrypt(token, SECRET, **kwargs).key == first


@pytest.mark.parametrize(
    ("algorithms", "crit"),
    [
        ((name for name in ["dir"]), ["exp"]),  # a generator: read once, never a memo key
        ({"dir"}, ["exp"]),
        (("dir",), {"exp"}),
        (["dir"], frozenset({"exp"})),
        (["dir"], ["exp", 5]),  # not all names: no memo key either
        (["dir"], "exp"),  # a string is read as decrypt always read it
    ],
)
def test_one_shot_takes_every_kind_of_collection_of_names(algorithms: Any, crit: Any) -> None:
    key = OctKey(SECRET)
    token = jwe.encrypt(
        PLAINTEXT, key, algorithm="dir", encryption="A256GCM", headers={"crit": ["exp"], "exp": 1}
    )
    assert (
        jwe.decrypt(token, key, algorithms=algorithms, encryptions=["A256GCM"], crit=crit).plaintext
        == PLAINTEXT
    )


@pytest.mark.parametrize("key", [[OctKey(SECRET), SECRET], [SECRET]])
def test_one_shot_key_lists_with_secrets_decrypt_through_the_bounded_memo(key: Any) -> None:
    token = jwe.encrypt(PLAINTEXT, OctKey(SECRET), algorithm="dir", encryption="A256GCM")
    before = len(_jwe._SHARED_DECRYPTERS)
    for _ in range(2):
        assert jwe.decrypt(token, key, algorithms=["dir"], encryptions=["A256GCM"]).plaintext == (
            PLAINTEXT
        )
    assert len(_jwe._SHARED_DECRYPTERS) <= max(before, _jwe._SHARED_DECRYPTERS.maximum)


def test_one_shot_allow_list_elements_must_be_exact_strings() -> None:
    class Name(str):
        __slots__ = ()

    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    assert jwe.decrypt(token, SECRET, algorithms=["dir"], encryptions=["A256GCM"]).plaintext
    with pytest.raises(UsageError, match="expected names"):
        jwe.decrypt(token, SECRET, algorithms=[Name("dir")], encryptions=["A256GCM"])


def test_the_one_shot_memo_is_bounded() -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    key = OctKey(SECRET)
    for size in range(_jwe._SHARED_DECRYPTERS.maximum + 5):
        jwe.decrypt(
            token, key, algorithms=["dir"], encryptions=["A256GCM"], max_decompressed_size=size
        )
        assert len(_jwe._SHARED_DECRYPTERS) <= _jwe._SHARED_DECRYPTERS.maximum


def test_crit_must_be_a_collection() -> None:
    with pytest.raises(UsageError, match="crit must be a collection"):
        jwe.Decrypter(SECRET, algorithms=["dir"], encryptions=["A256GCM"], crit=5)  # type: ignore[arg-type]


def test_construction_checks_the_arguments_once() -> None:
    with pytest.raises(UsageError, match="algorithms is required"):
        jwe.Decrypter(SECRET, algorithms=None, encryptions=["A256GCM"])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not enabled"):
        jwe.Decrypter(SECRET, algorithms=["RSA1_5"], encryptions=["A256GCM"])
    with pytest.raises(UsageError, match="max_pbes2_count"):
        jwe.Decrypter(SECRET, algorithms=["dir"], encryptions=["A256GCM"], max_pbes2_count=-1)
    with pytest.raises(UsageError, match="key"):
        jwe.Decrypter(5, algorithms=["dir"], encryptions=["A256GCM"])  # type: ignore[arg-type]


# -- threads ------------------------------------------------------------------------------------


def test_a_decrypter_is_safe_to_share_between_threads() -> None:
    key = OctKey(SECRET)
    ec_key = ECKey.generate(crv="P-256")
    keys = KeySet([key, ec_key])
    # More headers than cache entries, so that threads evict each other's entries too.
    tokens = [
        (
            jwe.encrypt(
                f"message {n}".encode(),
                key,
                algorithm=alg,
                encryption="A256GCM",
                headers={"cty": f"t{n % 6}"},
                compress=n % 2 == 0,
            ),
            f"message {n}".encode(),
        )
        for n in range(24)
        for alg in ("dir", "A256KW")
    ]
    tokens += [
        (
            jwe.encrypt(
                PLAINTEXT, ec_key.public_key(), algorithm="ECDH-ES+A256KW", encryption="A256GCM"
            ),
            PLAINTEXT,
        )
        for _ in range(4)
    ]
    bad = [_with(token, 4, b64url_encode(bytes(16))) for token, _ in tokens[:6]]
    decrypter = jwe.Decrypter(
        keys,
        algorithms=["dir", "A256KW", "ECDH-ES+A256KW"],
        encryptions=["A256GCM"],
        header_cache_size=4,
    )
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def work(offset: int) -> None:
        try:
            start.wait()
            for round_ in range(15):
                for index in range(len(tokens)):
                    token, expected = tokens[(index + offset + round_) % len(tokens)]
                    result = decrypter.decrypt(token)
                    assert result.plaintext == expected
                    assert result.key is (ec_key if "ECDH" in result.algorithm else key)
                for token in bad:
                    with pytest.raises(DecryptionError):
                        decrypter.decrypt(token)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(decrypter._cache) <= 4


def test_a_warm_rsa_oaep_decrypter_refuses_a_cek_of_the_wrong_length() -> None:
    key = rsa_key()
    decrypter, oracle = _pair(key, "RSA-OAEP-256", "A256GCM")
    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm="RSA-OAEP-256", encryption="A256GCM")
    decrypter.decrypt(token)
    oaep = _jwa_keymgmt.RSAOAEP("RSA-OAEP-256", "SHA256")._padding()
    short_cek = key.crypto_public_key.encrypt(bytes(16), oaep)  # A128GCM's size, not A256GCM's
    outcome = _assert_same(decrypter, oracle, _with(token, 1, b64url_encode(short_cek)))
    assert outcome[1:] == (DecryptionError, "decryption failed")


def test_nested_jwt_decoding_shares_the_prepared_decryption() -> None:
    recipient, signer = OctKey(SECRET), OctKey(bytes(range(1, 33)))
    token = jwtkit.encode(
        {"sub": "1"}, signer, algorithm="HS256", encrypt_with=recipient,
        encryption_algorithm="A256KW", content_encryption="A256GCM",
    )  # fmt: skip
    kwargs: dict[str, Any] = {
        "algorithms": ["HS256"],
        "decryption_key": recipient,
        "decryption_algorithms": ["A256KW"],
        "content_encryptions": ["A256GCM"],
    }
    for _ in range(2):
        assert jwtkit.decode(token, signer, **kwargs) == {"sub": "1"}
    segment = _segments(token)[0]
    warm = [d for d in _jwe._SHARED_DECRYPTERS.values() if segment in d._cache]
    assert len(warm) == 1
