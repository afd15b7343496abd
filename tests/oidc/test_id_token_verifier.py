"""``jwtkit.oidc.IDTokenVerifier``: OpenID Connect Core 1.0 §3.1.3.7, one test per refusal.

Time is a FrozenClock (or ``now=``); tokens are made here with ``jwtkit.encode`` as a provider
would. Tokens of the real token service: ``tests/server/test_relying_party.py``; of authlib:
``test_oidc_authlib.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypeVar

import pytest

import jwtkit
from jwtkit import errors
from jwtkit.oidc import ID_TOKEN_CLAIMS, IDTokenVerifier, token_hash
from jwtkit.testing import FrozenClock

ISSUER = "https://id.example"
CLIENT = "web"
T0 = 1_700_000_000
SECRET = "a client secret that is long enough for HS256 and HS384 too, surely"
ACCESS_TOKEN = "an-access-token"
CODE = "an-authorization-code"


@pytest.fixture(scope="module")
def rsa() -> jwtkit.Key:
    return jwtkit.RSAKey.generate("RS256", kid="r1")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "exp": T0 + 300,
        "iat": T0 - 10,
        "auth_time": T0 - 60,
        "nonce": "n-0S6_WzA2Mj",
        "azp": CLIENT,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def sign(key: jwtkit.Key | bytes, alg: str = "RS256", **changes: Any) -> str:
    return jwtkit.encode(claims(**changes), key, algorithm=alg)


def verifier(rsa: jwtkit.Key, clock: FrozenClock, **options: Any) -> IDTokenVerifier:
    return IDTokenVerifier(
        rsa.public_key(), issuer=ISSUER, client_id=CLIENT, clock=clock, **options
    )


# -- accepted ------------------------------------------------------------------------------


def test_an_id_token_with_every_binding_is_accepted(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(
        rsa,
        at_hash=token_hash(ACCESS_TOKEN, "RS256"),
        c_hash=token_hash(CODE, "RS256"),
        acr="urn:mace:incommon:iap:silver",
    )
    found = verifier(rsa, clock, acr_values={"urn:mace:incommon:iap:silver"}).decode(
        token, nonce="n-0S6_WzA2Mj", max_age=60, access_token=ACCESS_TOKEN, code=CODE
    )
    assert found == claims(
        at_hash=token_hash(ACCESS_TOKEN, "RS256"),
        c_hash=token_hash(CODE, "RS256"),
        acr="urn:mace:incommon:iap:silver",
    )


def test_what_the_request_did_not_send_is_not_checked(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    """No nonce sent: a nonce in the token is not compared (Core §3.1.3.7 step 11 binds only a
    sent one); no max_age: auth_time may be old or absent; at_hash is optional in the code
    flow (§3.1.3.8), so an access token without one in the token passes."""
    check = verifier(rsa, clock)
    assert check.decode(sign(rsa, auth_time=T0 - 86_400 * 30))["sub"] == "user-1"
    assert "auth_time" not in check.decode(sign(rsa, auth_time=None))
    assert "nonce" not in check.decode(sign(rsa, nonce=None))
    assert check.decode(sign(rsa), access_token=ACCESS_TOKEN)["sub"] == "user-1"
    assert check.client_id == CLIENT


def test_azp_may_be_absent_with_one_audience(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    check = verifier(rsa, clock)
    assert check.decode(sign(rsa, azp=None))["aud"] == CLIENT
    assert check.decode(sign(rsa, azp=None, aud=[CLIENT, CLIENT]))["aud"] == [CLIENT, CLIENT]
    several = sign(rsa, aud=[CLIENT, "https://api.example"])
    assert check.decode(several)["azp"] == CLIENT


def test_auth_time_within_max_age_and_leeway_passes(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(rsa, auth_time=T0 - 65)
    assert verifier(rsa, clock, leeway=5).decode(token, max_age=60)["auth_time"] == T0 - 65
    assert verifier(rsa, clock).decode(token, max_age=timedelta(minutes=2))["sub"] == "user-1"


def test_hs256_verifies_with_the_client_secret_given_explicitly(
    rsa: jwtkit.Key, clock: FrozenClock
) -> None:
    """Core §3.1.3.7 step 8 and §10.1: the UTF-8 octets of the client secret are the key."""
    secret = SECRET.encode("utf-8")
    mixed = verifier(rsa, clock, algorithms=["RS256", "HS256"], client_secret=SECRET)
    at_hash = token_hash(ACCESS_TOKEN, "HS256")
    assert mixed.decode(sign(secret, "HS256", at_hash=at_hash), access_token=ACCESS_TOKEN)
    assert mixed.decode(sign(rsa))["sub"] == "user-1"
    only = IDTokenVerifier(
        None, issuer=ISSUER, client_id=CLIENT, algorithms=["HS384"], client_secret=SECRET,
        clock=clock,
    )  # fmt: skip
    assert only.decode(sign(secret, "HS384"))["sub"] == "user-1"
    with pytest.raises(jwtkit.InvalidSignature):
        mixed.decode(sign(b"another secret, just as long as the client's one", "HS256"))
    with pytest.raises(jwtkit.AlgorithmNotAllowed):
        only.decode(sign(secret, "HS256"))


@pytest.mark.parametrize(
    ("alg", "crv"), [("EdDSA", "Ed25519"), ("EdDSA", "Ed448"), ("Ed448", None)]
)
def test_edwards_token_hashes_follow_the_verifying_key(
    alg: str, crv: str | None, clock: FrozenClock
) -> None:
    key = jwtkit.OKPKey.generate(alg, crv=crv, kid="e1")
    token = sign(key, alg, at_hash=token_hash(ACCESS_TOKEN, alg, key))
    check = IDTokenVerifier(
        key.public_key(), issuer=ISSUER, client_id=CLIENT, algorithms=[alg], clock=clock
    )
    assert check.decode(token, access_token=ACCESS_TOKEN)["sub"] == "user-1"
    # SHA-512 for Ed448 would be the wrong hash: the curve decides, not the name EdDSA.
    if crv == "Ed448":
        wrong = sign(key, alg, at_hash=token_hash(ACCESS_TOKEN, "RS512"))
        with pytest.raises(errors.InvalidTokenHash):
            check.decode(wrong, access_token=ACCESS_TOKEN)


class _Keys:
    """An async key provider, as AsyncJWKSClient is."""

    def __init__(self, key: jwtkit.Key) -> None:
        self.keys = jwtkit.KeySet([key.public_key()])
        self.calls = 0

    async def keyset_for_async(self, header: Mapping[str, Any]) -> jwtkit.KeySet:
        self.calls += 1
        return self.keys


@pytest.mark.anyio
async def test_adecode_awaits_an_async_key_provider(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    provider = _Keys(rsa)
    check = IDTokenVerifier(provider, issuer=ISSUER, client_id=CLIENT, clock=clock)
    token = sign(rsa)
    assert (await check.adecode(token, nonce="n-0S6_WzA2Mj"))["sub"] == "user-1"
    assert provider.calls == 1
    with pytest.raises(errors.InvalidNonce):
        await check.adecode(token, nonce="another")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- refused -------------------------------------------------------------------------------


E = TypeVar("E", bound=jwtkit.JWTError)


def _refused(check: IDTokenVerifier, token: str, error: type[E], **request: Any) -> E:
    with pytest.raises(error) as caught:
        check.decode(token, **request)
    assert ".ey" not in str(caught.value)  # no token in messages
    return caught.value


def test_a_wrong_nonce_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    found = _refused(verifier(rsa, clock), sign(rsa), errors.InvalidNonce, nonce="n-other")
    assert (found.code, found.claim, found.reason) == ("invalid_nonce", "nonce", "mismatch")
    assert "n-0S6_WzA2Mj" not in str(found)


def test_a_missing_nonce_is_refused_when_one_was_sent(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    found = _refused(verifier(rsa, clock), sign(rsa, nonce=None), errors.InvalidNonce, nonce="n")
    assert found.reason == "missing"


@pytest.mark.parametrize("sent", ["n-0S6_WzA2Mj", None])
def test_a_nonce_that_is_not_a_string_is_refused(
    rsa: jwtkit.Key, clock: FrozenClock, sent: str | None
) -> None:
    _refused(
        verifier(rsa, clock), sign(rsa, nonce=["n-0S6_WzA2Mj"]), errors.InvalidNonce, nonce=sent
    )


def test_a_wrong_audience_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(rsa, aud="another-client", azp="another-client")
    assert _refused(verifier(rsa, clock), token, jwtkit.InvalidAudience).claim == "aud"


def test_an_azp_of_another_client_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    for token in (sign(rsa, azp="another-client"), sign(rsa, aud=[CLIENT, "x"], azp="x")):
        found = _refused(verifier(rsa, clock), token, jwtkit.InvalidAudience)
        assert (found.claim, found.reason) == ("azp", "not this client")
    _refused(verifier(rsa, clock), sign(rsa, azp=7), jwtkit.InvalidAudience)


def test_several_audiences_without_azp_are_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(rsa, aud=[CLIENT, "https://api.example"], azp=None)
    found = _refused(verifier(rsa, clock), token, jwtkit.InvalidAudience)
    assert (found.claim, found.reason) == ("azp", "missing")


def test_an_expired_id_token_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(rsa)
    clock.advance(300)
    _refused(verifier(rsa, clock), token, jwtkit.ExpiredToken)
    assert verifier(rsa, clock, leeway=1).decode(token)["sub"] == "user-1"
    _refused(verifier(rsa, clock), token, jwtkit.ExpiredToken)
    assert verifier(rsa, clock).decode(token, now=T0)["sub"] == "user-1"


def test_an_id_token_issued_too_long_ago_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    found = _refused(verifier(rsa, clock, max_token_age=5), sign(rsa), jwtkit.ExpiredToken)
    assert found.claim == "iat"
    _refused(verifier(rsa, clock), sign(rsa, iat=T0 + 60), jwtkit.NotYetValid)


def test_auth_time_older_than_max_age_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    found = _refused(verifier(rsa, clock), sign(rsa), jwtkit.ExpiredToken, max_age=59)
    assert (found.claim, found.reason) == ("auth_time", "older than max_age")
    assert "authenticate again" in str(found)
    _refused(
        verifier(rsa, clock, leeway=4),
        sign(rsa, auth_time=T0 - 65),
        jwtkit.ExpiredToken,
        max_age=60,
    )


def test_a_missing_auth_time_is_refused_when_max_age_was_sent(
    rsa: jwtkit.Key, clock: FrozenClock
) -> None:
    token = sign(rsa, auth_time=None)
    assert (
        _refused(verifier(rsa, clock), token, jwtkit.MissingClaim, max_age=600).claim == "auth_time"
    )
    required = verifier(rsa, clock, require=["auth_time"])
    _refused(required, token, jwtkit.MissingClaim)


@pytest.mark.parametrize("value", ["1700000000", True, None, 1e300])
def test_an_auth_time_that_is_not_a_numeric_date_is_refused(
    rsa: jwtkit.Key, clock: FrozenClock, value: Any
) -> None:
    token = jwtkit.encode({**claims(), "auth_time": value}, rsa, algorithm="RS256")
    assert _refused(verifier(rsa, clock), token, jwtkit.ClaimError).claim == "auth_time"


def test_an_acr_not_allowed_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    check = verifier(rsa, clock, acr_values=["urn:example:mfa"])
    found = _refused(check, sign(rsa, acr="urn:example:password"), jwtkit.ClaimError)
    assert (found.code, found.claim, found.reason) == ("invalid_claim", "acr", "not accepted")
    assert _refused(check, sign(rsa), jwtkit.MissingClaim).claim == "acr"
    _refused(verifier(rsa, clock), sign(rsa, acr=2), jwtkit.ClaimError)


def test_a_bad_at_hash_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    token = sign(rsa, at_hash=token_hash("another access token", "RS256"))
    found = _refused(
        verifier(rsa, clock), token, errors.InvalidTokenHash, access_token=ACCESS_TOKEN
    )
    assert (found.code, found.claim, found.reason) == ("invalid_token_hash", "at_hash", "mismatch")
    # The hash of another algorithm (SHA-384 for an RS256 token) does not match either.
    other = sign(rsa, at_hash=token_hash(ACCESS_TOKEN, "RS384"))
    _refused(verifier(rsa, clock), other, errors.InvalidTokenHash, access_token=ACCESS_TOKEN)
    odd = sign(rsa, at_hash=12)
    _refused(verifier(rsa, clock), odd, errors.InvalidTokenHash, access_token=ACCESS_TOKEN)
    unicode = sign(rsa, at_hash="ünïcödé")
    _refused(verifier(rsa, clock), unicode, errors.InvalidTokenHash, access_token=ACCESS_TOKEN)


def test_a_bad_or_missing_c_hash_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    check = verifier(rsa, clock)
    found = _refused(check, sign(rsa), errors.InvalidTokenHash, code=CODE)
    assert (found.claim, found.reason) == ("c_hash", "missing")
    bad = sign(rsa, c_hash=token_hash("another code", "RS256"))
    assert _refused(check, bad, errors.InvalidTokenHash, code=CODE).claim == "c_hash"


def test_an_algorithm_outside_the_allow_list_is_refused(
    rsa: jwtkit.Key, clock: FrozenClock
) -> None:
    """RS256 by default (Core §3.1.3.7 step 7); an ES256 or HS256 token is refused unless
    listed, and HS256 even then only with the client secret."""
    es = jwtkit.ECKey.generate("ES256")
    check = IDTokenVerifier(
        jwtkit.KeySet([rsa.public_key(), es.public_key()]), issuer=ISSUER, client_id=CLIENT,
        clock=clock,
    )  # fmt: skip
    _refused(check, sign(es, "ES256"), jwtkit.AlgorithmNotAllowed)
    _refused(check, sign(SECRET.encode(), "HS256"), jwtkit.AlgorithmNotAllowed)
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none"}, claims())
        )
        + "."
    )
    _refused(check, unsigned, jwtkit.AlgorithmNotAllowed)
    mixed = verifier(rsa, clock, algorithms=["RS256", "HS256"], client_secret=SECRET)
    _refused(mixed, unsigned, jwtkit.AlgorithmNotAllowed)
    _refused(mixed, sign(SECRET.encode(), "HS512"), jwtkit.AlgorithmNotAllowed)
    _refused(mixed, "garbage.token.here", jwtkit.MalformedToken)
    for alg in (["HS256"], {"HS256": 1}, None):
        header = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=")
        forged = header.decode() + "." + sign(SECRET.encode(), "HS256").split(".", 1)[1]
        _refused(mixed, forged, jwtkit.MalformedToken)
    _refused(mixed, "é" + sign(rsa), jwtkit.MalformedToken)
    _refused(mixed, "x" * 300_000, jwtkit.TokenTooLarge)


def test_an_issuer_mismatch_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    for iss in ("https://id.example/", "https://id.example.evil", "https://ID.example"):
        assert _refused(verifier(rsa, clock), sign(rsa, iss=iss), jwtkit.InvalidIssuer)


@pytest.mark.parametrize("claim", sorted(ID_TOKEN_CLAIMS))
def test_each_required_id_token_claim_is_required(
    rsa: jwtkit.Key, clock: FrozenClock, claim: str
) -> None:
    """Core §2: iss, sub, aud, exp and iat are REQUIRED."""
    token = jwtkit.encode(claims(**{claim: None}), rsa, algorithm="RS256")
    assert _refused(verifier(rsa, clock), token, jwtkit.MissingClaim).claim == claim


def test_a_signature_by_another_key_is_refused(rsa: jwtkit.Key, clock: FrozenClock) -> None:
    other = jwtkit.RSAKey.generate("RS256", kid="r1")
    _refused(verifier(rsa, clock), sign(other), jwtkit.InvalidSignature)


# -- the call itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"issuer": ""}, "issuer: expected"),
        ({"client_id": 7}, "client_id: expected"),
        ({"client_secret": ""}, "client_secret: expected"),
        ({"algorithms": "RS256"}, "not a string"),
        ({"algorithms": []}, "algorithms is empty"),
        ({"algorithms": [b"RS256"]}, "expected names"),
        ({"algorithms": ["RS256", "HS256"]}, "need the client secret"),
        ({"algorithms": ["none"]}, "'none'"),
        ({"require": "auth_time"}, "not a string"),
        ({"acr_values": "urn:example:mfa"}, "acr_values: expected"),
        ({"acr_values": []}, "acr_values: expected"),
        ({"leeway": "5"}, "leeway"),
    ],
)
def test_bad_options_are_usage_errors(
    rsa: jwtkit.Key, options: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"issuer": ISSUER, "client_id": CLIENT, **options}
    with pytest.raises(jwtkit.UsageError, match=message):
        IDTokenVerifier(rsa.public_key(), **arguments)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"nonce": ""}, "nonce: expected a non-empty string"),
        ({"access_token": 5}, "access_token: expected"),
        ({"code": b"code"}, "code: expected"),
        ({"max_age": -1}, "max_age must not be negative"),
        ({"max_age": "60"}, "max_age"),
        ({"access_token": "äccess"}, "ASCII"),
    ],
)
def test_bad_request_values_are_usage_errors(
    rsa: jwtkit.Key, clock: FrozenClock, request_: dict[str, Any], message: str
) -> None:
    token = sign(rsa, at_hash="x")
    with pytest.raises(jwtkit.UsageError, match=message):
        verifier(rsa, clock).decode(token, **request_)


def test_E5_an_access_token_is_not_an_id_token(rsa: jwtkit.Key, clock: FrozenClock) -> None:  # noqa: N802
    """RFC 9068 §4: access tokens say typ at+jwt; even with the ID token's claims it is not one."""
    for typ in ("at+jwt", "application/AT+JWT"):
        token = jwtkit.encode(claims(), rsa, algorithm="RS256", typ=typ)
        assert _refused(verifier(rsa, clock), token, jwtkit.InvalidType).claim == "typ"
    assert verifier(rsa, clock).decode(jwtkit.encode(claims(), rsa, typ=None))["sub"] == "user-1"


# -- encrypted ID tokens (Core §3.1.3.7 step 1, §10.2) -------------------------------------


@pytest.fixture(scope="module")
def client_key() -> jwtkit.Key:
    return jwtkit.Key.generate("RSA-OAEP-256")


def encrypted_verifier(
    rsa: jwtkit.Key, clock: FrozenClock, client_key: jwtkit.Key
) -> IDTokenVerifier:
    return verifier(
        rsa,
        clock,
        decryption_key=client_key,
        decryption_algorithms=["RSA-OAEP-256"],
        content_encryptions=["A256GCM"],
    )


def test_an_encrypted_id_token_is_decrypted_then_checked_by_its_inner_signature(
    rsa: jwtkit.Key, clock: FrozenClock, client_key: jwtkit.Key
) -> None:
    at_hash = token_hash(ACCESS_TOKEN, "RS256")
    token = jwtkit.encode(
        claims(at_hash=at_hash), rsa, "RS256", encrypt_with=client_key.public_key()
    )
    found = encrypted_verifier(rsa, clock, client_key).decode(
        token, nonce="n-0S6_WzA2Mj", access_token=ACCESS_TOKEN
    )
    assert found["at_hash"] == at_hash
    # The hash is the inner signature's (RS256), not the key management algorithm's.
    with pytest.raises(errors.InvalidTokenHash):
        encrypted_verifier(rsa, clock, client_key).decode(
            token, nonce="n-0S6_WzA2Mj", access_token="another access token"
        )


def test_encrypted_id_tokens_are_refused_unencrypted_or_for_another_key(
    rsa: jwtkit.Key, clock: FrozenClock, client_key: jwtkit.Key
) -> None:
    checker = encrypted_verifier(rsa, clock, client_key)
    with pytest.raises(errors.MalformedToken, match="encrypted JWT was expected"):
        checker.decode(sign(rsa), nonce="n-0S6_WzA2Mj")
    other = jwtkit.Key.generate("RSA-OAEP-256")
    token = jwtkit.encode(claims(), rsa, "RS256", encrypt_with=other.public_key())
    with pytest.raises(errors.DecryptionError):
        checker.decode(token, nonce="n-0S6_WzA2Mj")
    forged = jwtkit.encode(
        claims(), jwtkit.Key.generate("RS256", kid="r1"), "RS256",
        encrypt_with=client_key.public_key(),
    )  # fmt: skip
    with pytest.raises(errors.InvalidSignature):
        checker.decode(forged, nonce="n-0S6_WzA2Mj")


def test_hmac_id_tokens_cannot_be_combined_with_encryption(
    rsa: jwtkit.Key, clock: FrozenClock, client_key: jwtkit.Key
) -> None:
    with pytest.raises(errors.UsageError, match="cannot be combined with encrypted ID tokens"):
        verifier(
            rsa,
            clock,
            algorithms=["RS256", "HS256"],
            client_secret=SECRET,
            decryption_key=client_key,
            decryption_algorithms=["RSA-OAEP-256"],
            content_encryptions=["A256GCM"],
        )
