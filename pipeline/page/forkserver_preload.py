"""Imported once by the forkserver that every page worker is forked from (pipeline/run/workers.py).

What each worker would otherwise load for itself is loaded here, before the fork, so all of
them share one copy: jieba's dictionary, which the look-alike correction scores words with
(0.4-1.6 CPU s to load, see segment._load_dictionary, and ~85 MB in each worker otherwise).
Only the dictionaries a worker uses are loaded: workers never see a library's user
dictionaries (pipeline/page/correct.py), so the bundled ones.
"""

from __future__ import annotations

import os

# numpy imports these on first use (np.percentile, np.unique, the page's first clean-up steps):
# 0.07 CPU s in each worker's first page otherwise.
import numpy.ma  # noqa: F401
import numpy.random  # noqa: F401

from ..text import charlm, segment
from .engines import paddle

segment.word_frequencies(())
charlm.model()  # the page quality estimate's character table (0.2 CPU s, pipeline/page/quality.py)
paddle.preload()

# The server started with glibc's huge-page setting (pipeline/run/workers.py); its malloc keeps it,
# the programs its workers run do not get it.
if os.environ.get("GLIBC_TUNABLES") == "glibc.malloc.hugetlb=1":
    del os.environ["GLIBC_TUNABLES"]
