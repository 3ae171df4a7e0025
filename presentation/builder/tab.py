"""Builder tab: a visual editor of one strategy definition with live validation, undo/redo and a chart preview."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import Timeframe
from domain.strategy import StrategyInvalid, ValidationIssue, parse_strategy
from presentation.builder.checks import DraftChecks
from presentation.builder.commands import SetValue, describe
from presentation.builder.draft import (
    CROSSOVER_HELP,
    CROSSOVER_LABELS,
    DIRECTION_LABELS,
    SIDE_HELP,
    SIDE_LABELS,
    Path,
    default_op,
    for_validation,
    get_at,
    new_group,
    new_strategy,
    normalized,
    path_text,
    set_at,
    side_enabled,
)
from presentation.builder.files import DraftFiles
from presentation.builder.form import RiskPanel, ScaleInPanel, SidePanel
from presentation.builder.lookahead import LookaheadRunner
from presentation.builder.operand import Ctx
from presentation.builder.preview import PreviewPane
from presentation.builder.status import banner_label, note_label, save_state, spacer, tags_of

if TYPE_CHECKING:
    from app.strategies.service import StrategyService
    from presentation.services import Services

log = logging.getLogger("quantdesk.gui")
PREVIEW_DEBOUNCE_MS = 250
Ask = Callable[[str, str], str]  # (title, text) -> "save" | "discard" | "cancel"


class BuilderTab(DraftChecks, DraftFiles, QtWidgets.QWidget):
    """Emits `saved(id)` after a successful save."""

    saved = QtCore.pyqtSignal(int)
    validated = QtCore.pyqtSignal(int)  # number of problems

    def __init__(self, service: StrategyService, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.services = service, services
        self.doc: dict[str, Any] = new_strategy()
        self.saved_doc: dict[str, Any] | None = None
        self.strategy_id: int | None = None
        self.issues: list[ValidationIssue] = []
        self.fields: dict[str, QtWidgets.QWidget] = {}
        self.notes: dict[str, QtWidgets.QLabel] = {}
        self.ask_unsaved: Ask = self._ask_unsaved
        self.ask_name: Callable[[str], str | None] = self._ask_name
        self.ask_path: Callable[[bool], str | None] = self._ask_path
        self.undo = QtGui.QUndoStack(self)
        self.debounce = QtCore.QTimer(self, singleShot=True, interval=PREVIEW_DEBOUNCE_MS)
        self.debounce.timeout.connect(self.update_preview)
        self.preview = PreviewPane(services)
        self.preview.series_changed.connect(self._on_series)
        self.base: Timeframe | None = None  # the preview's bar length: operand timeframes are its multiples
        self.lookahead = LookaheadRunner(self)
        self.lookahead.finished.connect(self._on_lookahead)
        self.lookahead.failed.connect(lambda text, token: self._say(f"Look-ahead check failed: {text}", False))
        self._build()
        self.set_draft(new_strategy(), None)  # a fresh template: nothing unsaved until the user edits it

    # ---- building -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self._build_toolbar()
        left = self._build_editor()
        self.split = split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([620, 380])  # proportions: the editor gets 62 % of whatever width the tab has
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 8, 8)
        outer.addWidget(self.toolbar)
        self.banner = banner_label()  # what blocks Save, the look-ahead result: under the toolbar, in view
        outer.addWidget(self.banner)
        outer.addWidget(split, 1)

    def _build_toolbar(self) -> None:
        self.toolbar = QtWidgets.QToolBar()
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_new = self._act("New", "Ctrl+N", self.new_draft, "Start a new strategy")
        self.act_save = self._act("Save", "Ctrl+S", self.save, "Save the strategy")
        self.act_save_as = self._act("Save as…", "Ctrl+Shift+S", self.save_as, "Save a copy under a new name")
        self.act_revert = self._act("Revert", "", self.revert, "Go back to the last saved version (undoable)")
        self.toolbar.addSeparator()
        # Our own actions, refreshed after each step: no Python slot listens to the stack, which signals
        # while it is being destroyed.
        self.act_undo = self._act("Undo", "Ctrl+Z", lambda: self._step(self.undo.undo), "Undo the last edit")
        self.act_redo = self._act("Redo", "Ctrl+Shift+Z", lambda: self._step(self.undo.redo), "Redo")
        self.toolbar.addSeparator()
        self._act("Import JSON…", "", self.import_file, "Open a strategy JSON file as a new draft")
        self._act("Export JSON…", "", self.export_file, "Write the draft as a strategy JSON file")
        self.toolbar.addSeparator()
        self.act_lookahead = self._act("Check look-ahead", "", self.check_lookahead,
                                       "Cut the preview's candles at several bars, re-run the strategy on each cut and "
                                       "report any earlier signal, value or trade that changes (it never should)")
        self.state = QtWidgets.QLabel("")
        self.state.setObjectName("hint")
        self.toolbar.addWidget(spacer())
        self.toolbar.addWidget(self.state)

    def _build_editor(self) -> QtWidgets.QWidget:
        """Name, direction and tags over the scrollable side and risk panels, and the unplaced problems."""
        self.name = QtWidgets.QLineEdit()
        self.name.setPlaceholderText("Strategy name")
        self.name.textEdited.connect(lambda t: self.edit(("name",), t, False))
        self.direction = QtWidgets.QComboBox()
        for key, label in DIRECTION_LABELS.items():
            self.direction.addItem(label, key)
        self.direction.setToolTip("Which sides the strategy trades. In 'Long and short' an opposite entry "
                                  "closes the position and reverses it.")
        self.direction.activated.connect(lambda _: self._on_direction())
        self.tags = QtWidgets.QLineEdit()
        self.tags.setPlaceholderText("tags, comma separated")
        self.tags.textEdited.connect(lambda t: self.edit(("tags",), tags_of(t), False))
        self.crossover = QtWidgets.QComboBox()
        for key, label in CROSSOVER_LABELS.items():
            self.crossover.addItem(label, key)
        self.crossover.setToolTip(CROSSOVER_HELP)
        self.crossover.activated.connect(lambda _: self.edit(("crossover",), self.crossover.currentData(), False))
        self.body = QtWidgets.QWidget()
        self.body_layout = QtWidgets.QVBoxLayout(self.body)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        self.problems = QtWidgets.QLabel("")
        self.problems.setObjectName("validationSummary")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #ef5350;")
        left = QtWidgets.QWidget()
        left.setMinimumWidth(520)  # most conditions fit without scrolling; MACD against MACD scrolls
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        self.name_note = note_label()
        form.addRow("", self.name_note)
        form.addRow("Direction", self.direction)
        form.addRow("Crossing", self.crossover)
        form.addRow("Tags", self.tags)
        lay = QtWidgets.QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.problems)
        return left

    def _act(self, text: str, shortcut: str, slot: Callable[[], object], tip: str) -> QtGui.QAction:
        act = self.toolbar.addAction(text)
        act.triggered.connect(lambda _=False: slot())
        act.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
        if shortcut:
            act.setShortcut(QtGui.QKeySequence(shortcut))
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(act)
        return act

    def rebuild(self) -> None:
        """Recreate the side and risk editors from the draft (after structural edits, undo and redo)."""
        self.fields, self.notes = {}, {"name": self.name_note}
        self.fields["name"] = self.name
        while self.body_layout.count():
            item = self.body_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        if self.name.text() != self.doc.get("name"):
            self.name.setText(str(self.doc.get("name") or ""))
        self.direction.setCurrentIndex(max(0, self.direction.findData(self.doc.get("direction"))))
        self.tags.setText(", ".join(self.doc.get("tags") or []))
        self.crossover.setCurrentIndex(max(0, self.crossover.findData(self.doc.get("crossover", "inclusive"))))
        self.fields["crossover"] = self.crossover
        direction = str(self.doc.get("direction"))
        ctx = self.editor_ctx = Ctx(self.edit, self._register, self._note, self.base, False, self.doc)
        for side in SIDE_LABELS:
            if side_enabled(direction, side):
                panel = SidePanel(side, self.doc.get(side), ctx)
                panel.setToolTip(SIDE_HELP[side])
                self.body_layout.addWidget(panel)
        self.body_layout.addWidget(ScaleInPanel(self.doc.get("scale_in"), ctx))
        self.body_layout.addWidget(RiskPanel(self.doc["risk"], ctx))
        self.body_layout.addStretch(1)
        for i in range(self.body_layout.count()):  # show now, not on the next event loop pass
            item = self.body_layout.itemAt(i)
            if item is not None and item.widget() is not None and self.body.isVisible():
                item.widget().show()
        self.validate()

    def _register(self, path: Path, widget: QtWidgets.QWidget) -> None:
        self.fields[path_text(path)] = widget

    def _note(self, path: Path, label: QtWidgets.QLabel) -> None:
        self.notes[path_text(path)] = label

    # ---- editing ------------------------------------------------------------------------------------------
    def edit(self, path: Path, value: Any, structural: bool) -> None:
        """Change the draft (undoably)."""
        old = copy.deepcopy(self.doc) if not path else _get(self.doc, path)
        if old == value:
            return
        self.undo.push(SetValue(self, path, old, value, structural, describe(path, self.doc)))
        self._update_state()

    def _step(self, move: Callable[[], None]) -> None:
        move()
        self._update_state()

    def apply(self, path: Path, value: Any, rebuild: bool) -> None:
        if not path:
            self.doc = normalized(copy.deepcopy(value))
        else:
            set_at(self.doc, path, value)
        if rebuild:
            self.rebuild()
        else:
            self.validate()

    def _on_direction(self) -> None:
        direction = str(self.direction.currentData())
        self.undo.beginMacro("Change direction")
        self.edit(("direction",), direction, True)
        for side in ("entry_long", "entry_short"):
            if side_enabled(direction, side) and self.doc.get(side) is None:
                self.edit((side,), new_group(op=default_op(side)), True)
        self.undo.endMacro()
        self._update_state()

    def set_draft(self, doc: dict[str, Any], strategy_id: int | None, saved: bool = True) -> None:
        """Show `doc` as a fresh draft (clears undo history)."""
        self.doc = normalized(doc)
        self.strategy_id = strategy_id
        if strategy_id is not None:  # the strategy being worked on: the other tabs' pickers default to it
            self.services.current_strategy_id = strategy_id
        self.saved_doc = copy.deepcopy(self.doc) if saved else None
        self.undo.clear()
        if saved:
            self.undo.setClean()
        else:
            self.undo.resetClean()
        self.rebuild()
        self._update_state()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        self.preview.refresh_markets()  # candles may have been collected since the tab was last shown
        super().showEvent(event)

    # ---- validation and preview -------------------------------------------------------------------------
    def update_preview(self) -> None:
        self.debounce.stop()
        try:
            strategy = parse_strategy(for_validation(self.doc)) if not self.issues else None
        except StrategyInvalid:
            strategy = None
        self.preview.show_strategy(strategy)

    @property
    def dirty(self) -> bool:
        return self.saved_doc is None or not self.undo.isClean()

    def _update_state(self) -> None:
        if not hasattr(self, "act_save"):
            return
        self.act_save.setEnabled(bool(self.issues) or self.dirty)  # invalid: Save says what blocks it
        self.act_save_as.setEnabled(True)
        self.act_revert.setEnabled(self.saved_doc is not None and not self.undo.isClean())
        for act, able, text in ((self.act_undo, self.undo.canUndo(), self.undo.undoText()),
                                (self.act_redo, self.undo.canRedo(), self.undo.redoText())):
            act.setEnabled(able)
            act.setStatusTip(text)
        state, tip = save_state(self.issues, self.dirty, self.strategy_id is None, self.doc)
        self.state.setText(f"{state}   ")
        self.state.setToolTip(tip)
        self.act_save.setToolTip(tip)

def _get(doc: dict[str, Any], path: Path) -> Any:
    try:
        return copy.deepcopy(get_at(doc, path))
    except (KeyError, IndexError, TypeError):
        return None
