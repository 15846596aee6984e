#!/usr/bin/env bash
# Installs the Debian libraries the audio and GUI stack loads at run time.
# As root (CI, containers) they are installed; otherwise the exact command is printed.
set -euo pipefail
# Audio (sounddevice, soundfile) and Qt (offscreen and on an X11 desktop).
PKGS="libportaudio2 libsndfile1 libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
 libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libx11-xcb1"
command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "Installing system libraries:$missing"
  (apt-get install -y -q $missing >/dev/null 2>&1) || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
else
  echo "Missing system libraries. Run: sudo apt-get install -y$missing" >&2
  exit 1
fi
