"""The desktop entry point: open the container, run the main window on the qasync loop."""

from __future__ import annotations

from pathlib import Path


def run_gui(db: str | Path | None = None) -> int:
    """Start the desktop app; returns the exit code."""
    from app.bootstrap.container import Container
    from app.bootstrap.kernels import build_later
    from presentation.app import run_desktop

    container = Container.open(db, map_file=False)  # a year read stays mapped otherwise: ~60 MB resident
    stop_build = build_later()
    try:
        return run_desktop(container)
    finally:
        stop_build()
        container.close()
