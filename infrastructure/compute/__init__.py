"""Process pools for compute: warm spawned workers, the shared-memory sweep pool and the Dask executor."""
