"""Unit tests of the encoding layer (``jwtkit._codec``) and of header checks (``jwtkit._header``).

Strict base64url, strict JSON, compact-format checks, header member types and ``crit``
(RFC 7515 §2, §4.1, §4.1.11, §5.2; RFC 7797 §6; RFC 8259; RFC 8725 §3.7).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtkit import _codec, _header
from jwtkit._messages import short
from jwtkit.errors import MalformedToken, TokenTooLarge, UnsupportedCritical

# ---------------------------------------------------------------------------------------------
# base64url


@pytest.mark.parametrize(
    ("data", "encoded"),
    [
        (b"", ""),
        (b"a", "YQ"),
        (b"ab", "YWI"),
        (b"abc", "YWJj"),
        (b"\xfb\xff", "-_8"),
    ],
)
def test_b64url_encode_is_unpadded_urlsafe_and_round_trips(data: bytes, encoded: str) -> None:
    assert _codec.b64url_encode(data) == encoded
    assert _codec.b64url_decode(encoded) == data
    assert _codec.b64url_decode(encoded.encode("ascii")) == data


@pytest.mark.parametrize(
    ("segment", "fragment"),
    [
        ("YQ==", "not base64url"),  # padding
        ("YW+j", "not base64url"),  # standard alphabet
        ("YW/j", "not base64url"),
        ("YW j", "not base64url"),  # whitespace
        ("YWJj\n", "not base64url"),
        ("Y", "invalid base64url length 1"),  # length 1 (mod 4)
        ("YWJjZ", "invalid base64url length 5"),
        ("YR", "non-canonical"),  # non-zero trailing bits, length 2 (mod 4)
        ("YWJ", "non-canonical"),  # non-zero trailing bits, length 3 (mod 4)
    ],
)
def test_b64url_decode_rejects_every_non_canonical_form(segment: str, fragment: str) -> None:
    with pytest.raises(MalformedToken, match=fragment) as info:
        _codec.b64url_decode(segment, "signature")
    assert info.value.code == "malformed"
    assert str(info.value).startswith("signature: ")


@pytest.mark.parametrize("segment", ["", "YQ", "YWI", "YWJj", "-_8"])
def test_b64url_decode_fast_agrees_with_the_strict_decoder(segment: str) -> None:
    assert _codec.b64url_decode_fast(segment) == _codec.b64url_decode(segment)


@pytest.mark.parametrize("segment", ["YQ==", "YW+j", "YW/j", "YW j", "Y", "YR", "YWJ", "a.bc"])
def test_b64url_decode_fast_raises_value_error_on_any_flaw(segment: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the fast decoder raises a bare ValueError
        _codec.b64url_decode_fast(segment)


def test_b64url_decode_rejects_non_ascii_bytes() -> None:
    with pytest.raises(MalformedToken, match="non-ASCII"):
        _codec.b64url_decode("YQ€".encode(), "header")


def test_b64url_decode_rejects_non_string_input() -> None:
    with pytest.raises(MalformedToken, match="expected a base64url string, got int"):
        _codec.b64url_decode(42)  # type: ignore[arg-type]


def test_b64url_decode_names_the_value_by_default() -> None:
    with pytest.raises(MalformedToken, match=r"^value: "):
        _codec.b64url_decode("Y")


# ---------------------------------------------------------------------------------------------
# strict JSON


def test_json_loads_object_parses_a_utf8_object() -> None:
    assert _codec.json_loads_object('{"a":[1,2.5,"é"],"b":{"c":null}}'.encode()) == {
        "a": [1, 2.5, "é"],
        "b": {"c": None},
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"a":1,"a":2}', "duplicate member name 'a'"),
        (b'{"a":{"b":1,"b":1}}', "duplicate member name 'b'"),
        (b'{"a":NaN}', "NaN is not allowed"),
        (b'{"a":Infinity}', "Infinity is not allowed"),
        (b'{"a":-Infinity}', "-Infinity is not allowed"),
        (b'{"a":1e400}', "number out of range"),
        (b'{"a":-1e400}', "number out of range"),
        (b'{"a":', "invalid JSON"),
        (b"{'a':1}", "invalid JSON"),
        (b'{"a":1} x', "invalid JSON"),
        (b"", "invalid JSON"),
        (b'\xef\xbb\xbf{"a":1}', "invalid JSON"),  # a BOM (RFC 8259 §8.1, RFC 8725 §3.7)
        (b'{"a":"\xff"}', "not valid UTF-8"),
        (b'{"a":"\xc3"}', "not valid UTF-8"),
    ],
)
def test_json_loads_object_rejects_non_strict_json(data: bytes, fragment: str) -> None:
    with pytest.raises(MalformedToken, match=fragment) as info:
        _codec.json_loads_object(data, "claims")
    assert str(info.value).startswith("claims: ")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"[1]", "an array"),
        (b'"text"', "a string"),
        (b"null", "null"),
        (b"true", "a boolean"),
        (b"false", "a boolean"),
        (b"12", "a number"),
        (b"1.5", "a number"),
    ],
)
def test_json_loads_object_requires_an_object_at_the_top(data: bytes, kind: str) -> None:
    with pytest.raises(MalformedToken, match=f"header: expected a JSON object, got {kind}$"):
        _codec.json_loads_object(data, "header")


def _nested(depth: int) -> bytes:
    """An object whose nesting depth is exactly ``depth`` (the top object counts as 1)."""
    return ('{"a":' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()


def test_json_nesting_up_to_the_limit_is_accepted() -> None:
    value = _codec.json_loads_object(_nested(_codec.DEFAULT_MAX_DEPTH))
    assert list(value) == ["a"]


def test_json_nesting_beyond_the_limit_is_rejected() -> None:
    with pytest.raises(MalformedToken, match="nesting deeper than 32 levels"):
        _codec.json_loads_object(_nested(_codec.DEFAULT_MAX_DEPTH + 1))


def test_json_nesting_limit_is_configurable() -> None:
    assert _codec.json_loads_object(_nested(3), max_depth=3) == {"a": [[]]}
    with pytest.raises(MalformedToken, match="nesting deeper than 2 levels"):
        _codec.json_loads_object(_nested(3), max_depth=2)


def test_json_many_shallow_brackets_are_not_mistaken_for_depth() -> None:
    data = ('{"a":[' + ",".join(["[1]", '{"b":"c"}'] * 50) + '],"d":true}').encode()
    value = _codec.json_loads_object(data)
    assert len(value["a"]) == 100
    assert value["a"][:2] == [[1], {"b": "c"}]


def test_json_nesting_that_exhausts_the_parser_is_a_malformed_token() -> None:
    depth = 200_000
    data = ('{"a":' + "[" * depth + "]" * depth + "}").encode()
    with pytest.raises(MalformedToken, match="nesting deeper than"):
        _codec.json_loads_object(data)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"a":' + b"[" * 40 + b"NaN" + b"]" * 40 + b"}", "NaN"),
        (b'{"a":1,"a":[' + b"[]," * 40 + b"[]]}", "duplicate member name"),
        (b'{"a":[' + b"[]," * 40 + b"[]]", "invalid JSON"),
    ],
)
def test_json_errors_in_bracket_heavy_documents_stay_malformed_token(
    data: bytes, fragment: str
) -> None:
    with pytest.raises(MalformedToken, match=fragment):
        _codec.json_loads_object(data)


def test_json_dumps_is_compact_utf8() -> None:
    assert _codec.json_dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()


def test_json_dumps_uses_the_default_hook() -> None:
    assert _codec.json_dumps({"a": frozenset({2, 1})}, default=sorted) == b'{"a":[1,2]}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_json_dumps_refuses_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        _codec.json_dumps({"a": value})


# ---------------------------------------------------------------------------------------------
# compact serialization checks


def test_check_compact_splits_three_parts() -> None:
    assert _codec.check_compact("aa.bb.cc") == ["aa", "bb", "cc"]
    assert _codec.check_compact(b"aa..") == ["aa", "", ""]


def test_check_compact_splits_five_parts() -> None:
    assert _codec.check_compact("a.b..d.e", parts=5) == ["a", "b", "", "d", "e"]


@pytest.mark.parametrize(
    ("token", "parts", "fragment"),
    [
        ("aa.bb", 3, "2 segments, expected 3"),
        ("aa.bb.cc.dd", 3, "4 segments, expected 3"),
        ("a.b.c", 5, "3 segments, expected 5"),
        (".bb.cc", 3, "only base64url characters"),  # empty header
        ("aa.b=.cc", 3, "only base64url characters"),
        ('{"a":1}.bb.cc', 3, "only base64url characters"),
        ("a.b.c.d.e+", 5, "only base64url characters"),
        ("a.b.c.d.e ", 5, "only base64url characters"),
    ],
)
def test_check_compact_rejects_bad_shapes(token: str, parts: int, fragment: str) -> None:
    with pytest.raises(MalformedToken, match=fragment):
        _codec.check_compact(token, parts=parts)


def test_check_compact_rejects_non_ascii_bytes() -> None:
    with pytest.raises(MalformedToken, match="not ASCII"):
        _codec.check_compact("aa.bé.cc".encode())


def test_check_compact_rejects_other_types() -> None:
    with pytest.raises(MalformedToken, match="expected str or bytes, got dict"):
        _codec.check_compact({"payload": "x"})


def test_check_compact_checks_size_before_anything_else() -> None:
    token = "a" * 20
    with pytest.raises(TokenTooLarge, match="20 characters, more than the maximum 19") as info:
        _codec.check_compact(token, max_size=19)
    assert info.value.code == "token_too_large"
    with pytest.raises(TokenTooLarge):
        _codec.check_compact("." * (_codec.DEFAULT_MAX_TOKEN_SIZE + 1))
    assert _codec.check_compact("a.b.c", max_size=5) == ["a", "b", "c"]


# ---------------------------------------------------------------------------------------------
# header checks


def test_short_cuts_long_untrusted_values() -> None:
    assert short("abc") == "'abc'"
    shown = short("x" * 500)
    assert shown == repr("x" * 60) + "..."
    assert short(None) == "null"
    assert short(12) == "a value of type int"


def test_check_header_accepts_a_plain_header() -> None:
    _header.check_header({"alg": "HS256", "typ": "JWT", "kid": "k1", "cty": "json"})
    _header.check_header(
        {"alg": "RS256", "jwk": {"kty": "RSA"}, "x5c": ["MIIB"], "x5t": "abc", "x5t#S256": "d"}
    )


@pytest.mark.parametrize("name", ["alg", "kid", "typ", "cty", "jku", "x5u", "x5t", "x5t#S256"])
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "null"),
        (True, "a boolean"),
        (1, "a number"),
        (1.5, "a number"),
        (["x"], "an array"),
        ({"x": 1}, "an object"),
    ],
)
def test_check_header_string_members_must_be_strings(name: str, value: Any, kind: str) -> None:
    header = {"alg": "HS256", name: value}
    with pytest.raises(MalformedToken, match=f"'{name}' must be a string, got {kind}"):
        _header.check_header(header)


def test_check_header_requires_alg() -> None:
    with pytest.raises(MalformedToken, match="'alg' is missing"):
        _header.check_header({"typ": "JWT"})


@pytest.mark.parametrize("value", ["x", ["x"], None, 1])
def test_check_header_jwk_must_be_an_object(value: Any) -> None:
    with pytest.raises(MalformedToken, match="'jwk' must be an object"):
        _header.check_header({"alg": "RS256", "jwk": value})


@pytest.mark.parametrize("value", ["MIIB", [1], ["a", None], {"a": "b"}])
def test_check_header_x5c_must_be_an_array_of_strings(value: Any) -> None:
    with pytest.raises(MalformedToken, match="'x5c' must be an array of strings"):
        _header.check_header({"alg": "RS256", "x5c": value})


@pytest.mark.parametrize("value", ["false", 0, None])
def test_check_header_b64_must_be_boolean(value: Any) -> None:
    with pytest.raises(MalformedToken, match="'b64' must be true or false"):
        _header.check_header({"alg": "HS256", "b64": value, "crit": ["b64"]})


@pytest.mark.parametrize("value", [True, False])
def test_check_header_b64_without_crit_is_rejected(value: bool) -> None:
    with pytest.raises(UnsupportedCritical, match="'b64' must be listed in 'crit'"):
        _header.check_header({"alg": "HS256", "b64": value})


def test_check_header_b64_listed_in_crit_is_understood() -> None:
    _header.check_header({"alg": "HS256", "b64": False, "crit": ["b64"]})


def test_check_header_b64_with_crit_that_omits_it_is_rejected() -> None:
    header = {"alg": "HS256", "b64": False, "exp": 1, "crit": ["exp"]}
    with pytest.raises(UnsupportedCritical, match="'b64' must be listed in 'crit'"):
        _header.check_header(header, understood=["exp"])


@pytest.mark.parametrize(
    ("crit", "fragment"),
    [
        ("ext", "'crit' must be a non-empty array"),
        ([], "'crit' must be a non-empty array"),
        ({"ext": 1}, "'crit' must be a non-empty array"),
        (None, "'crit' must be a non-empty array"),
        ([1], "'crit' must list strings"),
        (["ext", "ext"], "lists 'ext' twice"),
        (["alg"], "must not list the registered parameter 'alg'"),
        (["kid"], "must not list the registered parameter 'kid'"),
        (["epk"], "must not list the registered parameter 'epk'"),
        (["missing"], "lists 'missing', which is absent"),
    ],
)
def test_check_header_malformed_crit_is_rejected(crit: Any, fragment: str) -> None:
    header = {"alg": "HS256", "kid": "k", "ext": 1, "crit": crit}
    with pytest.raises(MalformedToken, match=fragment) as info:
        _header.check_header(header, understood=["ext", "missing"])
    assert type(info.value) is MalformedToken


def test_check_header_unknown_critical_extension_is_unsupported() -> None:
    header = {"alg": "HS256", "ext": 1, "crit": ["ext"]}
    with pytest.raises(UnsupportedCritical, match="critical extension 'ext' is not understood"):
        _header.check_header(header)
    with pytest.raises(UnsupportedCritical):
        _header.check_header(header, understood=["other"])


def test_check_header_declared_critical_extensions_are_accepted() -> None:
    header = {"alg": "HS256", "ext": 1, "b64": True, "crit": ["ext", "b64"]}
    _header.check_header(header, understood={"ext"})
    _header.check_header(header, understood=("ext",))


def test_header_registered_names_cover_jws_and_jwe() -> None:
    assert {"alg", "kid", "crit", "enc", "zip", "p2c", "x5t#S256"} <= (
        _header.REGISTERED_HEADER_NAMES
    )
    assert "b64" not in _header.REGISTERED_HEADER_NAMES
    assert json.loads(json.dumps(sorted(_header.UNDERSTOOD_EXTENSIONS))) == ["b64"]


def test_json_dumps_fast_path_matches_the_standard_encoder() -> None:
    value = {"a": 1, "b": "é\u2028", "c": [1, 2.5, None, True, {"d": -0.0}], "e": 10**30}
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert _codec.json_dumps(value) == expected.encode("utf-8")


def test_json_dumps_refuses_what_json_cannot_hold() -> None:
    circular: dict[str, object] = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        _codec.json_dumps(circular)
    with pytest.raises(ValueError, match="Out of range"):
        _codec.json_dumps({"x": float("inf")})
    with pytest.raises(TypeError, match="set"):
        _codec.json_dumps({"x": {1}})
