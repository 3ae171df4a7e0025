"""CLI sub-commands. Part of the composition root: they may wire concrete adapters."""
