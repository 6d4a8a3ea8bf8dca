"""Builds assets/fonts/KeelSans.ttf: DejaVu Sans with the CJK glyphs of Droid Sans Fallback
and the Hangul of NanumGothic, one face so the chart renderer needs no font fallback.
Run by assets/fonts/build.sh; the output is committed."""
import os
import sys
import tempfile
from fontTools import subset
from fontTools.merge import Merger, Options as MergeOptions
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
import logging

# The subsetter names every table it drops (hinting sources such as TSI*); quiet.
logging.getLogger("fontTools").setLevel(logging.ERROR)

dejavu, droid, nanum, out = sys.argv[1:5]

RANGES = {
    "droid": [(0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF),
              (0x3100, 0x312F), (0x31F0, 0x31FF), (0x4E00, 0x9FFF),
              (0xF900, 0xFAFF), (0xFF00, 0xFFEF)],
    "nanum": [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF),
              (0xD7B0, 0xD7FF)],
}

def decompose(f):
    """Composite glyphs become simple ones, and the component-only glyphs go: Droid's CJK
    is built from about 20,000 shared components, which would pass the 65,535 glyph limit."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    glyf = f["glyf"]
    gs = f.getGlyphSet()
    used = set(f.getBestCmap().values()) | {".notdef"}
    for n in f.getGlyphOrder():
        if n in used and glyf[n].isComposite():
            rec = DecomposingRecordingPen(gs)
            gs[n].draw(rec)
            pen = TTGlyphPen(None)
            rec.replay(pen)
            glyf[n] = pen.glyph()
    s = subset.Subsetter(subset.Options(hinting=False, layout_features=[], notdef_outline=True, name_IDs=[]))
    s.populate(glyphs=sorted(used))
    s.subset(f)


def part(path, ranges, taken, flatten):
    f = TTFont(path)
    # Variation sequences would pull in tens of thousands of variant glyphs; labels need none.
    f["cmap"].tables = [t for t in f["cmap"].tables if t.format != 14]
    cmap = f.getBestCmap()
    codes = [c for a, b in ranges for c in range(a, b + 1) if c in cmap and c not in taken]
    opts = subset.Options()
    opts.hinting = False
    opts.layout_features = []
    opts.notdef_outline = True
    opts.name_IDs = []
    opts.drop_tables += ["vhea", "vmtx", "GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM"]
    s = subset.Subsetter(opts)
    s.populate(unicodes=codes)
    s.subset(f)
    if flatten:
        decompose(f)
    if f["head"].unitsPerEm != 2048:
        scale_upem(f, 2048)
    taken.update(codes)
    return f

base = TTFont(dejavu)
taken = set(base.getBestCmap())
# DejaVu keeps its glyphs and its layout tables; only the hinting goes (ab_glyph never hints).
opts = subset.Options()
opts.hinting = False
opts.layout_features = ["*"]
opts.name_IDs = ["*"]
opts.glyph_names = True
opts.legacy_kern = True  # the `kern` table, which the subsetter drops beside GPOS by default
opts.notdef_outline = True
opts.drop_tables += ["FFTM"]
s = subset.Subsetter(opts)
s.populate(unicodes=sorted(taken))
s.subset(base)
parts = [base, part(droid, RANGES["droid"], taken, True), part(nanum, RANGES["nanum"], taken, False)]
tmp = tempfile.mkdtemp()
paths = []
for i, f in enumerate(parts):
    p = os.path.join(tmp, f"part{i}.ttf")
    f.save(p)
    paths.append(p)
merged = Merger(options=MergeOptions(drop_tables=["GSUB", "GPOS", "GDEF", "MATH", "kern"])).merge(paths)
# DejaVu's pair kerning comes back (ab_glyph reads the `kern` table, never GPOS; the first
# font's glyphs keep their names in the merge), and so do its vertical metrics: the merger
# takes the largest of the three, which would move every label's baseline.
merged["kern"] = base["kern"]
for table, fields in {
    "hhea": ["ascent", "descent", "lineGap"],
    "OS/2": ["sTypoAscender", "sTypoDescender", "sTypoLineGap", "usWinAscent", "usWinDescent"],
}.items():
    for field in fields:
        setattr(merged[table], field, getattr(base[table], field))
name = merged["name"]
for rec in list(name.names):
    if rec.nameID in (1, 3, 4, 16):
        name.setName("Keel Sans", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    elif rec.nameID == 6:
        name.setName("KeelSans", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
merged.recalcTimestamp = False
# The same bytes from the same inputs: dates are DejaVu's, not the build's.
merged["head"].created = merged["head"].modified = TTFont(dejavu)["head"].created
merged.save(out)
cm = TTFont(out).getBestCmap()
print(out, len(TTFont(out).getGlyphOrder()), "glyphs;",
      "中" in map(chr, cm), "한" in map(chr, cm), "あ" in map(chr, cm), "ش" in map(chr, cm))
