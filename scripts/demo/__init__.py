"""The insides of ``scripts/make_demo_library.py``: the demo library, synthesised bit for bit.

Lowest first: ``dsp`` (sample grid, filters, rooms), ``drums`` and ``synth`` (voices and how they
are sequenced), ``harmony`` (keys, chords, note patterns), ``parts`` (a pattern plus effects as a
seamless loop at any tempo), ``grooves`` and ``tunes`` (the library's musical content),
``library`` (every file and its labels) and ``writer`` (FLAC, manifest and licence).
"""
