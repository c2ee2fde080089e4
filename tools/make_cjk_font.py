"""Rebuild salon/fonts/WenQuanYiMicroHei.ttf from Debian's fonts-wqy-microhei package.

    apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb /tmp/wqy
    .venv/bin/python tools/make_cjk_font.py /tmp/wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

Keeps the first face of the collection (WenQuanYi Micro Hei, Apache-2.0) with Latin, punctuation, symbols,
kana, CJK Unified Ideographs (with Extension A and compatibility ideographs) and full-width forms; drops hinting
and layout tables (the PDF writer subsets again, per document, and needs neither). ~3 MB instead of 5 MB."""
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

RANGES = [(0x20, 0x7E), (0xA0, 0x24F), (0x2000, 0x206F), (0x2100, 0x218F), (0x2190, 0x21FF), (0x2460, 0x24FF),
          (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x2700, 0x27BF), (0x3000, 0x303F),
          (0x3040, 0x30FF), (0x3200, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
          (0xFE30, 0xFE4F), (0xFF00, 0xFFEF)]
OUT = Path(__file__).resolve().parents[1] / "salon" / "fonts" / "WenQuanYiMicroHei.ttf"


def main(source: str) -> None:
    font = TTCollection(source).fonts[0]
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["FFTM", "GPOS", "GSUB", "GDEF", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in RANGES for c in range(low, high + 1)])
    subsetter.subset(font)
    font.save(OUT)
    print(OUT, OUT.stat().st_size)


if __name__ == "__main__":
    main(sys.argv[1])
