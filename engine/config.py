"""One source of truth for every constant of the analysis pipeline.

MusiCNN fixes the front end (16 kHz, 512-point FFT, hop 256, 96 mel bands, 187-frame patches); the
rest (patch hop, caps, tempo grid, block weight) are our choices, documented in
``docs/track-vector.md`` with the measurements behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
"""Shipped weights, calibrations and the demo library (beside the packages in a checkout and in the app)."""
DEMO_DIR = RESOURCES / "demo"
APP_NAME = "similar-but-faster"  # the per-user data and cache folders are named for it


def app_version() -> str:
    """The installed version of Similar But Faster (``sbf --version``), from the package's metadata,
    which the packaged app carries too (packaging/sbf.spec)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(APP_NAME)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


@dataclass(frozen=True)
class MelConfig:
    """Log-mel front end exactly as MusiCNN was trained on it."""

    sample_rate: int = 16_000  # Hz
    n_fft: int = 512
    hop_length: int = 256  # samples, 16 ms
    n_mels: int = 96
    patch_frames: int = 187  # 3 s patches (187 * 256 / 16000 = 2.99 s)

    @property
    def patch_seconds(self) -> float:
        return self.patch_frames * self.hop_length / self.sample_rate


@dataclass(frozen=True)
class PatchConfig:
    """How a file of any length becomes a bounded set of patches."""

    hop_frames: int = 187  # non-overlapping: each patch costs 2.8 GFLOP, overlap multiplies it
    max_patches: int = 40  # about 2 minutes of audio; longer files are sampled evenly


@dataclass(frozen=True)
class TempoBlockConfig:
    """Onset-autocorrelation tempo block on a log-BPM grid.

    A tempo change by ratio tau (T' = tau * T) is an exact shift of ``bins_per_octave * log2(tau)``
    grid steps, which is what makes the translation exact on this block.
    """

    bpm_min: float = 30.0
    bins_per_octave: int = 16
    n_bins: int = 70  # 30 * 2 ** (69 / 16) = 595 BPM at the top
    onset_hop_seconds: float = 0.008  # 128 samples at 16 kHz: 595 BPM's 101 ms lag spans 12.6 frames
    subdivisions: int = 16  # fine log-BPM samples per grid step, pooled so narrow peaks are never missed
    min_seconds: float = 1.0  # below this a file holds fewer than two beats at 120 BPM: no tempo evidence
    min_onset_db: float = 0.1  # onset-envelope std (dB) below which there are no onsets (steady tones)

    def bpm_grid(self) -> list[float]:
        return [self.bpm_min * 2.0 ** (i / self.bins_per_octave) for i in range(self.n_bins)]

    def shift_steps(self, tau: float) -> float:
        """Grid steps a tempo ratio tau moves the block by (positive: towards faster tempi)."""
        return self.bins_per_octave * math.log2(tau)


@dataclass(frozen=True)
class TempoConfig:
    """BPM estimation (``engine/analysis/tempo.py``): plausible range, priors, and how far each clue is trusted.

    Signal, prior and loop-length weights were chosen on the train split of the MIDI corpus and
    the demo library; ``scripts/eval_tempo.py`` measures them on the held-out split.
    """

    bpm_min: float = 40.0  # BPM: the range a tempo is ever reported in (names, tags, signal)
    bpm_max: float = 300.0
    tolerance: float = 0.04  # relative: two tempi this close are the same tempo (the Accuracy1 criterion)
    axis_steps_per_octave: int = 96  # fine log-BPM axis the signal is sampled on (0.7 % steps)
    tempogram_seconds: float = 8.0  # librosa tempogram window: eight bars at 60 BPM
    tempogram_step: int = 8  # onset frames between tempogram windows (64 ms): same mean, 15x cheaper
    block_weight: float = 0.3  # share of the tempo block in the signal curve; the tempogram has the rest
    signal_peaks: int = 8  # signal candidates kept, strongest first
    min_peak_ratio: float = 0.1  # a signal peak below this fraction of the strongest one is noise
    # A beat is confirmed by periodicity at two beats, at a 4/4 bar and at its eighth notes:
    # (tempo ratio, weight). This is what rules out the x3/2 and x4/3 readings of swing and syncopation.
    metre: tuple[tuple[float, float], ...] = ((1.0, 1.0), (0.5, 0.5), (0.25, 0.5), (2.0, 0.5))
    metre_spread: float = 0.01  # relative: each metrical level is read at its strongest within this
    signal_exponent: float = 2.0  # sharpness of the signal against the priors
    prior_bpm: float = 115.0  # centre of the log-normal tempo prior
    prior_octaves: float = 0.8  # its standard deviation in octaves: 60 and 220 BPM keep half the weight
    loop_bars: tuple[int, ...] = (1, 2, 4, 8)  # 4/4 bar counts sample-pack loops are cut to
    loop_bar_weights: tuple[float, ...] = (0.5, 1.0, 1.0, 0.5)  # how common each count is
    loop_tolerance: float = 0.01  # relative tempo spread of a loop-length match (a cut 40 ms off at 4 s)
    loop_snap: float = 0.02  # a peak this close to a whole number of bars is read as that exact tempo
    loop_boost: float = 5.0  # a perfect loop-length match multiplies a tempo's weight by 1 + loop_boost
    # Loop-likeness: how well the strongest peaks fit whole bars (0..1). From the first value on the
    # loop-length prior starts to count, from the second fully: a 20 s track's peaks fit whole bars
    # by chance one time in ten, a loop's fit them nine times in ten.
    loop_likeness: tuple[float, float] = (0.2, 0.5)
    min_seconds: float = 1.0  # shorter files are one-shots whatever they hold
    short_seconds: float = 1.5  # up to this a file must fit whole bars at its tempo to be a loop
    min_periodicity: float = 0.03  # tempo-block peak (lags held twice) below which: no tempo (one-shots 0-0.01,
    # sustained pads 0.05-0.1, drum loops 0.2-0.8)
    full_periodicity: float = 0.2  # periodicity from which the signal's confidence is not scaled down
    explicit_name_score: float = 1.0  # "124bpm", "BPM 124"
    bare_name_score: float = 0.6  # "_124_": often the tempo, sometimes a pack's numbering
    folder_name_score: float = 0.8  # "Loops/124 BPM/...": the pack's tempo folder
    tag_score: float = 1.0  # acid / ID3 / Vorbis tempo fields
    min_declared_support: float = 0.15  # signal strength (share of its peak) a declared tempo's octave needs
    # The tempo classifier's vote on the signal's peaks: (floor + its probability near T) ** exponent.
    # The floor keeps a peak the classifier never heard of in the running.
    # scripts/tune_tempo.py found prior 100 BPM, 1.3 octaves and floor 0.1 on the training pieces of renders
    # and mixed renders (held-out Acc1 renders 0.660 -> 0.680, tracker modules 0.590 -> 0.601), but that
    # setting reads a plain 125 BPM click loop of three bars at 62.5 (tests/test_desktop.py): kept as was.
    learned_floor: float = 0.03
    learned_exponent: float = 1.0
    learned_spread: float = 0.045  # relative: the classes (4.4 % apart) counted as "near T"


@dataclass(frozen=True)
class AudioLimits:
    """Bounds that keep a bad or huge file from stalling a scan."""

    max_seconds_decoded: float = 120.0  # long tracks are read in slices: 40 patches' worth
    max_file_seconds: float = 4 * 3600.0  # beyond this we refuse: likely a recording left running
    min_seconds: float = 0.05  # shorter than this there is nothing to embed
    excerpt_slice_seconds: float = 30.0  # long tracks are read as evenly spread slices of this length
    decode_block_samples: int = 1 << 18  # samples (frames x channels) per read: 1 MiB of float32 at a time
    hash_chunk_bytes: int = 1 << 20  # content hash reads this much at the start, middle and end


@dataclass(frozen=True)
class IndexConfig:
    """Nearest-neighbour index over track vectors: exact search for small libraries, HNSW for big ones.

    The figures behind the threshold and ``hnsw_ef_search`` come from ``benchmarks/bench_index.py``
    (d = 282, 500 isotropic Gaussian clusters: harder for HNSW than real embeddings; 2 cores).
    """

    exact_threshold: int = 5_000  # tracks: from here HNSW answered 1.5-2x faster in every run; exact never misses
    hnsw_m: int = 16  # graph links per node: hnswlib's default, good recall at d ~ 300
    hnsw_ef_construction: int = 100  # build beam width: 100k tracks build in 10-20 s on 2 cores
    hnsw_ef_search: int = 64  # query beam (raised to k if larger): recall@10 0.995 at 100k, 0.97 at ef 24
    hnsw_seed: int = 100  # seeds the random layer each node joins, so rebuilds are alike
    threads: int = 2  # build and batch-query threads: the app must leave the rest of the machine usable
    exact_block_floats: int = 1 << 22  # similarity-matrix block for batched exact queries (16 MB of float32)
    gate_exact_rows: int = 8_000  # a BPM window holding more files is searched in the HNSW graph, filtered to
    # the window. Knob turns at 100k files by window size, p50/p95 ms (benchmarks/bench_knob.py's mix,
    # 2 cores): exact 2-5k files 1.2/1.9, 5-8k 1.6/1.9, 8-15k 3.0/4.2; graph 8-15k 3.3/4.5, 15-25k
    # 2.5/3.1, over 25k 1.7/1.9 (exact over 15-25k: 3.0/4.0).


@dataclass(frozen=True)
class FineTuneConfig:
    """Fine-tuning the tempo translation on a user's library (``engine/training/finetune.py``, ``sbf train translator``).

    Self-supervised: each file's log-mel spectrogram stretched in time to random tempo ratios. The caps
    keep a run to a few minutes on 2 cores: the cost is MusiCNN on every stretched patch (about 30 ms each).
    """

    epochs: int = 30
    lr: float = 1e-3  # with small batches; on the corpus, training on to convergence moved an MLP away from
    # real tempo changes (scripts/eval_mel_domain.py), so this nudges the shipped translator, not replaces it
    batch: int = 32  # pairs per step: a small library (150 pairs) still gets 150 steps in 30 epochs
    weight_decay: float = 1e-4
    versions_per_file: int = 3  # stretches per training file, tau log-uniform in [tau_min, tau_max]
    tau_min: float = 0.5
    tau_max: float = 2.0
    heldout_share: float = 0.2  # of the library's files, chosen by a hash of their path, never trained on
    heldout_taus: tuple[float, ...] = (0.5, 0.7, 0.85, 1.2, 1.4, 2.0)  # every held-out file at each of these
    max_files: int = 240  # training files; a larger library is sampled
    max_heldout_files: int = 60
    max_patches: int = 6  # per stretched version, spread over the file: 18 s of a long file at tau = 1
    min_files: int = 10  # fewer files teach nothing and leave nothing to hold out
    seed: int = 0


@dataclass(frozen=True)
class InferenceConfig:
    """Running the networks (``engine/models/runtime.py``): which runtime, and how many threads each may use.

    The runtime is chosen here, never by what happens to be imported: ONNX Runtime, the faster one and the
    only one the app installs; torch (the ``training`` extra) where asked, as the tests that hold the two
    runtimes to each other do with ``SBF_INFERENCE=torch``. The figures are in ``engine/models/runtime.py``.
    """

    backend: str = "onnx"  # "onnx" or "torch", for every network
    backend_env: str = "SBF_INFERENCE"  # when set, overrides ``backend``: "onnx" or "torch"
    threads: int = 1  # per process: a scan runs one process per core, and a 3 s patch takes about 15 ms on one thread
    worker_nice: int = 10  # scan processes run this much nicer than the app: with every core busy analysing,
    # the window's thread still gets one at once (benchmarks/bench_gui_stall.py)


MEL = MelConfig()
PATCHES = PatchConfig()
TEMPO_BLOCK = TempoBlockConfig()
TEMPO = TempoConfig()
LIMITS = AudioLimits()
INDEX = IndexConfig()
FINE_TUNE = FineTuneConfig()
INFERENCE = InferenceConfig()


@dataclass(frozen=True)
class SearchConfig:
    """The tempo knob's search."""

    contour_min: float = 0.5  # tau range of "at any tempo" (half to double speed)
    contour_max: float = 2.0
    contour_points: int = 33  # log-spaced steps of 4.4 %, one tempo-block bin: a match this close in tempo
    # is found; recall@10 of a piece's other versions 0.46 at 13 points, 0.62 at 33, 0.63 at 49
    # (scripts/eval_search.py, Table 3, grid shifted off the corpus's tempo ratios)
    contour_merge: str = "min"  # contour order: "min" (closest match over the grid) or "rrf" (rank fusion)
    rrf_k: int = 60  # reciprocal-rank fusion's damping constant (Cormack et al. 2009)
    bpm_window: float = 6.0  # percent: the tempo gate of "at this tempo" (target mode) by default
    bpm_window_max: float = 50.0  # percent: a wider window is no longer a tempo
    gate_min_share: float = 0.25  # a file is listed at another tempo of its estimate when that reading held
    # this share of the estimator's belief (engine/search/tempo_gate.py; measured in scripts/eval_search.py)
    bpm_min: float = 20.0  # BPM: the targets the knob and `sbf search --bpm` accept
    bpm_max: float = 999.0
    ratio_min: float = 0.25  # tempo ratios T'/T accepted: four times slower to four times faster
    ratio_max: float = 4.0
    cached_translations: int = 64  # translated query vectors a session keeps (knob positions)


SEARCH = SearchConfig()


@dataclass(frozen=True)
class DesktopConfig:
    """The desktop app (``desktop/``): what the musician sees and how often it refreshes."""

    results: int = 20  # neighbours listed under the query
    knob_bpm_step: float = 1.0  # BPM: the tempo knob snaps to whole BPM...
    knob_ratio_step: float = 0.05  # ...or, for a query without a tempo, to 5 % steps of tau
    refresh_seconds: float = 1.0  # while indexing, the track list and results refresh at most this often
    screenshot_timeout_seconds: float = 120.0  # --screenshot gives up when the library never answers
    selftest_ratio: float = 1.25  # --selftest turns the knob on its first loop to this tempo ratio tau
    selftest_results: int = 5  # results --selftest prints
    selftest_timeout_seconds: float = 300.0  # --selftest fails when indexing and the search take longer
    settle_seconds: float = 0.4  # once the knob rests this long: the query is remembered, stretched copies made
    rescan_delay_seconds: float = 2.0  # a change in a watched folder waits this long for more before a rescan
    recent_queries: int = 20  # recent queries offered in the Recent menu
    waveform_columns: int = 800  # min/max pairs of the query's waveform: about one per pixel of a wide panel
    playhead_ms: int = 30  # the play head moves this often while playing (33 frames a second)
    gil_switch_seconds: float = 0.0005  # a busy worker thread hands Python's GIL to the GUI thread this soon
    # (Python's default, 5 ms, is paid on every table cell Qt asks Python to paint)
    stretch_max_seconds: float = 600.0  # longer files are never stretched and only this much is decoded for a
    # preview or a waveform (10 min of mono float32 at 48 kHz is 115 MB)
    decoded_cache_bytes: int = 256 << 20  # decoded (and stretched) previews kept in memory, newest first: the
    # query, its waveform and the last few results played, never gigabytes of long files


DESKTOP = DesktopConfig()
