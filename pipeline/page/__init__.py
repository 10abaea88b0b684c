"""Everything a worker does to one page: decode the image (`images`), clean it up (`preprocess`,
`inkmask`), choose script and direction (`script`), read it with an OCR engine behind one seam
(`engines/`), put its lines in reading order with their roles (`layout`), read the engine's
ALTO once (`alto`), correct look-alike misreadings (`correct`, `glyphs`), map boxes back onto
the scan (`geometry`). `process.process_page` is the one entry that every executor (inline,
local pool, Dask) calls, with the engine to read with (`engines.Engine`; tests hand in a fake);
`forkserver_preload` is what the page workers' server loads before it forks them.

May import: the top-level `pipeline.records`, `pipeline.config`, `pipeline.errors`, and
`pipeline.text`. Never `pipeline.run`, `index`, `cli` or click.
"""
