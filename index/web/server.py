"""Running the reading room: uvicorn in this process, until Ctrl-C."""

from __future__ import annotations

import sys
import threading

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api import Library

DEFAULT_HOST = "127.0.0.1"  # this machine only, unless --host says otherwise
DEFAULT_PORT = 8000


def serve(library: Library, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          edit: bool = False) -> None:
    """Serve an open library until interrupted (Ctrl-C); with `edit`, signed-in editors may
    proofread."""
    import uvicorn

    from .app import build_app

    app = build_app(library, edit=edit)
    threading.Thread(target=app.state.room.warm_up, name="warm-up", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {library.path} at http://{shown}:{port}/ (Ctrl-C to stop)", file=sys.stderr,
          flush=True)
    if edit:
        editors = len(library.editors())
        print(f"Editing on: editors sign in at http://{shown}:{port}/login ({editors} editor "
              "accounts; add one with `wenshi editor add NAME`)", file=sys.stderr, flush=True)
    # One worker process and its event loop: the library is read on that one thread.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                server_header=False, timeout_graceful_shutdown=3)
