"""The desktop app (PySide6): what the musician sees.

Widgets live on the GUI thread and never touch the database or decode audio; the engine is reached
only through the worker objects in :mod:`desktop.library_worker` and :mod:`desktop.audio.player`, each on
its own thread with its own :class:`engine.library.facade.Library`. The engine never imports Qt.
"""
