"""The names of the page image's signals (pipeline/page/pagelook.py measures them,
pipeline/page/quality.py weighs them): here, so that wording a stored reason loads no image
library."""

SIGNALS = ("unread_ink", "figure_area", "dark_area", "low_contrast", "small_text")
