"""Parameter sweeps and walk-forward validation on an executor (local process pool or Dask)."""
