"""Claim paths: where a claim sits in a JWT Claims Set, as a tuple of member names and array
indexes, written as a JSON Pointer (RFC 6901): ``/address/street_address``,
``/nationalities/0``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._messages import short
from ..errors import UsageError

__all__ = ["Path", "PathLike", "format_pointer", "parse_path", "parse_paths", "same_step"]

Path = tuple[str | int, ...]
PathLike = str | Sequence[str | int]


def _unescape(token: str, pointer: str) -> str:
    """RFC 6901 §4: ``~1`` is ``/``, ``~0`` is ``~``; any other ``~`` is an error."""
    if "~" in token.replace("~0", "").replace("~1", ""):
        raise UsageError(f"path {short(pointer)}: '~' must be written '~0' (RFC 6901 §3)")
    return token.replace("~1", "/").replace("~0", "~")


def parse_path(path: PathLike) -> Path:
    """A path from a JSON Pointer (``"/a/0"``) or a sequence (``("a", 0)``). In a pointer, a
    token of decimal digits is an array index where the value is an array, so it is kept as
    text here and matched against both."""
    if isinstance(path, str):
        if not path.startswith("/"):
            raise UsageError(f"path {short(path)}: a JSON Pointer starts with '/' (RFC 6901)")
        return tuple(_unescape(token, path) for token in path[1:].split("/"))
    if not isinstance(path, Sequence) or not path:
        raise UsageError("path: expected a JSON Pointer string or a non-empty sequence")
    for part in path:
        if type(part) is not int and not isinstance(part, str):
            raise UsageError(f"path: {short(part)} is neither a name nor an index")
    return tuple(path)


def parse_paths(paths: Iterable[PathLike]) -> list[Path]:
    """Every path of ``paths`` (a single JSON Pointer string is refused: pass a list)."""
    if isinstance(paths, (str, bytes)):
        raise UsageError("paths must be a list of JSON Pointers, e.g. ['/email'], not a string")
    return [parse_path(path) for path in paths]


def format_pointer(path: Path) -> str:
    """A path as a JSON Pointer (RFC 6901 §5)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def same_step(step: str | int, part: str | int) -> bool:
    """Whether a path's ``step`` names the member or index ``part`` (an index may be written
    as text, as in a JSON Pointer; where a value is an array or an object is never both)."""
    return str(step) == str(part)
