"""The service's logging as ``jwtkit serve`` sets it up: uvicorn's configuration, with
``log_format = "json"`` one JSON object per line (docs/server-configuration.md, ``log_format``).

:class:`JsonFormatter` writes ``time`` (UTC, ISO 8601 with milliseconds), ``level``,
``logger`` and ``message``, then the record's ``json_fields``: the audit events' fields
(:mod:`~jwtkit.server.audit`: an event is one object, never a JSON string inside one) and the
access log's ``method``, ``path``, ``status``, ``duration`` and ``client``
(:func:`~jwtkit.server.http.middleware.request_observer`). A traceback becomes
``exception``. The formatter is a few lines over the standard library, so the service needs no
logging package; it knows the service's two kinds of structured records, which a generic
library would have to be taught anyway.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime, timezone
from typing import Any

__all__ = ["JsonFormatter", "log_config"]

#: The fields every line starts with; a record's ``json_fields`` never replace them.
_BASE = ("time", "level", "logger", "message")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "json_fields", None) or {})
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": fields.pop("message", None) or record.getMessage(),
        }
        for name, value in fields.items():
            line.setdefault(name, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))


def log_config(level: str, log_format: str) -> dict[str, Any]:
    """uvicorn's logging configuration, with the ``jwtkit`` loggers at ``level`` (``trace``
    is ``DEBUG`` for them) on uvicorn's handler; ``json`` formats every line with
    :class:`JsonFormatter` (uvicorn's own access log is then off: the service writes one with
    the duration, which uvicorn's lacks)."""
    from uvicorn.config import LOGGING_CONFIG  # noqa: PLC0415 - server extra

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    name = "DEBUG" if level == "trace" else level.upper()
    config["loggers"]["jwtkit"] = {"handlers": ["default"], "level": name, "propagate": False}
    if log_format == "json":
        json_formatter = {"()": f"{__name__}.JsonFormatter"}
        config["formatters"] = {"default": json_formatter, "access": dict(json_formatter)}
        # The access lines go where uvicorn's went (standard output).
        config["loggers"]["jwtkit.access"] = {
            "handlers": ["access"],
            "level": name,
            "propagate": False,
        }
    return config
