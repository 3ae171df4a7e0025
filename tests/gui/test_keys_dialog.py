"""Settings → Exchange keys: keys go to the keyring, only the masked key is shown, mistakes are said inline."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6 import QtWidgets
from pytestqt.qtbot import QtBot
from qt_async import keep

from app.bootstrap.container import Container
from infrastructure.keys import KeyStore, mask
from presentation.keys.dialog import KeysDialog
from presentation.main_window import MainWindow
from presentation.services import Services

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


def test_settings_exchange_keys_opens_the_dialog_over_the_keyring(
        qtbot: QtBot, container: Container, store: KeyStore, tmp_path: Path) -> None:
    window = MainWindow(Services(container), first_run_demo=False, log_path=tmp_path / "quantdesk.log")
    qtbot.addWidget(keep(window))
    window.show()
    store.set("binance", KEY, SECRET)
    bar = window.menuBar()
    assert bar is not None
    settings = next(m for m in bar.findChildren(QtWidgets.QMenu) if m.title() == "&Settings")
    next(a for a in settings.actions() if a.text().replace("&", "") == "Exchange keys…").trigger()
    dialog = window.findChild(KeysDialog)
    assert dialog is not None and dialog.isVisible() and mask(KEY) in dialog.stored.text()
