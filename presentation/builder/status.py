"""What the Builder's toolbar says about the draft: saved or not, and what blocks saving, in the Builder's words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt6 import QtCore, QtWidgets

from domain.strategy import ValidationIssue
from presentation.builder.draft import path_words
from presentation.builder.words import message_words

SHOWN_CHARS = 90  # the toolbar line stays one short line; the tooltip has every problem


def issue_text(issue: ValidationIssue, doc: Any = None) -> str:
    """"Long entry › condition 1 › SMA period: must be …" rather than the validator's dotted path."""
    words = path_words(issue.path, doc) if issue.path else ""
    message = message_words(issue.message)
    return f"{words}: {message}" if words else message


def save_state(issues: Sequence[ValidationIssue], dirty: bool, new: bool, doc: Any = None) -> tuple[str, str]:
    """(the toolbar's state line, the Save button's tooltip)."""
    if issues:
        n = len(issues)
        first = issue_text(issues[0], doc)
        line = f"Can't save: {n} problem{'s' if n != 1 else ''} to fix — {first}"
        if len(line) > SHOWN_CHARS:
            line = line[:SHOWN_CHARS - 1] + "…"
        return line, "Save is blocked until these are fixed:\n" + "\n".join(issue_text(i, doc) for i in issues)
    if dirty:
        return "Unsaved changes", "Save the strategy (Ctrl+S)"
    if new:
        return "New strategy, nothing to save yet", "Change something, then save it (Ctrl+S)"
    return "Saved", "Nothing changed since the last save"


def banner_label() -> QtWidgets.QLabel:
    """The line under the Builder's toolbar: what blocks Save, the look-ahead result (hidden when empty)."""
    label = QtWidgets.QLabel("")
    label.setObjectName("builderBanner")
    label.setWordWrap(True)
    label.setTextInteractionFlags(label.textInteractionFlags()
                                  | QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def tags_of(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def note_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel("")
    label.setStyleSheet("color: #ef5350;")
    label.hide()
    return label


def spacer() -> QtWidgets.QWidget:
    w = QtWidgets.QLabel("")
    w.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)
    return w
