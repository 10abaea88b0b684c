"""Chinese text tools shared by the pipeline and `index/`: simplified normal form (`normalize`,
the sole OpenCC user), word segmentation (`segment`, the sole jieba importer), names and the
gazetteer (`names`), automatic tags (`tagging`), OCR text clean-up (`clean`) and the private
pickle caches they load through (`loading`). Data files sit in `data/`.

May import: the top-level `pipeline.records`, `pipeline.config`, `pipeline.errors`. Never
`pipeline.page`, `pipeline.run`, `index`, `cli` or click.
"""
