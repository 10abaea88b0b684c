"""The run: find and plan the inputs (`sources`, `metadata`), hand page tasks to an executor
(`pool`: inline or a local process pool whose server `workers` starts early; `cluster`: Dask)
and store what comes back through a sink (`ingest`).

May import: everything in `pipeline`. Never `index`, `cli` or click. Nothing in
`pipeline.page` or `pipeline.text` imports this room. Keep this file empty of imports:
`cli` imports `run.workers` before anything heavy.
"""
