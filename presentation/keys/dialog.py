"""Settings → Exchange keys: store, see (masked) and delete exchange API keys in the OS keyring."""

from __future__ import annotations

from PyQt6 import QtWidgets

from app.errors import UserError
from app.live.trading.ports import ApiKeyStore

EXCHANGES = (("Binance USDT-M", "binance"), ("Upbit", "upbit"))


class KeysDialog(QtWidgets.QDialog):
    """The secret is typed into a password field and goes straight to the keyring; nothing else keeps it."""

    def __init__(self, store: ApiKeyStore, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Exchange keys")
        self.exchange = QtWidgets.QComboBox()
        for label, code in EXCHANGES:
            self.exchange.addItem(label, code)
        self.key = QtWidgets.QLineEdit(placeholderText="API key")
        self.secret = QtWidgets.QLineEdit(placeholderText="API secret")
        self.secret.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.stored = QtWidgets.QLabel()
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.save_button = QtWidgets.QPushButton("Save to keyring")
        self.delete_button = QtWidgets.QPushButton("Delete")
        close = QtWidgets.QPushButton("Close")
        form = QtWidgets.QFormLayout()
        form.addRow("Exchange", self.exchange)
        form.addRow("API key", self.key)
        form.addRow("API secret", self.secret)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.save_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.stored)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        close.clicked.connect(self.accept)
        self.refresh()

    def refresh(self) -> None:
        try:
            rows = self.store.list()
        except UserError as err:
            self._say(str(err), error=True)
            return
        self.stored.setText("Stored: " + (", ".join(f"{ex} {masked}" for ex, masked in rows) if rows else "none"))

    def save(self) -> None:
        exchange = self.exchange.currentData()
        try:
            keys = self.store.set(exchange, self.key.text(), self.secret.text())
        except UserError as err:
            self._say(str(err), error=True)
            return
        self.key.clear()
        self.secret.clear()  # the secret leaves the dialog for the keyring only
        self._say(f"{exchange}: key {keys.masked_key} stored in the {self.store.backend_name} keyring")
        self.refresh()

    def delete(self) -> None:
        exchange = self.exchange.currentData()
        try:
            removed = self.store.delete(exchange)
        except UserError as err:
            self._say(str(err), error=True)
            return
        self._say(f"{exchange}: keys removed" if removed else f"no {exchange} keys are stored", error=not removed)
        self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #f23645;" if error else "")
