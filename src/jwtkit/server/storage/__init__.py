"""Storage of the token service: the :class:`Store` contract and its backends.

:func:`open_store` picks a backend from a database URL (the ``--database`` flag or
``JWTKIT_DATABASE``):

* ``jwtkit.db``, ``./data/jwtkit.db``: a bare path is an SQLite file;
* ``sqlite:///jwtkit.db`` (relative), ``sqlite:////var/lib/jwtkit/jwtkit.db`` (absolute,
  four slashes, as in SQLAlchemy) and ``sqlite:///:memory:``: SQLite;
* options of an SQLite URL: ``?busy_timeout=10`` (seconds a write waits for the lock) and
  ``?synchronous=NORMAL`` (skip the fsync per commit; see :class:`SQLiteStore`);
* ``postgresql://user:password@host:5432/jwtkit`` (or ``postgres://``): PostgreSQL
  (:class:`~.postgres.PostgresStore`, the ``postgresql`` extra); libpq's URL, plus the pool's
  options ``?pool_size=10&pool_min_size=1&pool_timeout=5``;
* ``redis://...`` is refused: Redis is shared beside the database (the ``redis`` setting),
  never instead of it.

The returned store is not open yet: ``await store.open()`` (or ``async with store:``) connects
and migrates. ``access`` says whether opening may create the database (``"create"``, the
default: ``jwtkit serve``) or needs an existing one, for writing (``"write"``) or only for
reading (``"read"``: the admin commands that list); see :data:`~.base.Access`. See
``docs/storage.md``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl

from .base import (
    Access,
    Conflict,
    DatabaseMissing,
    SchemaStatus,
    Store,
    StoreError,
    VersionedStore,
)
from .sqlite import SQLiteStore

__all__ = [
    "Access",
    "Conflict",
    "DatabaseMissing",
    "SQLiteStore",
    "SchemaStatus",
    "Store",
    "StoreError",
    "VersionedStore",
    "open_store",
]

_POSTGRES = {"postgres", "postgresql"}

_SYNCHRONOUS: dict[str, Literal["FULL", "NORMAL"]] = {"FULL": "FULL", "NORMAL": "NORMAL"}


def open_store(url: str, *, busy_timeout: float = 5.0, access: Access = "create") -> VersionedStore:
    """The backend for ``url``, not yet opened; :class:`StoreError` for an unsupported URL.

    With ``access`` ``"write"`` or ``"read"``, :meth:`Store.open` raises
    :class:`DatabaseMissing` instead of creating a database (PostgreSQL: the schema in the
    existing database). Error messages never show a URL's password. A PostgreSQL URL needs
    the ``postgresql`` extra (:class:`~jwtkit._extras.MissingExtra` otherwise).
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        if not url:
            raise StoreError("the database URL is empty")
        return SQLiteStore(url, busy_timeout=busy_timeout, access=access)
    scheme = scheme.lower()
    if scheme == "sqlite":
        return _sqlite_url(rest, busy_timeout, access)
    if scheme in _POSTGRES:
        from .postgres import PostgresStore  # noqa: PLC0415 - the postgresql extra

        return PostgresStore(f"{scheme}://{rest}", access=access)  # libpq: a lowercase scheme
    base = scheme.split("+", 1)[0]
    if base in {"redis", "rediss"}:
        raise StoreError(
            f"{scheme}:// is not a database: Redis is what several instances share beside the "
            "database (the redis setting, JWTKIT_REDIS); the database is a file path or "
            "sqlite:///path.db"
        )
    raise StoreError(
        f"unsupported database URL scheme {scheme!r}: use a file path, sqlite:///path.db"
        " or postgresql://user:password@host/database"
    )


def _sqlite_url(rest: str, busy_timeout: float, access: Access) -> SQLiteStore:
    """``sqlite:///path?busy_timeout=10&synchronous=NORMAL`` (what follows ``sqlite://``)."""
    location, _, query = rest.partition("?")
    if not location.startswith("/") or location == "/":
        raise StoreError(
            "an SQLite URL is sqlite:///relative/path.db, sqlite:////absolute/path.db"
            " or sqlite:///:memory:"
        )
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - {"busy_timeout", "synchronous"})
    if unknown:
        raise StoreError(f"unknown SQLite URL option(s) {', '.join(map(repr, unknown))}")
    synchronous = _SYNCHRONOUS.get(options.get("synchronous", "FULL").upper())
    if synchronous is None:
        raise StoreError("the SQLite URL option synchronous must be FULL or NORMAL")
    try:
        timeout = float(options.get("busy_timeout", busy_timeout))
        return SQLiteStore(
            location[1:], busy_timeout=timeout, synchronous=synchronous, access=access
        )
    except ValueError:
        raise StoreError(
            "the SQLite URL option busy_timeout must be a number of seconds >= 0"
        ) from None
