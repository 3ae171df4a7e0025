"""A tab's stand-in while the real tab is being built: its title and a neutral line of text."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

LOADING = "Loading…"


class EmptyState(QtWidgets.QWidget):
    """Title, a line of text and an optional hint, centred. The window replaces it with the real tab."""

    def __init__(self, title: str, text: str = LOADING, hint: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"empty{title}")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addStretch(2)
        for name, value in (("emptyTitle", title), ("emptyText", text), ("hint", hint)):
            if not value:
                continue
            label = QtWidgets.QLabel(value)
            label.setObjectName(name)
            label.setWordWrap(True)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setFixedWidth(620)
            label.setMinimumHeight(label.heightForWidth(620))  # aligned items get no height-for-width
            lay.addWidget(label, 0, QtCore.Qt.AlignmentFlag.AlignHCenter)
            lay.addSpacing(8)
        lay.addStretch(3)
