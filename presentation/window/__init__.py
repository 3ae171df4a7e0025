"""The main window's helpers: engine-backed tabs, the start-up sequence, chart loading and saved state."""
