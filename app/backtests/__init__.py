"""Backtests: run a strategy on stored candles in a worker process, store and reopen runs."""
