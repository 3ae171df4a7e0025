"""The Builder's draft on disk and in the store: save, save as, revert, open, new, import/export, unsaved prompt."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any, cast

from PyQt6 import QtWidgets

from domain.strategy import StrategyInvalid, ValidationIssue, loads_json
from presentation.builder.draft import new_strategy, normalized
from presentation.builder.form import mark

if TYPE_CHECKING:
    from app.strategies.service import StrategyService

log = logging.getLogger("quantdesk.gui")


class DraftFiles:
    """Mixed into BuilderTab: everything that moves the draft in or out. The `ask_*` callables are the
    dialogs (tests replace them with answers)."""

    service: StrategyService
    doc: dict[str, Any]
    saved_doc: dict[str, Any] | None
    strategy_id: int | None
    issues: list[ValidationIssue]
    fields: dict[str, QtWidgets.QWidget]
    notes: dict[str, QtWidgets.QLabel]
    problems: QtWidgets.QLabel
    undo: Any
    saved: Any
    ask_unsaved: Callable[[str, str], str]
    ask_name: Callable[[str], str | None]
    ask_path: Callable[[bool], str | None]

    if TYPE_CHECKING:  # provided by BuilderTab
        @property
        def dirty(self) -> bool: ...

        def set_draft(self, doc: dict[str, Any], strategy_id: int | None, saved: bool = True) -> None: ...

        def edit(self, path: Any, value: Any, structural: bool) -> None: ...

        def show_blockers(self) -> None: ...

    def save(self) -> bool:
        if self.issues:
            self.show_blockers()
            return False
        doc = copy.deepcopy(self.doc)
        result = (self.service.update(self.strategy_id, doc) if self.strategy_id is not None
                  else self.service.create(doc))
        return self._after_save(result)

    def save_as(self, name: str | None = None) -> bool:
        if self.issues:
            self.show_blockers()
            return False
        name = name or self.ask_name(f"{self.doc.get('name', '')} (copy)")
        if not name:
            return False
        doc = copy.deepcopy(self.doc) | {"name": name}
        return self._after_save(self.service.create(doc))

    def _after_save(self, result: Any) -> bool:
        if not result.ok:  # e.g. the name is taken: said where the user looks, in the Builder's words
            self.issues = list(result.errors)
            mark(self.issues, self.fields, self.notes)
            self.show_blockers()
            return False
        record = result.record
        self.set_draft(record.definition | {"tags": list(record.summary.tags)}, record.id)
        log.info("saved strategy %r", record.name)
        self.saved.emit(record.id)
        return True

    def revert(self) -> None:
        if self.saved_doc is not None:
            self.edit((), self.saved_doc, True)

    def open_strategy(self, strategy_id: int) -> bool:
        if not self.confirm_discard():
            return False
        record = self.service.get(strategy_id)
        if record is None:
            return False
        self.set_draft(record.definition | {"tags": list(record.summary.tags)}, record.id)
        return True

    def new_draft(self) -> bool:
        if not self.confirm_discard():
            return False
        self.set_draft(new_strategy(), None)  # a fresh template is not "unsaved changes"
        return True

    def confirm_discard(self) -> bool:
        """True when there are no unsaved changes, or the user saved or discarded them."""
        if not self.dirty or (self.saved_doc is None and self.undo.count() == 0 and self.strategy_id is None
                              and self.doc == normalized(new_strategy())):
            return True
        answer = self.ask_unsaved("Unsaved changes", f"Save the changes to {self.doc.get('name')!r}?")
        return answer == "discard" or (answer == "save" and self.save())

    def import_file(self, path: str | None = None) -> bool:
        path = path or self.ask_path(False)
        if not path or not self.confirm_discard():
            return False
        try:
            value = loads_json(FilePath(path).read_bytes())
        except (OSError, StrategyInvalid) as err:
            self._problem(f"{path}: {err}")
            return False
        if not isinstance(value, dict):
            self._problem(f"{path}: holds {type(value).__name__}, not one strategy object")
            return False
        self.set_draft(value, None, saved=False)
        return True

    def export_file(self, path: str | None = None) -> bool:
        path = path or self.ask_path(True)
        if not path:
            return False
        try:
            FilePath(path).write_text(json.dumps(self.doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as err:
            self._problem(f"export failed: {err}")
            return False
        return True

    def _problem(self, text: str) -> None:
        self.problems.setText(text)
        self.problems.show()

    @property
    def _widget(self) -> QtWidgets.QWidget:
        return cast(QtWidgets.QWidget, self)

    # ---- dialogs ---------------------------------------------------------------------------------------------
    def _ask_unsaved(self, title: str, text: str) -> str:
        b = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(self._widget, title, text, b.Save | b.Discard | b.Cancel, b.Save)
        return {b.Save: "save", b.Discard: "discard"}.get(answer, "cancel")

    def _ask_name(self, suggested: str) -> str | None:
        name, ok = QtWidgets.QInputDialog.getText(self._widget, "Save as", "New name", text=suggested)
        return name.strip() if ok and name.strip() else None

    def _ask_path(self, saving: bool) -> str | None:
        dlg = QtWidgets.QFileDialog.getSaveFileName if saving else QtWidgets.QFileDialog.getOpenFileName
        path, _ = dlg(self._widget, "Strategy JSON", f"{self.doc.get('name', 'strategy')}.json" if saving else "",
                      "JSON (*.json)")
        return path or None
