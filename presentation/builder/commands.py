"""Undoable edits of the draft: set one value at a path; consecutive edits of one field merge into one step."""

from __future__ import annotations

import copy
from typing import Any, Protocol

from PyQt6 import QtGui

from presentation.builder.draft import Path, path_words

MERGE_ID = 7001


class Editable(Protocol):
    def apply(self, path: Path, value: Any, rebuild: bool) -> None: ...


class SetValue(QtGui.QUndoCommand):
    """`structural` edits (rows added, an indicator picked) rebuild the editor; plain values do not the
    first time (the widget already shows them) but do on undo/redo."""

    def __init__(self, target: Editable, path: Path, old: Any, new: Any, structural: bool, text: str) -> None:
        super().__init__(text)
        self.target, self.path = target, path
        self.old, self.new = copy.deepcopy(old), copy.deepcopy(new)
        self.structural = structural
        self.first = True

    def redo(self) -> None:
        self.target.apply(self.path, self.new, rebuild=self.structural or not self.first)
        self.first = False

    def undo(self) -> None:
        self.target.apply(self.path, self.old, rebuild=True)

    def id(self) -> int:
        return -1 if self.structural else MERGE_ID

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if not isinstance(other, SetValue) or other.path != self.path or other.structural:
            return False
        self.new = copy.deepcopy(other.new)
        return True


def describe(path: Path, doc: Any = None) -> str:
    """Undo-menu text for an edit at `path` (in the Builder's words, naming the indicator when `doc` is given)."""
    if not path:
        return "Replace strategy"
    return f"Edit {path_words(path, doc)}"
