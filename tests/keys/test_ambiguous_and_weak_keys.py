"""Keys that are ambiguous or weak (docs/security.md, rows F1 and F3).

* Two trusted keys under one ``kid`` that both fit the token's algorithm are ambiguous: a token
  naming that ``kid`` is refused (``AmbiguousKey``), never verified by whichever comes first.
  One ``kid`` for keys of different types stays legal (RFC 7517 §4.5, RFC 7520 does it).
* A key set that mixes secret (``oct``) keys with asymmetric keys is refused unless the caller
  passes ``allow_mixed=True``: a published set holding a secret is a leak, and a mixed set
  invites algorithm confusion (RFC 8725 §2.1, §3.1; security matrix A2).
* RSA keys with the ROCA fingerprint (CVE-2017-15361) are refused at import, with no opt-out.
"""

# ruff: noqa: N802 - the test names carry the row name (F3) in upper case

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import jwtkit
from jwtkit import jwe, jws, jwt
from jwtkit._codec import b64url_encode
from jwtkit._keys.rsa_key import has_roca_fingerprint
from jwtkit.errors import AmbiguousKey, InvalidKey, KeyNotFound
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, RSAKey

FIRST = OctKey(bytes(range(32)), kid="shared")
SECOND = OctKey(bytes(range(1, 33)), kid="shared")


# -- one kid, two keys that fit ---------------------------------------------------------------


KeyArg = Callable[[list[Key]], Any]
KEY_ARGUMENTS: list[Any] = [
    pytest.param(KeySet, id="KeySet"),
    pytest.param(list, id="list"),
    pytest.param(tuple, id="tuple"),
    pytest.param(
        lambda keys: KeySet.from_jwks({"keys": [k.to_jwk(True) for k in keys]}), id="jwks"
    ),
    pytest.param(lambda keys: lambda header: KeySet(keys), id="resolver"),
]


@pytest.mark.parametrize("as_argument", KEY_ARGUMENTS)
def test_F3_a_kid_naming_two_fitting_keys_is_refused(as_argument: KeyArg) -> None:
    for signer in (FIRST, SECOND):
        token = jwt.encode({"sub": "1"}, signer, "HS256")
        with pytest.raises(AmbiguousKey, match="kid 'shared' names 2 trusted keys that fit HS256"):
            jwt.decode(token, as_argument([FIRST, SECOND]), algorithms=["HS256"])
        verifier = jwt.Verifier(as_argument([FIRST, SECOND]), algorithms=["HS256"])
        for _ in range(2):
            with pytest.raises(AmbiguousKey):
                verifier.decode(token)
        with pytest.raises(AmbiguousKey):
            jws.verify(jws.sign(b"x", signer, "HS256"), as_argument([FIRST, SECOND]), ["HS256"])


def test_F3_ambiguity_is_a_key_not_found_with_its_own_code() -> None:
    assert issubclass(AmbiguousKey, KeyNotFound)
    assert AmbiguousKey.code == "ambiguous_key"


def test_F3_ambiguous_kid_in_jwe_and_jws_json_is_refused() -> None:
    first = OctKey(bytes(range(32)), kid="shared")
    second = OctKey(bytes(range(1, 33)), kid="shared")
    token = jwe.encrypt(b"x", second, algorithm="A256KW", encryption="A256GCM")
    with pytest.raises(AmbiguousKey):
        jwe.decrypt(token, [first, second], algorithms=["A256KW"], encryptions=["A256GCM"])
    document = jws.sign_json(b"x", [jws.Signer(second, "HS256")])
    with pytest.raises(AmbiguousKey):
        jws.verify_json(document, [first, second], ["HS256"])


def test_F3_one_kid_for_keys_of_different_types_is_not_ambiguous() -> None:
    ec_key = Key.generate("ES256", kid="shared")
    oct_key = OctKey(bytes(range(32)), kid="shared")
    keys = KeySet([ec_key.public_key(), oct_key], allow_mixed=True)
    token = jwt.encode({"sub": "1"}, ec_key, "ES256")
    assert jwt.decode_complete(token, keys, algorithms=["ES256", "HS256"]).key is keys[0]
    token = jwt.encode({"sub": "1"}, oct_key, "HS256")
    assert jwt.decode_complete(token, keys, algorithms=["ES256", "HS256"]).key is oct_key


def test_F3_the_same_key_listed_twice_is_not_ambiguous() -> None:
    copy = OctKey(FIRST.secret, kid="shared")
    token = jwt.encode({"sub": "1"}, FIRST, "HS256")
    assert jwt.decode(token, [FIRST, copy], algorithms=["HS256"]) == {"sub": "1"}


def test_F3_two_keys_without_a_kid_for_a_token_without_one_are_both_tried() -> None:
    first, second = OctKey(bytes(range(32))), OctKey(bytes(range(1, 33)))
    token = jwt.encode({"sub": "1"}, second, "HS256")
    assert jwt.decode_complete(token, [first, second], algorithms=["HS256"]).key is second


# -- secret keys and asymmetric keys in one set -----------------------------------------------


def _mixed() -> list[Key]:
    return [Key.generate("ES256", kid="ec").public_key(), OctKey(bytes(range(32)), kid="hs")]


def test_A2_a_set_mixing_secret_and_public_keys_needs_allow_mixed() -> None:
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        KeySet(_mixed())
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        KeySet(reversed(_mixed()))
    assert len(KeySet(_mixed(), allow_mixed=True)) == 2


def test_A2_a_published_set_holding_a_secret_keeps_only_its_public_keys() -> None:
    members = [key.to_jwk(private=key.kty == "oct") for key in _mixed()]
    jwks = {"keys": [members[1], {"kty": "nope"}, members[0], members[1]]}
    for document in (jwks, json.dumps(jwks)):
        keys = KeySet.from_jwks(document)
        assert [key.kid for key in keys] == ["ec"]
        assert [(entry.index, entry.kid) for entry in keys.skipped] == [
            (0, "hs"),
            (1, None),
            (3, "hs"),
        ]
        assert "allow_mixed=True" in keys.skipped[0].reason
    assert [key.kid for key in KeySet.from_jwks(jwks, allow_mixed=True)] == ["hs", "ec", "hs"]


def test_A2_own_secrets_beside_private_keys_need_no_opt_in() -> None:
    keyring = KeySet([Key.generate("RSA-OAEP-256"), OctKey(bytes(range(16)), alg="A128KW")])
    assert len(keyring) == 2
    jwks = keyring.to_jwks(private=True)
    assert len(KeySet.from_jwks(jwks)) == 2


def test_A2_a_mixed_list_given_as_key_is_refused() -> None:
    mixed = _mixed()
    token = jwt.encode({"sub": "1"}, mixed[1], "HS256")
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jwt.decode(token, mixed, algorithms=["HS256", "ES256"])
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jwt.Verifier(mixed, algorithms=["HS256", "ES256"])
    secret = mixed[1]
    assert isinstance(secret, OctKey)
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jwt.decode(token, [mixed[0], secret.secret], algorithms=["HS256", "ES256"])  # type: ignore[list-item]
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jwe.decrypt(token, mixed, algorithms=["dir"], encryptions=["A256GCM"])
    opted_in = KeySet(mixed, allow_mixed=True)
    assert jwt.decode(token, opted_in, algorithms=["HS256", "ES256"]) == {"sub": "1"}


def test_A2_a_resolver_returning_a_mixed_set_must_opt_in_too() -> None:
    mixed = _mixed()
    token = jwt.encode({"sub": "1"}, mixed[1], "HS256")

    def resolve(header: Mapping[str, Any]) -> KeySet:
        return KeySet(mixed)

    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jwt.decode(token, resolve, algorithms=["HS256"])


def test_A2_sets_of_one_kind_need_no_opt_in() -> None:
    assert len(KeySet([OctKey(bytes(range(32))), OctKey(bytes(range(1, 33)))])) == 2
    assert len(KeySet([Key.generate("ES256"), Key.generate("EdDSA")])) == 2
    assert len(KeySet([])) == 0


def test_A2_dir_keys_in_an_opted_in_mixed_set_still_decrypt() -> None:
    dir_key = OctKey(bytes(range(16)), alg="A128GCM", kid="d")
    rsa_key = Key.generate("RS256", kid="r").public_key()
    keys = KeySet([dir_key, rsa_key], allow_mixed=True)
    token = jwe.encrypt(b"x", OctKey(bytes(range(16))), algorithm="dir", encryption="A128GCM")
    result = jwe.decrypt(token, keys, algorithms=["dir"], encryptions=["A128GCM"])
    assert result.key is dir_key


# -- ROCA (CVE-2017-15361) ---------------------------------------------------------------------

# A 2048-bit modulus generated by a vulnerable Infineon library: roca/tests/data/mod03.txt of
# the ROCA detection tool, https://github.com/crocs-muni/roca (MIT licence), one of its
# positive samples.
ROCA_MODULUS = int(
    "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc73"
    "32e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf"
    "68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da"
    "7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd8"
    "86ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f"
    "5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11",
    16,
)
# roca/tests/data/pubkey03.pem of the same tool: a 2049-bit positive sample, as SPKI PEM.
ROCA_PEM = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEBqcWmh9uPsqMPgt/43aFU
wpHvJ7BLJeGFuKsgxMal9gSFn+We3lSgr3wOcoiACtcZO7cxpb8eEXDXocZpMNQe
o+sh3t97ivXUKpHDT3IEW5bv1XyxgjAd3MJpZ+VQjpq4iZhtV+g33+cPmfw3xJj0
PBfDubBkz3BEQ9egM+A6ghaXqr8w+ynufTOzdnllqJBY47OXVL06HAB9KKI7DPp5
+dcRrG5MS093sGNLHs1oWRrwPH1TtipfLZEWPU70+PJoMa5GHthexfeIxRI//BLI
dCD9z+odG0pSw1IYJPs5mDSHObYqmG2OdrIom8Lri8BtE4FHhRuDoHGD0hBVn5Bj
IQIDAQAB
-----END PUBLIC KEY-----
"""


def _roca_jwk() -> dict[str, str]:
    n = ROCA_MODULUS.to_bytes((ROCA_MODULUS.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "n": b64url_encode(n), "e": "AQAB", "kid": "roca"}


def test_F1_roca_fingerprint_is_detected_on_the_published_samples() -> None:
    assert ROCA_MODULUS.bit_length() == 2048
    assert has_roca_fingerprint(ROCA_MODULUS)
    public = serialization.load_pem_public_key(ROCA_PEM)
    assert isinstance(public, rsa.RSAPublicKey)
    assert has_roca_fingerprint(public.public_numbers().n)


def test_F1_cve_2017_15361_roca_keys_are_refused_at_import() -> None:
    message = "ROCA fingerprint"
    for allow_weak in (False, True):
        with pytest.raises(InvalidKey, match=message):
            Key.from_jwk(_roca_jwk(), allow_weak=allow_weak)
        with pytest.raises(InvalidKey, match=message):
            Key.from_pem(ROCA_PEM, allow_weak=allow_weak)
        with pytest.raises(InvalidKey, match=message):
            Key.from_der(
                serialization.load_pem_public_key(ROCA_PEM).public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.PKCS1
                ),
                allow_weak=allow_weak,
            )
        public = rsa.RSAPublicNumbers(65537, ROCA_MODULUS).public_key()
        with pytest.raises(InvalidKey, match=message):
            Key.from_cryptography(public, allow_weak=allow_weak)
        with pytest.raises(InvalidKey, match=message):
            RSAKey(public, allow_weak=allow_weak)
    with pytest.raises(InvalidKey, match=message):
        jwt.decode("a.b.c", ROCA_PEM.decode(), algorithms=["RS256"])
    keys = KeySet.from_jwks({"keys": [_roca_jwk(), Key.generate("ES256").public_key().to_jwk()]})
    assert [key.kty for key in keys] == ["EC"]
    assert keys.skipped[0].kid == "roca"
    assert "ROCA" in keys.skipped[0].reason


def test_F1_ordinary_rsa_keys_have_no_roca_fingerprint(rsa_private: rsa.RSAPrivateKey) -> None:
    for modulus in (rsa_private.public_key().public_numbers().n, ROCA_MODULUS + 2):
        assert not has_roca_fingerprint(modulus)
    key = Key.from_cryptography(rsa_private)
    assert isinstance(key, RSAKey)
    assert jwt.decode(jwt.encode({"a": 1}, key, "RS256"), key.public_key(), algorithms=["RS256"])
    assert isinstance(Key.generate("ES256"), ECKey)
    assert jwtkit.AmbiguousKey is AmbiguousKey
