"""Settings → Exchange keys: keys go to the keyring, only the masked key is shown, mistakes are said inline."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from infrastructure.keys import KeyStore, mask
from presentation.keys.dialog import KeysDialog

KEY, SECRET = "AbCdEfGh" * 8, "sEcReT" * 10


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> KeyStore:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.MemoryKeyring")
    from tests.keyring_backend import MemoryKeyring

    MemoryKeyring.entries.clear()
    return KeyStore()


def test_keys_typed_into_the_dialog_are_stored_and_shown_masked_only(qtbot: QtBot, store: KeyStore) -> None:
    dialog = KeysDialog(store)
    qtbot.addWidget(dialog)
    dialog.exchange.setCurrentIndex(dialog.exchange.findData("upbit"))
    qtbot.keyClicks(dialog.key, KEY)
    qtbot.keyClicks(dialog.secret, SECRET)
    qtbot.mouseClick(dialog.save_button, pytest.importorskip("PyQt6.QtCore").Qt.MouseButton.LeftButton)
    assert store.require("upbit").secret == SECRET
    shown = dialog.stored.text() + dialog.message.text()
    assert mask(KEY) in shown and KEY not in shown and SECRET not in shown
    assert dialog.secret.text() == "" and dialog.key.text() == ""


def test_an_empty_secret_and_deleting_nothing_are_said_inline(qtbot: QtBot, store: KeyStore) -> None:
    dialog = KeysDialog(store)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.key, KEY)
    dialog.save()
    assert "both the API key and the secret are required" in dialog.message.text()
    dialog.delete()
    assert dialog.message.text() == "no binance keys are stored"
