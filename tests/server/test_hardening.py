"""Issue 10: ``Authorization`` is read by one rule.

* Finding 9: two ``Authorization`` fields are a 400 ``invalid_request`` (RFC 6750 §3.1), at
  the service as at the integrations: the same code decides for both.
"""

from __future__ import annotations

import base64

import pytest
from conftest import Harness

from jwtkit.integrations._bearer import BearerError, parse_authorization, single_header

pytestmark = pytest.mark.anyio



# -- Authorization: one rule for the service and the integrations ------------------------------

AUTHORIZATIONS: list[list[str]] = [
    [],
    ["Bearer abc"],
    ["bearer  abc"],
    ["Bearer abc", "Bearer abc"],
    ["Bearer abc", "Basic eDp5"],
    ["Basic eDp5", "Bearer abc"],
    ["Basic eDp5"],
    ["Bearer"],
    ["Bearer a b"],
    ["Bearer \tabc"],
    ["Bearer abc\u00a0"],
    ["Bearer t\u00f6ken"],
    ["Bearer abc \t"],
    [""],
]


def _integration_answer(values: list[str]) -> tuple[int, str | None]:
    """What the integrations answer: (status, error code in the challenge)."""
    try:
        token = parse_authorization(single_header(values))
    except BearerError as exc:
        return exc.status, exc.error
    if token is None:
        return 401, None
    return 401, "invalid_token"  # well-formed, but not a token of the service


@pytest.mark.parametrize("values", AUTHORIZATIONS, ids=repr)
@pytest.mark.parametrize("path", ["/userinfo", "/userinfo (route)", "/users/me/password"])
async def test_the_service_reads_authorization_like_the_integrations(
    harness: Harness, values: list[str], path: str
) -> None:
    headers = [(b"authorization", value.encode("latin-1")) for value in values]
    if path == "/users/me/password":
        response = await harness.http.post(path, headers=[*headers, (b"content-type", b"x")])
    else:
        harness.app.userinfo_shortcut = path == "/userinfo"  # type: ignore[attr-defined]
        response = await harness.http.get("/userinfo", headers=headers)
    status, error = _integration_answer(values)
    assert response.status_code == status, response.text
    challenge = response.headers["www-authenticate"]
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
        assert response.json()["error"] == error


async def test_two_authorization_headers_at_the_token_endpoint_are_refused(
    harness: Harness,
) -> None:
    secret = await harness.add_client()
    basic = "Basic " + base64.b64encode(f"backend:{secret}".encode()).decode()
    form = {"grant_type": "client_credentials"}
    assert (
        await harness.http.post("/token", data=form, headers={"Authorization": basic})
    ).is_success
    for second in (basic, "Basic " + base64.b64encode(b"other:secret").decode()):
        response = await harness.http.post(
            "/token", data=form, headers=[("authorization", basic), ("authorization", second)]
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "more than one Authorization header",
        }
