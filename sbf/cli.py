"""``sbf``: the command line.

Every command takes ``--library-dir`` (default: the per-user data folder, or ``$SBF_LIBRARY_DIR``)
and ``--json`` for scripting. User mistakes end with one clear line on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.analysis.pipeline import analyse_file
from engine.audio.decode import AudioError, FileVanished
from engine.config import DEMO_DIR, FINE_TUNE, SEARCH, app_version
from engine.errors import SbfError
from engine.models.runtime import TrainingUnavailable, require_training
from engine.library.facade import Library, default_library_dir, rebuild_library
from engine.library.store import DamagedLibrary
from engine.search.session import (DEFAULT_WINDOW, MODES, SearchSession, checked_ratio, checked_target_bpm,
                                   checked_window)
from engine.analysis.tempo import TempoEstimate
from engine.library.tempo_state import TempoCorrectionError, TempoState

EXIT_USER_ERROR, EXIT_CANCELLED = 2, 130


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, stream=sys.stderr):
        self.stream, self._last = stream, 0.0
        self.enabled = stream.isatty()

    def update(self, done: int, total: int, label: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 30
        filled = width * done // max(total, 1)
        name = Path(label).name[:40]
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:<40}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def cmd_index(lib: Library, args) -> int:
    retry = getattr(args, "retry_failed", False)
    if args.folder is None and not retry:
        print("sbf: index: name the FOLDER to index (or --retry-failed to try the failed files of every folder "
              "again)", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.folder is None:
        events = lib.retry_failed(workers=args.workers)
    else:
        events = lib.index(args.folder, workers=args.workers, retry_failed=retry)
    counts: Counter[str] = Counter()
    waited = False
    failures: list[tuple[str, str]] = []
    bar = ProgressBar() if not args.json else None
    started = time.monotonic()
    try:
        for ev in events:
            if ev.outcome == "waiting":  # another scan holds the library: said once, then it waits
                if not waited:
                    print(ev.reason, file=sys.stderr)
                waited = True
                continue
            counts[ev.outcome] += 1
            if ev.outcome == "failed":
                failures.append((ev.path, ev.reason or "unknown error"))
            if bar:
                bar.update(ev.done, ev.total, ev.path)
    except KeyboardInterrupt:
        if bar:
            bar.close()
        print(f"Cancelled. {counts['indexed']} files indexed so far are kept; run the same command to resume.",
              file=sys.stderr)
        return EXIT_CANCELLED
    if bar:
        bar.close()
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({"counts": dict(counts), "failed": [{"path": p, "reason": r} for p, r in failures],
                          "seconds": round(elapsed, 2)}, indent=2))
        return 0
    print(f"Indexed {counts['indexed']}, unchanged {counts['unchanged']}, renamed {counts['renamed']}, "
          f"removed {counts['removed']}, failed {counts['failed']} ({elapsed:.1f} s)")
    for path, reason in failures:
        print(f"  failed: {path}: {reason}")
    return 0


def cmd_search(lib: Library, args) -> int:
    mode = args.mode or ("target" if args.bpm is not None or args.ratio is not None else "similar")
    session = SearchSession(lib, args.k)
    session.set_query(args.file)
    session.set_mode(mode)
    if args.ratio is not None:
        session.set_ratio(args.ratio)
    elif args.bpm is not None:
        session.set_target_bpm(args.bpm)
    session.set_bpm_window(DEFAULT_WINDOW if args.bpm_window is None else args.bpm_window)
    results = session.results()
    if session.window is not None and session.window.short_of(args.k):
        print(f"{session.window.message()}: widen the window with --bpm-window, or turn it off with "
              "--bpm-window 0.", file=sys.stderr)
    if args.json:
        # "offline": true only on a file whose folder is offline, so the output is as it was otherwise
        print(json.dumps([{k: v for k, v in asdict(r).items() if k != "offline" or v} for r in results], indent=2))
        return 0
    if not results and session.window is None:
        print("No results: index a folder first (sbf index DIR).")
    for rank, r in enumerate(results, 1):
        bpm = f"{r.bpm:6.1f} BPM" if r.bpm is not None else "  no tempo"
        off = f" ({(r.bpm / args.bpm - 1) * 100:+5.1f}%)" if args.bpm and r.bpm else ""
        at = f"  matches at {r.tau:.2f}x" if mode == "contour" else ""
        offline = "  (offline: its folder is not there)" if r.offline else ""
        print(f"{rank:3d}. {r.score:.3f}  {bpm}{off}{at}  {r.path}{offline}")
    return 0


EXIT_DAMAGED = 1  # sbf info: the library database is damaged


def cmd_info(lib: Library, args) -> int:
    """What the library holds, and a quick integrity check of its database (exit 1 when it is damaged)."""
    integrity = lib.check_integrity()
    try:
        info = lib.info()
    except DamagedLibrary:  # too damaged to count its files: the check says what is
        info = None
    status = EXIT_DAMAGED if not integrity.ok else 0
    if args.json:
        about = asdict(info) if info else {"library_dir": str(lib.library_dir)}
        print(json.dumps({**about, "integrity": {"ok": integrity.ok, "damaged": list(integrity.damaged),
                                                 "details": list(integrity.details)}}, indent=2))
        return status
    print(f"Library:  {lib.library_dir}")
    if info is not None:
        print(f"Model:    {info.model}")
        print(f"Vectors:  {info.track_space}")
        print(f"Files:    {info.files_ok} indexed ({info.total_seconds / 60:.1f} min of audio), "
              f"{info.files_failed} failed")
        for folder in info.folders:
            offline = f"  (offline: {info.offline[folder]})" if folder in info.offline else ""
            print(f"Folder:   {folder}{offline}")
    if integrity.ok:
        print("Database: intact (quick check)")
    else:
        print(f"Database: DAMAGED: {'; '.join(integrity.damaged)}.")
        print("          Nothing more is written into it. `sbf rebuild` rebuilds it from your sample folders, keeping "
              "your BPM corrections, locks and favourites as far as they can be read, and keeps the damaged file "
              "as a backup.")
    if info is not None and info.read_only:
        print(f"Access:   {info.read_only}")
    return status


def cmd_rebuild(lib: Library | None, args) -> int:
    """Rebuild a damaged library database from what can be read of it, then scan its folders again.
    ``lib`` is None when the library is too damaged to open."""
    if lib is not None and not args.force and lib.check_integrity().ok:
        print("The library database is intact (quick check): nothing to rebuild (--force rebuilds it anyway).")
        return 0
    opened_here = lib is None
    if lib is not None:
        rebuilt = lib.rebuild()
    else:
        rebuilt = rebuild_library(args.library_dir)
        lib = Library(args.library_dir)
    kept = rebuilt.kept
    print(f"Rebuilt the library. The damaged database is kept as {rebuilt.backup}")
    print(f"Kept from it: {kept['files']} files ({kept['analyses']} analyses), {kept['user_data']} sounds' BPM "
          f"corrections, locks and favourites, {kept['recent_queries']} recent searches.")
    if not rebuilt.folders:
        print("No sample folder could be read from it: add your folders again (sbf index DIR); corrections and "
              "favourites that were kept come back with their files.")
    try:
        for folder in rebuilt.folders:
            if not Path(folder).is_dir():
                print(f"{folder} is not there (a drive unplugged?): index it when it is back.")
                continue
            print(f"Scanning {folder} again for what was lost ...")
            args.folder = folder
            cmd_index(lib, args)
    finally:
        if opened_here:
            lib.close()
    return 0


def cmd_remove(lib: Library, args) -> int:
    """Take an added folder out of the library on purpose (an offline one too)."""
    done = lib.remove_folder(args.folder)
    if args.json:
        print(json.dumps(asdict(done), indent=2))
    elif done.inside is not None:
        print(f"{done.folder} is no longer listed on its own. It lies inside {done.inside}, which stays in the "
              "library, and so do its files.")
    else:
        print(f"Removed {done.folder} from the library: {done.files} files. Their BPM corrections, locks and "
              "favourites are kept, should they be added again.")
    return 0


def cmd_failed(lib: Library, args) -> int:
    failed = lib.failed()
    if args.json:
        print(json.dumps([{"path": f.path, "reason": f.error} for f in failed], indent=2))
        return 0
    if not failed:
        print("No failed files.")
    for f in failed:
        print(f"{f.path}: {f.error}")
    return 0


def cmd_tempo(lib: Library, args) -> int:
    """Each file's BPM, after the correction asked for; a bad file costs one line on stderr, not the others'.

    Files in the library report what search uses (the user's correction, else the stored estimate);
    other files are estimated on the spot.
    """
    correcting = args.factor is not None or args.set is not None or args.reset or args.lock is not None
    rows = []
    for name in args.files:
        path = Path(name).expanduser().resolve()
        try:
            rows.append((str(path), _corrected(lib, path, args) if correcting else _tempo_of(lib, path)))
        except TempoCorrectionError as e:
            print(f"sbf: {path.name}: {e}", file=sys.stderr)
        except FileVanished:
            print(f"sbf: {path}: no such file", file=sys.stderr)
        except AudioError as e:
            print(f"sbf: {path}: {e.reason}", file=sys.stderr)
    if not rows:
        return EXIT_USER_ERROR
    if args.json:
        print(json.dumps([{"path": p, "bpm": t.bpm, "confidence": t.confidence, "source": t.source} for p, t in rows],
                         indent=2))
        return 0
    for path, t in rows:
        bpm = f"{t.bpm:6.1f} BPM" if t.bpm is not None else "  no tempo"
        confidence = f"{t.confidence:.2f}" if t.confidence is not None else "  - "
        lock = "  locked" if isinstance(t, TempoState) and t.locked else ""
        print(f"{bpm}  {confidence}  {t.source:<20} {path}{lock}")
    return 0


def _tempo_of(lib: Library, path: Path) -> TempoState | TempoEstimate:
    """What search would use: the library's value, else a fresh analysis (as for a query from outside)."""
    try:
        return lib.tempo(path)
    except TempoCorrectionError:  # not indexed, or edited since: analysed as a query from outside would be
        return analyse_file(path, lib.embedder).tempo


def _corrected(lib: Library, path: Path, args) -> TempoState:
    """Unlock, correct, then lock: so ``--set 87 --lock`` pins the new value in one call."""
    state = lib.tempo(path)
    if args.lock is False:
        state = lib.lock_tempo(path, False)
    if args.reset:
        state = lib.reset_tempo(path)
    elif args.factor is not None or args.set is not None:
        state = lib.correct_tempo(path, factor=args.factor, bpm=args.set)
    if args.lock:
        state = lib.lock_tempo(path, True)
    return state


def _tempo_factor(text: str) -> float:
    """A correction factor as musicians write it: 2, 1/2, 3/2, 2/3, x2, 0.5."""
    try:
        value = float(Fraction(text.lstrip("x*×")))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a tempo factor: {text!r} (try 2, 1/2, 3/2 or 2/3)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a tempo factor must be positive, not {text!r}")
    return value


# --- values checked before anything runs: one line naming the option and its range, exit 2 -------------

MAX_WORKERS = 64  # analysis processes: each holds the networks (about 230 MB)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _checked(check):
    """An engine validator (engine/search/session.py) as an argparse type: its SearchError is the message,
    and a value it accepts is kept as typed (``--bpm-window 0``, off, stays 0)."""
    def parse(text: str) -> float:
        value = _number(text)
        try:
            check(value)
        except SbfError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return value
    parse.__name__ = check.__name__
    return parse


def _whole(least: int, most: int | None = None, what: str = "a count"):
    """A whole number from ``least`` (to ``most``), as an argparse type."""
    allowed = f"{least} to {most}" if most is not None else f"{least} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, {allowed} (got {text!r})") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{what} must be {allowed} (got {value})")
        return value
    return parse


def _library_dir(text: str) -> Path:
    """A folder for the library: it may not exist yet (it is created), but it may not be, or lie in, a file."""
    path = Path(text).expanduser()
    for place in (path, *path.parents):
        if place.exists():
            if not place.is_dir():
                raise argparse.ArgumentTypeError(
                    f"{place} is a file, not a folder: give the folder the library is kept in (created if missing)")
            if not os.access(place, os.R_OK | os.X_OK):
                raise argparse.ArgumentTypeError(f"the folder {place} cannot be read (permission denied)")
            break
    return path


class _Parser(argparse.ArgumentParser):
    """Mistakes in the arguments end as every user mistake does: one line on stderr, exit 2."""

    def error(self, message: str):
        print(f"sbf: {message.removeprefix('argument ')} (see {self.prog} --help)", file=sys.stderr)
        self.exit(EXIT_USER_ERROR)


def cmd_train_translator(lib: Library, args) -> int:
    """Fine-tune the tempo translation on this library; Ctrl-C leaves the previous one in place."""
    if args.reset:
        removed = lib.reset_translator()
        if args.json:
            print(json.dumps({"removed": removed, "path": str(lib.translator_path)}))
        else:
            print("Removed this library's fine-tuned translator: searches use the shipped one again." if removed
                  else "This library has no fine-tuned translator: searches already use the shipped one.")
        return 0
    try:
        require_training()  # the packaged app has no torch
    except TrainingUnavailable as e:
        print(f"sbf: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    from engine.training.finetune import NotEnoughFiles, fine_tune  # torch and scipy's interpolation: seconds no other command needs
    bar = ProgressBar() if not args.json else None
    result = None
    try:
        for ev in fine_tune(lib, replace(FINE_TUNE, epochs=args.epochs)):
            result = ev.result or result
            if bar:
                label = f"{ev.stage} loss {ev.loss:.4f}" if ev.loss is not None else ev.stage
                bar.update(ev.done, ev.total, label)
    except KeyboardInterrupt:
        if bar:
            bar.close()
        print("Cancelled: the library's translator was not changed.", file=sys.stderr)
        return EXIT_CANCELLED
    except NotEnoughFiles as e:
        if bar:
            bar.close()
        print(f"sbf: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    if bar:
        bar.close()
    assert result is not None  # the last event always carries it
    if args.json:
        print(json.dumps(asdict(result), indent=2))
        return 0
    print(f"Fine-tuned on {result.train_files} sounds ({result.pairs} stretched versions) from the "
          f"{result.started_from} translator in {result.seconds:.0f} s; wrote {result.path}")
    if result.skipped_files:
        print(f"  {result.skipped_files} sounds could not be read and were skipped: rescan to update the library.")
    print(f"Held-out check on {result.heldout_files} other sounds, each stretched to every tempo ratio below: "
          "how often the translated sound finds exactly its stretched version (top-1)")
    print("  tau     " + "".join(f"{t:>7}" for t in result.before) + "   mean")
    for name, rates in (("before", result.before), ("after", result.after)):
        print(f"  {name:<8}" + "".join(f"{v:7.2f}" for v in rates.values()) + f"{np.mean(list(rates.values())):7.3f}")
    return 0


DEMO_QUERIES = 3


def cmd_demo(lib: Library, args) -> int:
    """Index the bundled demo library (first run only) and show what search finds."""
    args.folder, args.workers = str(DEMO_DIR), None
    print(f"Indexing the demo library {DEMO_DIR} into {lib.library_dir} ...")
    cmd_index(lib, args)
    loops = sorted(p for p in DEMO_DIR.glob("*.flac") if "bpm" in p.name)
    step = max(1, len(loops) // DEMO_QUERIES)
    for query in loops[::step][:DEMO_QUERIES]:
        bpm = lib.query(query).bpm
        print(f"\nSounds like {query.name}:")
        _print_demo_results(lib.search(query, k=5))
        if bpm is not None:  # the tempo knob: the same sound, 8 % faster
            target = round(bpm * 1.08)
            print(f"...and the same sound at {target} BPM:")
            _print_demo_results(lib.search(query, k=5, mode="target", target_bpm=target))
    return 0


def _print_demo_results(results) -> None:
    for rank, r in enumerate(results, 1):
        bpm = f"{r.bpm:5.0f} BPM" if r.bpm is not None else " no tempo"
        print(f"{rank:3d}. {r.score:.3f} {bpm}  {Path(r.path).name}")


# --- the desktop app ---------------------------------------------------------------------------
# The command line sits above both engine/ and desktop/: only `sbf gui` imports the app (and Qt).

def run_gui(argv: list[str]) -> int:
    """``sbf gui [--screenshot FILE.png --query FILE --bpm N ...]``: the desktop app parses its own options."""
    try:
        from desktop import app
    except ImportError as e:
        print(f"sbf: the desktop app is not installed ({e})", file=sys.stderr)
        return EXIT_USER_ERROR
    return app.main(argv)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--library-dir", type=_library_dir, help="where the library database lives")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = _Parser(prog="sbf", description="Similar But Faster: find samples that sound alike.")
    parser.add_argument("--version", action="version", version=f"sbf {app_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", parents=[common], help="add or update a sample folder")
    p.add_argument("folder", nargs="?", help="the folder to index (may be left out with --retry-failed)")
    p.add_argument("--retry-failed", action="store_true",
                   help="try the files that failed again, even unchanged (in FOLDER, or without it in every folder)")
    p.add_argument("--workers", type=_whole(1, MAX_WORKERS, "the number of workers"), default=None,
                   help=f"analysis processes, 1 to {MAX_WORKERS} (default: one per core, max 2)")
    p.set_defaults(run=cmd_index)
    p = sub.add_parser("search", parents=[common], help="files that sound like FILE")
    p.add_argument("file")
    p.add_argument("-k", type=_whole(1, what="the number of results"), default=10, help="number of results (1 or more)")
    p.add_argument("--mode", choices=MODES, help="similar; target: at a tempo (default with --bpm/--ratio); "
                   "contour: at any tempo")
    knob = p.add_mutually_exclusive_group()
    knob.add_argument("--bpm", type=_checked(checked_target_bpm),
                      help=f"target tempo in BPM, {SEARCH.bpm_min:g} to {SEARCH.bpm_max:g} (tau = target / the query's BPM)")
    knob.add_argument("--ratio", type=_checked(checked_ratio),
                      help=f"target tempo ratio tau = T'/T, {SEARCH.ratio_min:g} to {SEARCH.ratio_max:g} (2 = twice as fast)")
    p.add_argument("--bpm-window", type=_checked(checked_window), metavar="PERCENT",
                   help=f"the tempo gate: only files within PERCENT of the target BPM (default {SEARCH.bpm_window:g} "
                   "with --bpm/--ratio, off otherwise; 0 turns it off)")
    p.set_defaults(run=cmd_search)
    p = sub.add_parser("tempo", parents=[common], help="the BPM of each FILE (none for one-shots)")
    p.add_argument("files", nargs="+", metavar="FILE")
    fix = p.add_argument_group("correct the BPM of library files (stored in the library, used by search)")
    change = fix.add_mutually_exclusive_group()
    change.add_argument("--double", dest="factor", action="store_const", const=2.0, help="x2")
    change.add_argument("--half", dest="factor", action="store_const", const=0.5, help="/2")
    change.add_argument("--times", dest="factor", type=_tempo_factor, metavar="RATIO",
                        help="multiply by RATIO (3/2, 2/3, ...)")
    change.add_argument("--set", type=float, metavar="BPM", help="set the BPM")
    change.add_argument("--reset", action="store_true", help="forget the correction: back to the estimate")
    locking = fix.add_mutually_exclusive_group()
    locking.add_argument("--lock", dest="lock", action="store_const", const=True,
                         help="lock the BPM (after any change above): later corrections are refused")
    locking.add_argument("--unlock", dest="lock", action="store_const", const=False, help="unlock the BPM first")
    p.set_defaults(run=cmd_tempo)
    p = sub.add_parser("demo", parents=[common], help="index the bundled demo library and search it")
    p.set_defaults(run=cmd_demo, demo=True)
    train = sub.add_parser("train", help="train a model on this library").add_subparsers(dest="model", required=True)
    p = train.add_parser("translator", parents=[common],
                         help="fine-tune the tempo translation on this library's sounds (a few minutes)")
    p.add_argument("--library", dest="library_dir", type=_library_dir, help="the library folder (same as --library-dir)")
    p.add_argument("--epochs", type=_whole(1, what="the number of epochs"), default=FINE_TUNE.epochs,
                   help=f"training passes (default {FINE_TUNE.epochs})")
    p.add_argument("--reset", action="store_true", help="remove the fine-tuned translator: back to the shipped one")
    p.set_defaults(run=cmd_train_translator)
    # Listed for `sbf --help` only: main() hands `sbf gui ...` to the desktop app before parsing.
    sub.add_parser("gui", help="open the desktop app (sbf gui --help: --screenshot FILE.png, --query, --bpm)")
    sub.add_parser("info", parents=[common], help="what the library holds, and whether its database is intact"
                   ).set_defaults(run=cmd_info)
    p = sub.add_parser("rebuild", parents=[common], help="rebuild a damaged library from its sample folders, "
                       "keeping your corrections and favourites (the damaged file is kept as a backup)")
    p.add_argument("--force", action="store_true", help="rebuild even when the quick check finds nothing damaged")
    p.add_argument("--workers", type=_whole(1, MAX_WORKERS, "the number of workers"), default=None,
                   help=f"analysis processes for the scan that follows, 1 to {MAX_WORKERS}")
    p.set_defaults(run=cmd_rebuild)
    sub.add_parser("failed", parents=[common], help="files that could not be analysed, and why").set_defaults(run=cmd_failed)
    p = sub.add_parser("remove", parents=[common], help="take a sample folder out of the library (your BPM "
                       "corrections and favourites are kept, should its files come back)")
    p.add_argument("folder")
    p.set_defaults(run=cmd_remove)
    return parser


def _print_file_names_whole() -> None:
    """A file name that is not UTF-8 (a Latin-1 name from an old archive) is printed as the bytes it is,
    as ls does: the terminal shows a replacement character, and a pipe gets a path that opens the file.
    (Python would otherwise stop at it with UnicodeEncodeError.)"""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and getattr(sys.stdout, "errors", None) == "strict":
        reconfigure(errors="surrogateescape")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _print_file_names_whole()
    if argv[:1] == ["gui"]:
        return run_gui(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "demo", False) and args.library_dir is None:
        args.library_dir = default_library_dir() / "demo"  # never mixed into the user's own library
    try:
        lib = Library(args.library_dir)
    except DamagedLibrary as e:
        if args.run is not cmd_rebuild:
            print(f"sbf: {e}", file=sys.stderr)
            return EXIT_USER_ERROR
        lib = None  # too damaged to open: rebuilt from what can be read
    except SbfError as e:
        print(f"sbf: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        return args.run(lib, args)
    except (SbfError, FileNotFoundError) as e:  # every engine error reads as a sentence for the user
        print(f"sbf: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        if lib is not None:
            lib.close()


if __name__ == "__main__":
    sys.exit(main())
