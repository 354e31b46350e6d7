#!/bin/sh
# Run before the tests (npm's pretest): the browser tests (test/ui) drive Debian's Chromium, with CJK fonts
# so Chinese renders in their screenshots. Installs both with apt when missing, so the README's one test
# command works on a fresh machine; without apt or root it says what to install and lets the tests report.
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium and fonts-noto-cjk for the browser tests (apt)…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
else
  echo "The browser tests need Debian's chromium and fonts-noto-cjk: apt-get install -y chromium fonts-noto-cjk" >&2
fi
