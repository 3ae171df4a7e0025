"""The composition root: the only code that imports adapters or starts the GUI."""
