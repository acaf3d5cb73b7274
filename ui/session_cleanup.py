"""Free what Streamlit keeps for sessions it has forgotten (Streamlit-specific, so not a package).

Streamlit (1.67) keeps a closed browser tab's session for ``server.disconnectedSessionTTL``
(120 s) so a flaky connection can resume it. When that time is up its session store simply
forgets the session without shutting it down, so the session's uploaded files stay in the upload
manager (and its media files in the media manager) for the life of the server: four sessions
uploading 190 MB each left the server 1.2 GB bigger, still held minutes later. This finds upload
and media entries whose session is neither connected nor resumable and removes them, as
``AppSession.shutdown`` would have.
"""

from __future__ import annotations

import contextlib
import logging

from streamlit import runtime

LOGGER = logging.getLogger("genre_studio.session_cleanup")


def free_forgotten_sessions() -> int:
    """Remove uploads and media of sessions Streamlit no longer knows; returns how many."""
    if not runtime.exists():
        return 0
    rt = runtime.get_instance()
    # private: there is no public list of stored sessions. AppTest's stand-in runtime has none.
    manager = getattr(rt, "_session_mgr", None)
    if manager is None:
        return 0
    lock = getattr(manager, "_storage_lock", None) or contextlib.nullcontext()
    store = getattr(getattr(manager, "_session_storage", None), "_cache", None)
    with lock:  # the session store is not thread-safe
        if hasattr(store, "expire"):  # expired sessions are only dropped on a write or this
            store.expire()
        known = {info.session.id for info in manager.list_sessions()}
    uploads = getattr(rt.uploaded_file_mgr, "file_storage", {})
    forgotten = set(uploads) - known
    for session_id in forgotten:
        rt.uploaded_file_mgr.remove_session_files(session_id)
        rt.media_file_mgr.clear_session_refs(session_id)
    if forgotten:
        rt.media_file_mgr.remove_orphaned_files()
        LOGGER.info("freed the uploads of %d closed sessions", len(forgotten))
    return len(forgotten)
