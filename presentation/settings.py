"""Where the window keeps its layout, theme and last selection (QSettings, INI format)."""

from __future__ import annotations

from PyQt6 import QtCore

ORGANIZATION = "QuantDesk"
APPLICATION = "QuantDesk"


def app_settings() -> QtCore.QSettings:
    """The user's settings file; tests redirect it with QSettings.setPath(IniFormat, UserScope, tmp)."""
    return QtCore.QSettings(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope,
                            ORGANIZATION, APPLICATION)
