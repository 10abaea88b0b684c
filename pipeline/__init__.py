"""Wenshi's processing: files -> page tasks -> page work (image, clean-up, OCR) -> clean text.

Rooms (dependencies point one way: `run` -> `page`, `text`; `page` -> `text`; all of them may
use the shared records at the top; nothing here imports `index/`, `cli` or click):

- `records`, `config`, `errors`: the typed records, the one Config and the error tree.
- `page/`: everything a worker does to one page (`page.process.process_page`).
- `text/`: Chinese text tools shared with `index/` (normalise, segment, names, tags, clean-up).
- `run/`: the run itself: sources and planning, ingest orchestration, executors, metadata.

Tags are made on the index side, in the writer's jieba pass (see `index/`).
"""
