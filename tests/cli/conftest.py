"""Fixtures of the token-command tests: a frozen clock and a clean environment."""

from __future__ import annotations

from pathlib import Path

import pytest

import jwtkit
from jwtkit.cli import _time
from jwtkit.testing import FrozenClock

from .helpers import NOW, SECRET, write

#: The commands' real clock, before the fixture below replaces it.
REAL_CURRENT_TIME = _time.current_time


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The commands' clock, frozen at NOW."""
    frozen = FrozenClock(NOW)
    monkeypatch.setattr(_time, "current_time", frozen)
    return frozen


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWT_SECRET", "NO_COLOR", "TERM", "MY_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def es256_key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="es-1")


@pytest.fixture(scope="session")
def rsa_key() -> jwtkit.Key:
    return jwtkit.Key.generate("RS256", kid="rsa-1")


@pytest.fixture
def es256_files(tmp_path: Path, es256_key: jwtkit.Key) -> tuple[str, str]:
    """(private JWK file, public PEM file) of the ES256 key."""
    import json

    private = write(tmp_path / "es256.jwk", json.dumps(es256_key.to_jwk(private=True)))
    public = write(tmp_path / "es256.pub.pem", es256_key.public_key().to_pem())
    return private, public


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    return write(tmp_path / "hs256.secret", SECRET + "\n")
