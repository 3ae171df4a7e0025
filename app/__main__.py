"""`python -m app`: the same entry point as the `quantdesk` command."""

from app.bootstrap.cli import entry

raise SystemExit(entry())
