"""Log lines on stderr: readable text on a terminal, JSON lines elsewhere; personal data masked.

Every record that reaches the handler, from any logger (Herald's, Dramatiq's, uvicorn's...), first
goes through ``MaskPersonalData``: its message with its arguments, its extra fields and its
exception text are masked (``shared.runtime.masking``) and stripped of terminal escapes. The formatters
only lay the record out.
"""

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from shared.correlation import current_correlation_id
from shared.runtime.masking import mask_sensitive

LOG_FORMATS = ("auto", "text", "json")

# LogRecord attributes that are not "extra" fields a caller passed.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# uvicorn's copy of its message with ANSI colours in it; the message itself says the same.
_DROPPED_EXTRAS = {"color_message"}
# CSI sequences (colours, cursor moves) and other two-character escapes.
_TERMINAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# uvicorn names the address the server listens on: that is the server's, not a person's.
_SERVER_LISTEN_LINE = "Uvicorn running on "

# Libraries that narrate routine work at INFO (APScheduler every run, httpx every request,
# Dramatiq every worker step). They speak from WARNING up unless LOG_LEVEL=DEBUG asks for all.
_QUIET_LIBRARIES = ("apscheduler", "dramatiq", "httpx", "httpcore", "uvicorn.access", "alembic", "asyncio")
# pika logs every failed connection attempt with a traceback; Herald's own code reports
# connection trouble in one line where it matters.
_SILENT_LIBRARIES = ("pika",)


def _clean(text: str) -> str:
    return mask_sensitive(_TERMINAL_ESCAPE.sub("", text))


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {_clean_value(key): _clean_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean_value(item) for item in value]
    return _clean(str(value))


class MaskPersonalData(logging.Filter):
    """Masks a record in place: message and arguments, extra fields, exception and stack text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the caller's log call
            message = f"{record.msg} {record.args!r}"
        if record.name == "uvicorn.error" and message.startswith(_SERVER_LISTEN_LINE):
            record.msg = _TERMINAL_ESCAPE.sub("", message)
        else:
            record.msg = _clean(message)
        record.args = None
        # A client chooses its correlation id: it is masked like everything else a client sends.
        if not getattr(record, "correlation_id", None) and (correlation_id := current_correlation_id()):
            record.correlation_id = correlation_id
        for key in list(vars(record)):
            if key in _DROPPED_EXTRAS:
                delattr(record, key)
            elif key not in _STANDARD_ATTRIBUTES:
                setattr(record, key, _clean_value(getattr(record, key)))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info)
        return True


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRIBUTES and key not in _DROPPED_EXTRAS and key != "correlation_id"
    }
    correlation_id = getattr(record, "correlation_id", None)
    return {"correlation_id": correlation_id, **fields} if correlation_id else fields


def _exception_text(record: logging.LogRecord) -> str | None:
    # MaskPersonalData leaves the masked traceback in exc_text; never format exc_info again here.
    return record.exc_text or None


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extra_fields(record).items():
            entry.setdefault(key, value)
        if exception := _exception_text(record):
            entry["exc"] = exception
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``08:15:00.123 INFO    notifier     alert sent  job_id=… to=b***@example.mn``, for people."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + f"{int(record.msecs):03d}"
        fields = _extra_fields(record)
        if not record.name.startswith("herald"):
            fields = {"logger": record.name, **fields}
        line = f"{time} {record.levelname:<7} {self._service:<11}  {_printable(record.getMessage())}"
        if fields:
            line += "  " + " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        if exception := _exception_text(record):
            line += "\n" + exception
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def _printable(text: str) -> str:
    # A value with a line break in it must not be able to fake a second log line.
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _text_value(value: Any) -> str:
    if isinstance(value, str):
        if value and value.isprintable() and not any(c in value for c in ' ="'):
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def chosen_format(log_format: str, stream: TextIO) -> str:
    """``text`` or ``json``: ``auto`` is text on a terminal, JSON anywhere else."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    if log_format != "auto":
        return log_format
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(service: str, level: str = "INFO", log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr), masked, as text or JSON.

    ``level`` applies to Herald's loggers; libraries that narrate routine work speak from WARNING
    up unless ``level`` is DEBUG.
    """
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalData())
    formatter_class = TextFormatter if chosen_format(log_format, stream) == "text" else JsonFormatter
    handler.setFormatter(formatter_class(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    everything = root.level <= logging.DEBUG
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if everything else max(logging.WARNING, root.level))
    for name in _SILENT_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if everything else max(logging.CRITICAL, root.level))
