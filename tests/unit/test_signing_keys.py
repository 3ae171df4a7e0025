"""API keys in the keyring: stored, listed masked, deleted, and refused clearly without a usable backend."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail

from infrastructure.keys import SERVICE, KeyStore, KeyStoreError, environment_backend

KEY = "AKIDbinance0123456789abcdefKEY1"
SECRET = "s3cr3t-binance-0123456789-abcdefghijklmnop"


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> KeyStore:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.MemoryKeyring")
    from tests.keyring_backend import MemoryKeyring

    MemoryKeyring.entries.clear()
    return KeyStore()


def test_keys_set_are_read_back_from_the_backend_named_by_the_environment(memory_keyring: KeyStore) -> None:
    memory_keyring.set("binance", KEY, SECRET)
    keys = KeyStore().require("binance")
    assert (keys.key, keys.secret) == (KEY, SECRET)
    assert memory_keyring.backend_name == "MemoryKeyring"


def test_keys_live_under_the_quantdesk_service_one_entry_for_key_and_one_for_secret(memory_keyring: KeyStore) -> None:
    from tests.keyring_backend import MemoryKeyring

    memory_keyring.set("upbit", KEY, SECRET)
    assert MemoryKeyring.entries == {(SERVICE, "upbit:key"): KEY, (SERVICE, "upbit:secret"): SECRET}


def test_list_shows_each_exchange_with_its_key_masked_and_never_the_secret(memory_keyring: KeyStore) -> None:
    memory_keyring.set("binance", KEY, SECRET)
    listed = memory_keyring.list()
    assert listed == [("binance", "AKID…KEY1")]
    assert KEY not in str(listed) and SECRET not in str(listed)


def test_delete_removes_the_keys_and_reports_whether_there_were_any(memory_keyring: KeyStore) -> None:
    memory_keyring.set("upbit", KEY, SECRET)
    assert memory_keyring.delete("upbit") is True
    assert memory_keyring.get("upbit") is None
    assert memory_keyring.delete("upbit") is False


def test_missing_keys_are_reported_with_the_command_that_adds_them(memory_keyring: KeyStore) -> None:
    with pytest.raises(KeyStoreError, match="quantdesk keys set --exchange upbit"):
        memory_keyring.require("upbit")


def test_an_unknown_exchange_is_named_in_the_error(memory_keyring: KeyStore) -> None:
    with pytest.raises(KeyStoreError, match="'kraken'"):
        memory_keyring.set("kraken", KEY, SECRET)


class EmptyChainer(chainer.ChainerBackend):
    """What keyring builds on a machine with no viable backend to chain."""

    backends = []  # type: ignore[assignment]


@pytest.mark.parametrize("backend", [fail.Keyring(), EmptyChainer()], ids=["fail", "empty-chainer"])
def test_without_a_usable_backend_every_operation_says_how_to_configure_one(backend: KeyringBackend) -> None:
    store = KeyStore(backend)
    for call in (lambda: store.set("binance", KEY, SECRET), lambda: store.get("binance"), store.list):
        with pytest.raises(KeyStoreError, match="PYTHON_KEYRING_BACKEND"):
            call()


def test_a_backend_name_that_cannot_be_loaded_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.NoSuchKeyring")
    with pytest.raises(KeyStoreError, match="cannot be loaded"):
        environment_backend()


def test_the_file_backend_shares_keys_between_store_instances(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.FileKeyring")
    monkeypatch.setenv("QUANTDESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    KeyStore().set("binance", KEY, SECRET)
    assert KeyStore().require("binance").secret == SECRET


def test_keys_never_appear_in_reprs_errors_or_logs(memory_keyring: KeyStore, caplog: pytest.LogCaptureFixture) -> None:
    keys = memory_keyring.set("binance", KEY, SECRET)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("quantdesk").info("using %s / %r", keys, keys)
    texts = [repr(keys), str(keys), f"{keys}", caplog.text]
    assert all(KEY not in t and SECRET not in t for t in texts)
    assert "AKID…KEY1" in caplog.text
