#!/usr/bin/env bash
# Installs the Debian packages Wenshi needs (Tesseract, its Chinese models, CJK fonts, and
# Chromium for the reading room's browser tests).
# Idempotent: does nothing when everything is present. Not root: says what to run instead.
set -euo pipefail
PACKAGES="tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-chi-sim-vert tesseract-ocr-chi-tra-vert fonts-noto-cjk fonts-wqy-zenhei fonts-hanazono chromium"

have_all() {
  command -v tesseract >/dev/null 2>&1 || return 1
  local langs
  langs=$(tesseract --list-langs 2>/dev/null) || return 1
  for l in chi_sim chi_tra chi_sim_vert chi_tra_vert osd; do
    grep -qx "$l" <<<"$langs" || return 1
  done
  # Not `fc-list | grep -q`: under pipefail, grep's early exit gave fc-list a SIGPIPE and the
  # check failed at random (4 times in 6 here).
  local fonts
  fonts=$(fc-list 2>/dev/null) || return 1
  grep -qi "Noto Serif CJK" <<<"$fonts" || return 1
  # HanaMin: the rare characters (CJK Extension B and beyond) Noto lacks, in searchable PDFs.
  grep -qi "HanaMinB" <<<"$fonts" || return 1
  # The browser tests drive this Chromium through Playwright (its own download is not used).
  [ -x /usr/bin/chromium ] || return 1
}

if have_all; then
  echo "system packages: present (tesseract $(tesseract --version 2>&1 | head -n1 | cut -d' ' -f2))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing system packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y $PACKAGES" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PACKAGES fontconfig >/dev/null
have_all || { echo "system packages: install finished but Tesseract, its Chinese models, the CJK font or Chromium are still missing" >&2; exit 1; }
echo "system packages: installed"
