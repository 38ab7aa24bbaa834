"""Field-level encryption for health data: the column holds a Fernet token, the model holds the value.

Keys come from `settings.INTAKE_ENCRYPTION_KEYS`: the first encrypts, every one decrypts (MultiFernet). So a key
rotates without downtime: put the new key first, restart, run `manage.py rotate_intake_keys`, drop the old one.
"""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models

# .env.example carries this key so that the file starts Meridian as it is; `make .env` replaces it. It is
# public, so a deployment that still uses it is refused by the system checks that `manage.py migrate` runs.
PLACEHOLDER_KEY = "REPLACE-ME-make-env-writes-a-fresh-key-here="


class UndecryptableValue(Exception):
    """A stored token that no configured key opens. Never carries the token: it may end up in a log."""


_UNDECRYPTABLE = (
    "A value could not be decrypted with any key in INTAKE_ENCRYPTION_KEYS: its key was dropped "
    "(before rotate_intake_keys ran?) or the stored value was altered."
)


# Keyed by the key list, so a change of settings (a test, a rotation) gets a new MultiFernet, not a stale one.
@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    return Fernet(key)


def _configured() -> MultiFernet:
    return _multi_fernet(tuple(settings.INTAKE_ENCRYPTION_KEYS))


def encrypt(plaintext: bytes) -> str:
    return _configured().encrypt(plaintext).decode()


def decrypt(token: str) -> bytes:
    try:
        return _configured().decrypt(token)
    except InvalidToken:
        raise UndecryptableValue(_UNDECRYPTABLE) from None


def token_rotate(token: str) -> str | None:
    """The token re-encrypted with the first key, or None when the first key already opens it."""
    try:
        _fernet(settings.INTAKE_ENCRYPTION_KEYS[0]).decrypt(token)
        return None
    except InvalidToken:
        pass
    try:
        return _configured().rotate(token).decode()
    except InvalidToken:
        raise UndecryptableValue(_UNDECRYPTABLE) from None


class EncryptedJSONField(models.Field):
    """A JSON value stored as a Fernet token in a text column.

    The database cannot compare ciphertexts, so every lookup but `isnull` raises: nobody filters on health data
    by accident and silently gets nothing back.
    """

    description = "JSON encrypted at rest (Fernet)"
    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "TextField"

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(json.dumps(value, separators=(",", ":")).encode())

    def from_db_value(self, value: str | None, expression, connection) -> Any:
        return None if value is None else json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        # A string here is the token that value_to_string wrote into a fixture (the value itself is never a string).
        return json.loads(decrypt(value)) if isinstance(value, str) else value

    def value_to_string(self, obj: models.Model) -> str | None:
        # dumpdata writes the token, not the answers: a fixture file is no place for health data.
        return self.get_prep_value(self.value_from_object(obj))

    def get_lookup(self, lookup_name: str):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be searched "
                f"('{lookup_name}'); only isnull is allowed."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, name: str):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: its parts ('{name}') cannot be queried.")


# Registered here, next to the key it guards; patients/models.py imports this module when the app loads.
@checks.register(checks.Tags.security)
def placeholder_key_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if PLACEHOLDER_KEY not in settings.INTAKE_ENCRYPTION_KEYS:
        return []
    return [
        checks.Error(
            "INTAKE_ENCRYPTION_KEYS holds the placeholder key from .env.example, which anyone can read.",
            hint="Run `make .env`, or put a key from Fernet.generate_key() in INTAKE_ENCRYPTION_KEYS.",
            id="patients.E001",
        )
    ]
