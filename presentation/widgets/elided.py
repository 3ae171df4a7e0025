"""A one-line label that elides what does not fit (the whole text in its tooltip), so layouts never jump."""

from __future__ import annotations

from PyQt6 import QtCore, QtGui, QtWidgets


class ElidedLabel(QtWidgets.QLabel):
    """`text()` stays the whole text; it is drawn on one line (line breaks read as " · "), cut with "…"."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setToolTip(text)

    def setText(self, text: str | None) -> None:  # noqa: N802
        super().setText(text)
        self.setToolTip(text or "")

    def one_line(self) -> str:
        return " · ".join(part.strip() for part in self.text().splitlines() if part.strip())

    def shown(self) -> str:
        """What is drawn at the current width."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.one_line(), QtCore.Qt.TextElideMode.ElideRight, width)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(self.fontMetrics().horizontalAdvance(self.one_line()), self.minimumSizeHint().height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        margins = self.contentsMargins()
        return QtCore.QSize(40, self.fontMetrics().height() + margins.top() + margins.bottom())

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:  # noqa: N802
        painter = QtGui.QPainter(self)
        painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        align = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.contentsRect(), align, self.shown())
        painter.end()
