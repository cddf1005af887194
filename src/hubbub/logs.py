"""The server's log lines: text for people (the default), or one JSON object a line for
a log collector (``[server] log_format = "json"``)."""

from __future__ import annotations

import json
import logging
import time


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: ``time`` (UTC, ISO 8601, milliseconds), ``level``,
    ``logger``, ``message``, the connection's ``conn`` id when it has one, and
    ``exception`` with its traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, object] = {
            "time": f"{seconds}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        conn = getattr(record, "conn", None)
        if conn is not None:
            line["conn"] = conn
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, form: str) -> None:
    """Send the log to stderr at ``level``, as ``form`` ("text" or "json") says."""
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
