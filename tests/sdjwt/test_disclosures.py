"""Disclosures (RFC 9901 §4.2), claim paths (RFC 6901) and the strict JSON they are read with."""

from __future__ import annotations

import math

import pytest

from jwtkit._codec import json_loads_value
from jwtkit._sd.disclosures import decoy_digest, hasher, new_salt
from jwtkit._sd.paths import format_pointer, parse_path, parse_paths
from jwtkit.errors import InvalidSDJWT, MalformedToken, UsageError
from jwtkit.sd_jwt import SD_ALGORITHMS, Disclosure

from .helpers import digest


def test_disclosure_of_an_object_property_and_of_an_array_element() -> None:
    prop = Disclosure.create("salt", "email", "a@example.com")
    element = Disclosure.create("salt", None, {"x": 1})
    assert str(prop) == prop.encoded
    assert Disclosure.parse(prop.encoded) == prop
    assert Disclosure.parse(element.encoded) == element
    assert repr(prop) == "Disclosure('email')"
    assert repr(element) == "Disclosure(array element)"
    assert "salt" not in repr(prop)


@pytest.mark.parametrize("salt", ["", 42])
def test_disclosure_needs_a_string_salt(salt: object) -> None:
    with pytest.raises(UsageError, match="salt"):
        Disclosure.create(salt, "a", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["_sd", "...", 7])
def test_disclosure_refuses_reserved_or_non_string_names(name: object) -> None:
    with pytest.raises(UsageError, match="cannot be selectively disclosed"):
        Disclosure.create("salt", name, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [{1, 2}, math.nan])
def test_disclosure_refuses_values_json_cannot_hold(value: object) -> None:
    with pytest.raises(UsageError, match="not JSON"):
        Disclosure.create("salt", "a", value)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("not base64!", "base64url"),
        ("e30", "2 or 3 elements, got an object"),  # {}
        ("WyJhIl0", "got an array of 1"),  # ["a"]
        ("WzEsICJhIiwgMl0", "salt must be a string"),  # [1, "a", 2]
        ("WyJzIiwgMSwgMl0", "claim name must be a string"),  # ["s", 1, 2]
        ("WyJzIiwgImEiLCAiYSIsICJiIl0", "got an array of 4"),
    ],
)
def test_malformed_disclosures_are_invalid_sd_jwts(encoded: str, message: str) -> None:
    with pytest.raises(InvalidSDJWT, match=message):
        Disclosure.parse(encoded)


def test_hash_algorithms_and_salts() -> None:
    for name in SD_ALGORITHMS:
        assert len(hasher(name)("abc")) >= 43
    with pytest.raises(UsageError, match="not supported"):
        hasher("sha-256-32")
    assert len(new_salt()) == 22  # 128 bits, base64url
    assert decoy_digest(digest) != decoy_digest(digest)


def test_json_loads_value_is_strict() -> None:
    assert json_loads_value(b"[1, 2]") == [1, 2]
    with pytest.raises(MalformedToken, match="UTF-8"):
        json_loads_value(b"\xff")
    with pytest.raises(MalformedToken, match="duplicate"):
        json_loads_value(b'[{"a": 1, "a": 2}]')
    with pytest.raises(MalformedToken, match="invalid JSON"):
        json_loads_value(b"[1,")
    with pytest.raises(MalformedToken, match="nesting"):
        json_loads_value(b"[" * 40 + b"]" * 40)
    with pytest.raises(MalformedToken, match="nesting"):
        json_loads_value(b"[" * 100_000 + b"]" * 100_000)


def test_paths_as_json_pointers_and_sequences() -> None:
    assert parse_path("/a~1b/~0c/0") == ("a/b", "~c", "0")
    assert parse_path(("a", 0)) == ("a", 0)
    assert format_pointer(("a/b", "~c", 0)) == "/a~1b/~0c/0"
    assert parse_paths(["/a", ("b",)]) == [("a",), ("b",)]


@pytest.mark.parametrize("path", ["a", "/a~2", (), 5, ("a", 1.5)])
def test_bad_paths_are_usage_errors(path: object) -> None:
    with pytest.raises(UsageError):
        parse_path(path)  # type: ignore[arg-type]


def test_paths_must_be_a_list() -> None:
    with pytest.raises(UsageError, match="not a string"):
        parse_paths("/email")
