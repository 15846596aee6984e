"""Parts of the measurement scripts that outgrew one file (``searched_set`` for ``eval_search.py``)."""
