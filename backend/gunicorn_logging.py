"""gunicorn's access log without manage or feed secrets (compose runs gunicorn with this logger class)."""

from gunicorn.glogging import Logger

from backend.logging import redact_links

# The request line, the path and the referrer can each carry a /manage/<token>/ or /feeds/<key> address.
_REDACTED_ATOMS = ("r", "U", "f")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _REDACTED_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_links(atoms[name])
        return atoms
