"""One loader for the JWS and JWE JSON serializations, and the JWE recipient cap.

* "One source of truth" item 1: ``jwe.decrypt_json('{"a":"\\ud800"}', ...)`` raised
  ``UnicodeEncodeError`` where ``jws.verify_json`` raised a jwtkit error. Both now read their
  input with one loader (``jwtkit._codec.json_serialization_object``).
* Finding 7: the recipients of a JWE in JSON serialization were not capped (300 recipients
  took 0.68 s to reject); they are capped like the signatures of a JWS (RFC 7516 §7.2.1,
  security matrix D1), before any key is tried.
"""

# ruff: noqa: N802 - the test names carry the row name (D1) in upper case

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from jwtkit import _codec, jwe, jws
from jwtkit.errors import JWTError, MalformedToken, TokenTooLarge
from jwtkit.jwk import Key, OctKey

KEY = OctKey(bytes(range(32)))
DIR = {"algorithms": ["dir"], "encryptions": ["A256GCM"]}


def _decrypt_json(data: Any, **kwargs: Any) -> jwe.DecryptedJWE:
    return jwe.decrypt_json(data, KEY, **{**DIR, **kwargs})


def _decrypter_json(data: Any, **kwargs: Any) -> jwe.DecryptedJWE:
    return jwe.Decrypter(KEY, **{**DIR, **kwargs}).decrypt_json(data)


def _verify_json(data: Any, **kwargs: Any) -> jws.VerifiedJWS:
    return jws.verify_json(data, KEY, ["HS256"], **kwargs)


READERS: list[Callable[..., object]] = [_decrypt_json, _decrypter_json, _verify_json]


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    "text",
    ['{"a":"\ud800"}', '{"\udfff":1}', '{"payload":"\ud83d"}'],
    ids=["lone-high", "lone-low-name", "half-pair"],
)
def test_lone_surrogates_are_a_jwtkit_error(read: Callable[..., object], text: str) -> None:
    with pytest.raises(MalformedToken, match="not valid UTF-8"):
        read(text)


@pytest.mark.parametrize("read", READERS)
def test_json_text_is_read_alike_for_jws_and_jwe(read: Callable[..., object]) -> None:
    with pytest.raises(MalformedToken, match="not a JSON object"):
        read("eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn")
    with pytest.raises(MalformedToken, match="not a JSON object"):
        read(b"[1, 2]")
    with pytest.raises(MalformedToken, match="duplicate member name"):
        read(b'{"a": 1, "a": 2}')
    with pytest.raises(MalformedToken, match="expected a mapping, str or bytes, got int"):
        read(5)
    with pytest.raises(TokenTooLarge, match="11 characters, more than the maximum 10"):
        read(" " * 11, max_token_size=10)
    with pytest.raises(TokenTooLarge, match="11 bytes, more than the maximum 10"):
        read(b" " * 11, max_token_size=10)


def test_jwe_json_takes_every_kind_of_bytes_like_jws_json() -> None:
    document = jwe.encrypt_json(b"x", [jwe.Recipient(KEY, "dir")], encryption="A256GCM")
    text = _codec.json_dumps(document)
    for data in (text, text.decode(), bytearray(text), memoryview(text)):
        assert _decrypt_json(data).plaintext == b"x"


# -- D1: the recipients of a JWE are capped like the signatures of a JWS -----------------------


def _many_recipients(count: int) -> dict[str, Any]:
    keys = [OctKey(bytes([index % 256]) * 32, kid=f"k{index}") for index in range(count)]
    return jwe.encrypt_json(
        b"x", [jwe.Recipient(key, "A256KW") for key in keys], encryption="A256GCM"
    )


def _counting_resolver(calls: list[Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], Key]:
    def resolve(header: Mapping[str, Any]) -> Key:
        """The key of recipient "k0"; for the others a key that cannot unwrap."""
        calls.append(header)
        return OctKey(bytes(32) if header["kid"] == "k0" else bytes(range(32)), kid=header["kid"])

    return resolve


def test_D1_the_jwe_recipient_cap_is_the_jws_signature_cap() -> None:
    assert jwe.DEFAULT_MAX_RECIPIENTS == _codec.DEFAULT_MAX_JSON_ENTRIES
    from jwtkit._jws_json import DEFAULT_MAX_SIGNATURES

    assert DEFAULT_MAX_SIGNATURES == _codec.DEFAULT_MAX_JSON_ENTRIES


@pytest.mark.parametrize("count", [33, 300])
def test_D1_too_many_recipients_are_refused_before_any_key_is_tried(count: int) -> None:
    document = _many_recipients(count)
    document["recipients"] = document["recipients"][::-1]  # the one that fits comes last
    calls: list[Mapping[str, Any]] = []
    options: dict[str, Any] = {"algorithms": ["A256KW"], "encryptions": ["A256GCM"]}
    with pytest.raises(TokenTooLarge, match=f"{count} recipients, more than the maximum 32"):
        jwe.decrypt_json(document, _counting_resolver(calls), **options)
    with pytest.raises(TokenTooLarge, match=f"{count} recipients, more than the maximum 32"):
        jwe.Decrypter(_counting_resolver(calls), **options).decrypt_json(document)
    assert calls == []
    allowed = jwe.decrypt_json(document, _counting_resolver(calls), max_recipients=count, **options)
    assert allowed.plaintext == b"x"
    assert allowed.recipient_index == count - 1


def test_D1_recipients_up_to_the_cap_decrypt() -> None:
    document = _many_recipients(32)
    calls: list[Mapping[str, Any]] = []
    result = jwe.decrypt_json(
        document, _counting_resolver(calls), algorithms=["A256KW"], encryptions=["A256GCM"]
    )
    assert result.plaintext == b"x"
    assert result.recipient_index == 0


@pytest.mark.parametrize("value", [-1, 0, True, 1.5, "32"])
def test_D1_max_recipients_must_be_a_positive_integer(value: object) -> None:
    with pytest.raises(JWTError, match="max_recipients"):
        jwe.Decrypter(KEY, max_recipients=value, **DIR)  # type: ignore[arg-type]


@pytest.mark.parametrize("recipients", [[], {}, "x", None])
def test_recipients_must_be_a_non_empty_array(recipients: object) -> None:
    document = jwe.encrypt_json(b"x", [jwe.Recipient(KEY, "A256KW")], encryption="A256GCM")
    document["recipients"] = recipients
    with pytest.raises(MalformedToken, match="'recipients'"):
        jwe.decrypt_json(document, KEY, algorithms=["A256KW"], encryptions=["A256GCM"])
