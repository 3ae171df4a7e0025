"""Data tab: collect candles from an exchange, import files, see what is stored and delete ranges."""
