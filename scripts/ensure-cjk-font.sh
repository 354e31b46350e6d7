#!/bin/sh
# Run before `npm start` (npm's prestart): printed documents embed a CJK font in their PDFs
# (engine/templates/pdf.ts). Installs Debian's fonts-noto-cjk with apt when no such font is there and
# we are root, so the README's one start command prints Chinese on a fresh machine; otherwise it says
# what to install and the server starts anyway (PDFs answer 503 until a font is there; HTML works).
[ -n "$PDF_FONT" ] && exit 0
for font in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc \
  /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; do
  [ -f "$font" ] && exit 0
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing fonts-noto-cjk for printed documents (apt)…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null || echo "Could not install fonts-noto-cjk; PDFs need a CJK font (PDF_FONT)" >&2
else
  echo "Printed PDFs need a CJK font: apt-get install -y fonts-noto-cjk (or set PDF_FONT)" >&2
fi
exit 0
