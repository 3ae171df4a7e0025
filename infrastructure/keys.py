"""Exchange API keys in the operating system's keyring, never in the database, files or logs."""

from __future__ import annotations

from dataclasses import dataclass, field

import keyring
import keyring.backend
import keyring.core
import keyring.errors
from keyring.backends import chainer, fail

from app.errors import UserError
from infrastructure.exchanges.signing import mask

SERVICE = "QuantDesk"
EXCHANGES = ("binance", "upbit")
HOW_TO_CONFIGURE = (
    "no usable keyring backend: QuantDesk keeps exchange keys only in the operating system's keyring. "
    "Use the Keychain (macOS), the Credential Manager (Windows), or a Secret Service keyring such as GNOME "
    "Keyring or KWallet (Linux, unlocked in this session); or choose a backend with the PYTHON_KEYRING_BACKEND "
    "environment variable (see `python -m keyring diagnose`)"
)


class KeyStoreError(UserError):
    """The keyring is missing, locked or refused; the message never contains a key or a secret."""


@dataclass(frozen=True)
class ApiKeys:
    """An exchange's API key and secret; shown only with the key masked."""

    exchange: str
    key: str = field(repr=False)
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"ApiKeys(exchange={self.exchange!r}, key={mask(self.key)})"

    __str__ = __repr__

    @property
    def masked_key(self) -> str:
        return mask(self.key)


def usable_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """False for keyring's fail backend, and for a chainer that chains nothing."""
    if isinstance(backend, fail.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def environment_backend() -> keyring.backend.KeyringBackend:
    """The backend PYTHON_KEYRING_BACKEND names (read now, not cached), else keyring's own choice."""
    try:
        chosen = keyring.core.load_env()
    except (ImportError, AttributeError, RuntimeError, ValueError) as err:
        raise KeyStoreError(f"PYTHON_KEYRING_BACKEND names a backend that cannot be loaded ({err}); "
                            f"{HOW_TO_CONFIGURE}") from None
    return chosen if chosen is not None else keyring.get_keyring()


class KeyStore:
    """Per exchange two keyring entries under the service "QuantDesk": '<exchange>:key' and '<exchange>:secret'."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend if backend is not None else environment_backend()

    @property
    def backend_name(self) -> str:
        return type(self._backend).__name__

    def _ready(self) -> keyring.backend.KeyringBackend:
        if not usable_backend(self._backend):
            raise KeyStoreError(HOW_TO_CONFIGURE)
        return self._backend

    def set(self, exchange: str, key: str, secret: str) -> ApiKeys:
        _check_exchange(exchange)
        if not key.strip() or not secret.strip():
            raise KeyStoreError(f"{exchange}: both the API key and the secret are required")
        backend = self._ready()
        try:
            backend.set_password(SERVICE, f"{exchange}:key", key.strip())
            backend.set_password(SERVICE, f"{exchange}:secret", secret.strip())
        except keyring.errors.KeyringError as err:
            raise KeyStoreError(f"the keyring refused to store the {exchange} keys ({type(err).__name__})") from None
        return ApiKeys(exchange, key.strip(), secret.strip())

    def get(self, exchange: str) -> ApiKeys | None:
        _check_exchange(exchange)
        backend = self._ready()
        try:
            key = backend.get_password(SERVICE, f"{exchange}:key")
            secret = backend.get_password(SERVICE, f"{exchange}:secret")
        except keyring.errors.KeyringError as err:
            raise KeyStoreError(f"the keyring refused to read the {exchange} keys ({type(err).__name__})") from None
        if not key or not secret:
            return None
        return ApiKeys(exchange, key, secret)

    def require(self, exchange: str) -> ApiKeys:
        keys = self.get(exchange)
        if keys is None:
            raise KeyStoreError(f"no {exchange} API keys stored; add them with `quantdesk keys set --exchange "
                                f"{exchange}`")
        return keys

    def list(self) -> list[tuple[str, str]]:
        """(exchange, masked key) for every exchange with keys stored."""
        return [(k.exchange, k.masked_key) for k in (self.get(ex) for ex in EXCHANGES) if k is not None]

    def delete(self, exchange: str) -> bool:
        """Remove both entries; False when there was nothing to remove."""
        _check_exchange(exchange)
        backend = self._ready()
        removed = False
        for entry in (f"{exchange}:key", f"{exchange}:secret"):
            try:
                backend.delete_password(SERVICE, entry)
                removed = True
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as err:
                raise KeyStoreError(f"the keyring refused to delete the {exchange} keys "
                                    f"({type(err).__name__})") from None
        return removed


def _check_exchange(exchange: str) -> None:
    if exchange not in EXCHANGES:
        raise KeyStoreError(f"exchange: {exchange!r} has no private API here; choose one of {', '.join(EXCHANGES)}")
