"""The WenshiError tree: each error names the fix and carries the CLI exit code.

Each class has its own code, but for the two that say "this input failed, the others went on"
(InputFileError, OcrError): both are exit 1, the code of a batch with failed inputs.
"""

from __future__ import annotations


class WenshiError(Exception):
    """Base of every error Wenshi raises on purpose (raise a subclass: this code says none fit)."""

    exit_code = 6


class UsageError(WenshiError):
    """The command line or a value the user gave is wrong."""

    exit_code = 2


class EnvironmentProblemError(WenshiError):
    """A required program or language model is missing."""

    exit_code = 3


class LibraryError(WenshiError):
    """The library folder is unusable (other schema version, locked, damaged)."""

    exit_code = 4


class InputFileError(WenshiError):
    """One input file cannot be read; the batch goes on without it."""

    exit_code = 1


class OcrError(WenshiError):
    """Tesseract failed or timed out on one page."""

    exit_code = 1


class NotFoundError(WenshiError):
    """A document, collection or page asked for does not exist."""

    exit_code = 5


class VersionConflictError(WenshiError):
    """A page text save named a version that is no longer the page's current one."""

    exit_code = 7

    def __init__(self, message: str, current: dict[str, object]) -> None:
        super().__init__(message)
        self.current = current  # the version that won: version, editor, at, text, proofread
