"""The insides of the corpus builders, ``scripts/build_corpus.py`` and ``scripts/build_real_corpus.py``.

``output`` is what both share (sample rate, tempo ratios, reproducible hashes and splits, FLAC files
a killed run never leaves half-written). The MIDI corpus: ``midi_sources`` (which pieces, MMA
grooves), ``midi_excerpt`` (a fixed musical excerpt replayed at every tempo in one MIDI file),
``fluidsynth`` (rendering it with soundfonts) and ``midi_pieces`` (one piece's files and records).
The real material: ``real_material`` (its split, fades and level), ``records`` (resumable records
and manifests), ``openmpt`` and ``trackers`` (tracker modules at every tempo), ``productions``
(game soundtracks) and ``effects`` with ``mixed`` (the MIDI corpus through a mixing chain).
"""
