"""What the Builder's toolbar says about the draft: saved or not, and what blocks saving, in the Builder's words."""

from __future__ import annotations

from collections.abc import Sequence

from domain.strategy import ValidationIssue
from presentation.builder.draft import path_words

SHOWN_CHARS = 90  # the toolbar line stays one short line; the tooltip has every problem


def issue_text(issue: ValidationIssue) -> str:
    """"Risk › Position size %: must be a number > 0" rather than the validator's dotted path."""
    words = path_words(issue.path) if issue.path else ""
    return f"{words}: {issue.message}" if words else issue.message


def save_state(issues: Sequence[ValidationIssue], dirty: bool, new: bool) -> tuple[str, str]:
    """(the toolbar's state line, the Save button's tooltip)."""
    if issues:
        n = len(issues)
        first = issue_text(issues[0])
        line = f"Can't save: {n} problem{'s' if n != 1 else ''} to fix — {first}"
        if len(line) > SHOWN_CHARS:
            line = line[:SHOWN_CHARS - 1] + "…"
        return line, "Save is blocked until these are fixed:\n" + "\n".join(issue_text(i) for i in issues)
    if dirty:
        return "Unsaved changes", "Save the strategy (Ctrl+S)"
    if new:
        return "New strategy, nothing to save yet", "Change something, then save it (Ctrl+S)"
    return "Saved", "Nothing changed since the last save"
