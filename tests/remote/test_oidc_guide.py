"""The examples of ``docs/oidc.md`` run in order as written, against a provider on a loopback
port (its discovery document and JWK Set) standing in for ``https://id.example``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_many_issuers import IssuerServer

import jwtkit

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "oidc.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture
def provider() -> Iterator[IssuerServer]:
    server = IssuerServer(jwtkit.Key.generate("ES256"))  # the guide's own key replaces it
    try:
        yield server
    finally:
        server.stop()


def test_every_example_of_the_guide_runs_in_order(provider: IssuerServer) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = [
        (text.count("\n", 0, match.start()) + 1, match.group(1)) for match in _BLOCK.finditer(text)
    ]
    assert len(examples) >= 6
    assert "https://id.example" in examples[0][1]
    namespace: dict[str, Any] = {"__name__": "oidc_guide"}
    for line, code in examples:
        source = code.replace("https://id.example", provider.issuer)
        try:
            exec(compile(source, f"docs/oidc.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at docs/oidc.md:{line} fails: {exc!r}") from exc
        if "provider_key" in namespace:
            provider.key = namespace["provider_key"]
    subject = asyncio.run(
        namespace["sign_in_callback"](
            namespace["id_token"], namespace["nonce"], namespace["access_token"]
        )
    )
    assert subject == "248289761001"
    assert provider.requests.count("/.well-known/openid-configuration") == 2
