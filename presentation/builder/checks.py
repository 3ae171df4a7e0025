"""The Builder's checks beyond validation: what blocks Save (said under the toolbar) and the look-ahead check."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import Timeframe
from domain.strategy import ValidationIssue, check_timeframes, parse_strategy
from presentation.builder.conditions import ConditionRow
from presentation.builder.draft import for_validation
from presentation.builder.form import mark
from presentation.builder.lookahead import LookaheadRunner, report_text
from presentation.builder.preview import PreviewPane
from presentation.builder.status import issue_text

if TYPE_CHECKING:
    from app.strategies.service import StrategyService


class DraftChecks:
    """Mixed into BuilderTab: validates the draft, says what blocks Save and runs the look-ahead check."""

    doc: dict[str, Any]
    issues: list[ValidationIssue]
    fields: dict[str, QtWidgets.QWidget]
    name: QtWidgets.QLineEdit
    body: QtWidgets.QWidget
    banner: QtWidgets.QLabel
    preview: PreviewPane
    lookahead: LookaheadRunner
    act_lookahead: QtGui.QAction
    base: Timeframe | None

    service: StrategyService
    notes: dict[str, QtWidgets.QLabel]
    problems: QtWidgets.QLabel
    debounce: QtCore.QTimer
    validated: Any

    if TYPE_CHECKING:  # provided by BuilderTab
        def rebuild(self) -> None: ...

        def _update_state(self) -> None: ...

    def validate(self) -> list[ValidationIssue]:
        self.issues = list(self.service.validate(self.doc))
        if not self.issues and self.base is not None:  # timeframes must be whole multiples of the preview's bars
            self.issues = check_timeframes(parse_strategy(for_validation(self.doc)), self.base)
        unplaced = mark(self.issues, self.fields, self.notes)
        for widget in self.fields.values():
            if isinstance(widget, ConditionRow):
                widget.refresh_words()
        self.problems.setText("\n".join(issue_text(i, self.doc) for i in unplaced))
        self.problems.setVisible(bool(unplaced))
        if not self.issues and self.banner.property("blocking"):
            self._say("", True)
        self._update_state()
        self.debounce.start()
        self.validated.emit(len(self.issues))
        return self.issues

    def show_blockers(self) -> None:
        """Say, under the toolbar, what keeps the draft from being saved, and go to the first offending field."""
        first = self.issues[0]
        more = len(self.issues) - 1
        tail = f"  (and {more} more problem{'s' if more != 1 else ''}: see the marked fields)" if more else ""
        self._say(f"Can't save — {issue_text(first, self.doc)}{tail}", False, blocking=True)
        widget = self.fields.get(first.path) or next(
            (w for key, w in sorted(self.fields.items(), key=lambda kv: -len(kv[0]))
             if first.path.startswith(key)), None)
        if widget is not None and widget is not self.name:
            scroll = self.body.parentWidget()
            area = scroll.parentWidget() if scroll is not None else None
            if isinstance(area, QtWidgets.QScrollArea):
                area.ensureWidgetVisible(widget)
        if widget is not None:
            widget.setFocus()

    def _say(self, text: str, ok: bool, blocking: bool = False) -> None:
        self.banner.setText(text)
        self.banner.setProperty("blocking", blocking)
        self.banner.setStyleSheet("" if ok else "color: #ef5350;")
        self.banner.setVisible(bool(text))

    # ---- look-ahead ---------------------------------------------------------------------------------------
    def check_lookahead(self) -> bool:
        """Start the look-ahead check on the preview's candles (in a thread); False when it cannot start."""
        if self.issues:
            self._say(f"Look-ahead not checked: fix the draft first — {issue_text(self.issues[0], self.doc)}", False)
            return False
        series = self.preview.series
        if not len(series):
            self._say("Look-ahead not checked: no candles in the preview — collect some in the Data tab", False)
            return False
        strategy = parse_strategy(for_validation(self.doc))
        if not self.lookahead.start(strategy, series, copy.deepcopy(self.doc)):
            return False
        self.act_lookahead.setEnabled(False)
        self._say(f"Checking look-ahead on {len(series):,} bars…", True)
        return True

    def _on_lookahead(self, report: object, token: object) -> None:
        self.act_lookahead.setEnabled(True)
        text, ok = report_text(report)  # type: ignore[arg-type]
        if token != self.doc:
            text += "  (checked before your last edits)"
        self._say(text, ok)

    def _on_series(self) -> None:
        """The preview shows another market: operand timeframes are offered as multiples of its bars."""
        base = self.preview.series.timeframe if self.preview.key is not None else None
        if base != self.base:
            self.base = base
            self.rebuild()
