"""The desktop app (PySide6): what the musician sees.

Widgets (:mod:`desktop.widgets`, one per module) live on the GUI thread and never touch the database
or decode audio. The engine is reached only through jobs (:mod:`desktop.jobs`): the library and its
searches (:mod:`desktop.library_worker`), indexing (:mod:`desktop.index_worker`), previews and
stretched copies (:mod:`desktop.audio`), each on a lane of its own, each with its own
:class:`engine.library.facade.Library` where it needs one. The engine never imports Qt.
"""
