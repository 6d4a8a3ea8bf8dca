#!/usr/bin/env bash
# Rebuilds KeelSans.ttf, the one chart font built into the keel binary, from Debian's font
# packages: DejaVu Sans (Latin, Greek, Cyrillic, Hebrew, Arabic and the rest), the CJK of
# Droid Sans Fallback and the Hangul of NanumGothic. The result is committed; run this only
# to change it. Needs apt-get (download only, no install) and python3 with venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download fonts-dejavu-core=2.37-6 fonts-droid-fallback=1:6.0.1r16-1.1 fonts-nanum=20200506-1
for d in *.deb; do dpkg-deb -x "$d" root; done
python3 -m venv venv
venv/bin/pip install -q fonttools==4.68.0
venv/bin/python "$here/build.py" \
  root/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  root/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf \
  root/usr/share/fonts/truetype/nanum/NanumGothic.ttf \
  "$here/KeelSans.ttf"
