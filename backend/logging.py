"""Logging filters: what must never reach a log line."""

import logging
import re

# A manage link opens a patient's appointment and the health answers given with it: it is a password.
_MANAGE_LINK = re.compile(r"/(manage|feeds)/[^/\s\"']+")


def redact_links(text: str) -> str:
    return _MANAGE_LINK.sub(r"/\1/…", text)


class RedactManageLinks(logging.Filter):
    """Replaces the token of every /manage/<token>/ path in a record with "…" (Django logs 4xx paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/manage/" in message or "/feeds/" in message:
            record.msg = redact_links(message)
            record.args = ()
        return True
