"""The orders a collection's documents can be exported in: named by the command line without
importing the writers, checked by the selection code (`common`)."""

from __future__ import annotations

ORDERS = ("ingest", "year", "title", "contributor")
