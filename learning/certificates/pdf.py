"""Certificate PDFs (A4 or US Letter) with a QR code that opens the verify page.

The signed payload is stored in the PDF's metadata for offline checks.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
PAPERS = {"a4": "A4", "letter": "Letter"}
KEYWORDS = "waymark-certificate"
# Font sizes that tell the offline verifier which printed text is which field.
HOLDER_SIZE, COURSE_SIZE, DETAILS_SIZE, FOOTER_SIZE = 28, 18, 11, 9
# Issuer and signatory lines use other sizes, so the verifier never mistakes them for fields.
ISSUER_SIZE, SIGNATORY_SIZE, SIGNATORY_TITLE_SIZE = 12, 12.5, 10


class FontMissing(RuntimeError):
    """The fonts certificates need are not installed."""


@dataclass(frozen=True)
class PrintedCertificate:
    """Everything printed on a certificate, already translated where needed."""

    code: str
    holder_name: str
    course_title: str
    version_label: str
    score_label: str | None
    issued_label: str
    expiry_label: str
    verify_url: str
    payload: str
    labels: dict[str, str]
    issuer_name: str = ""
    signatory_name: str = ""
    signatory_title: str = ""


def font_dir(configured: str | None = None) -> Path:
    """Where DejaVu Sans lives (it covers Latin, Greek, Cyrillic and Arabic)."""
    for folder in ((Path(configured),) if configured else ()) + FONT_DIRS:
        if (folder / "DejaVuSans.ttf").exists() and (folder / "DejaVuSans-Bold.ttf").exists():
            return folder
    raise FontMissing("DejaVu fonts not found: install Debian's fonts-dejavu-core or set "
                      "WAYMARK_FONT_DIR")


# The scripts certificates print: Latin (with Vietnamese), Greek, Cyrillic, Armenian,
# Hebrew, Arabic (with presentation forms), Georgian, and common punctuation and symbols.
COVERED_RANGES = ((0x0020, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF),
                  (0x0400, 0x052F), (0x0530, 0x058F), (0x0590, 0x05FF), (0x0600, 0x06FF),
                  (0x0750, 0x077F), (0x10A0, 0x10FF), (0x1E00, 0x1EFF), (0x1F00, 0x1FFF),
                  (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0xFB1D, 0xFDFF),
                  (0xFE70, 0xFEFF))


# Chinese, Japanese and Korean: DejaVu has none, so a CJK font is added as a fallback,
# only to certificates that print such characters (it is large to parse).
CJK_FONTS = (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),)
CJK_RANGES = ((0x2E80, 0x2FDF), (0x3000, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
              (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F))


def needs_cjk(*texts: str) -> bool:
    """True when any text holds a Chinese, Japanese or Korean character."""
    return any(low <= ord(ch) <= high for text in texts for ch in text
               for low, high in CJK_RANGES)


def cjk_font(fonts: Path) -> Path:
    """The CJK fallback font: in the configured font folder, or Debian's Droid Sans Fallback."""
    for candidate in (fonts / "DroidSansFallbackFull.ttf", *CJK_FONTS):
        if candidate.exists():
            return candidate
    raise FontMissing("No font for Chinese, Japanese or Korean text: install Debian's "
                      "fonts-droid-fallback or put DroidSansFallbackFull.ttf in WAYMARK_FONT_DIR")


def prepared_font(source: Path, cache_dir: Path,
                  unicodes: frozenset[int] | None = None, kind: str = "") -> Path:
    """A font cut down to ``unicodes`` (DejaVu: the covered scripts), made once and kept in
    ``cache_dir``.

    The full DejaVu has about 6,000 glyphs and fpdf2 parses all of them for every
    document; the cut-down copy makes each certificate about three times faster.
    """
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = cache_dir / f"{source.stem}{kind}-{digest}.ttf"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    font = TTFont(io.BytesIO(data))
    options = subset.Options()
    options.layout_features = ["*"]  # keep Arabic joining and other shaping rules
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes if unicodes is not None else
                       [c for low, high in COVERED_RANGES for c in range(low, high + 1)])
    subsetter.subset(font)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(str(partial))
    os.replace(partial, target)  # atomic: concurrent workers never read half a file
    return target


@functools.cache
def common_cjk() -> frozenset[int]:
    """Characters of GB 2312 (6,763 hanzi, kana, CJK punctuation) and full-width forms:
    nearly every Chinese name and all of our Chinese labels."""
    found = set(range(0xFF00, 0xFFF0))
    for code in range(0x3000, 0xA000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        found.add(code)
    return frozenset(found)


def cjk_font_for(texts: tuple[str, ...], fonts: Path, cache_dir: Path | None) -> Path:
    """The CJK font a certificate needs: a 1 MB cut of the fallback font with the common
    characters (a quarter of the parsing memory), or the whole font for rarer ones."""
    full = cjk_font(fonts)
    wanted = {ord(ch) for text in texts for ch in text
              if any(low <= ord(ch) <= high for low, high in CJK_RANGES)}
    if cache_dir is None or not wanted <= common_cjk():
        return full
    return prepared_font(full, cache_dir, common_cjk(), "-common")


def _document(paper: str, fonts: Path, cache_dir: Path | None,
              cjk: tuple[str, ...] = ()) -> FPDF:
    """A new landscape document with the fonts loaded.

    Each certificate parses the fonts afresh: fpdf2 subsets a font in place when it
    writes a file, so a document copied from a shared template would corrupt it.
    """
    pdf = FPDF(orientation="landscape", unit="mm", format=PAPERS[paper])
    regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
    if cache_dir is not None:
        regular, bold = prepared_font(regular, cache_dir), prepared_font(bold, cache_dir)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    if cjk:  # the texts that need a CJK font
        fallback = str(cjk_font_for(cjk, fonts, cache_dir))
        pdf.add_font("CJK", "", fallback)
        pdf.add_font("CJK", "B", fallback)
        pdf.set_fallback_fonts(["CJK"])
    pdf.set_text_shaping(True)  # joins and orders Arabic and other complex scripts
    pdf.set_auto_page_break(False)
    pdf.set_creator("Waymark")
    return pdf


def qr_png(url: str) -> io.BytesIO:
    """A QR code for ``url`` as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def render_pdf(cert: PrintedCertificate, paper: str = "a4", fonts: Path | None = None,
               cache_dir: Path | None = None) -> bytes:
    """One landscape page: who, what, when, the code, and the QR code."""
    texts = (cert.holder_name, cert.course_title, cert.issuer_name, cert.signatory_name,
             cert.signatory_title, cert.version_label, cert.issued_label, cert.expiry_label,
             cert.score_label or "", *cert.labels.values())
    pdf = _document(paper, fonts or font_dir(), cache_dir,
                    cjk=texts if needs_cjk(*texts) else ())
    pdf.set_title(f"{cert.labels['title']}: {cert.course_title}")
    pdf.set_subject(cert.payload)
    pdf.set_keywords(KEYWORDS)
    pdf.add_page()
    width, height = pdf.w, pdf.h
    pdf.set_draw_color(11, 92, 138)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, width - 26, height - 26)

    def line(text: str, size: float, style: str = "", gap: float = 4, colour=(27, 31, 36)):
        pdf.set_font("DejaVu", style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(25)
        pdf.multi_cell(width - 50, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(28)
    line(cert.issuer_name or "WAYMARK", ISSUER_SIZE, "B", 2, (11, 92, 138))
    line(cert.labels["title"], 26, "B", 8)
    line(cert.labels["certifies"], 13, "", 3, (85, 94, 104))
    line(cert.holder_name, HOLDER_SIZE, "B", 5)
    line(cert.labels["completed"], 13, "", 3, (85, 94, 104))
    line(cert.course_title, COURSE_SIZE, "B", 6)
    details = [cert.version_label, cert.issued_label, cert.expiry_label]
    if cert.score_label:
        details.insert(1, cert.score_label)
    line("  ·  ".join(details), DETAILS_SIZE, "", 2, (85, 94, 104))

    qr_size = 42
    if cert.signatory_name:
        block = width - 80 - qr_size
        pdf.set_draw_color(85, 94, 104)
        pdf.line(25, height - 62, 25 + min(90, block), height - 62)
        pdf.set_xy(25, height - 60)
        pdf.set_font("DejaVu", "B", SIGNATORY_SIZE)
        pdf.set_text_color(27, 31, 36)
        pdf.multi_cell(block, 5.5, cert.signatory_name, align="L", new_x="LMARGIN",
                       new_y="NEXT")
        if cert.signatory_title:
            pdf.set_x(25)
            pdf.set_font("DejaVu", "", SIGNATORY_TITLE_SIZE)
            pdf.set_text_color(85, 94, 104)
            pdf.multi_cell(block, 4.5, cert.signatory_title, align="L")
    pdf.image(qr_png(cert.verify_url), x=width - 25 - qr_size, y=height - 22 - qr_size,
              w=qr_size, h=qr_size)
    pdf.set_font("DejaVu", "", FOOTER_SIZE)
    pdf.set_text_color(85, 94, 104)
    pdf.set_xy(25, height - 40)
    pdf.multi_cell(width - 80 - qr_size, 5,
                   f"{cert.labels['code']}: {cert.code}\n{cert.labels['verify']}: "
                   f"{cert.verify_url.split('?')[0]}", align="L")
    return bytes(pdf.output())


def issued_date_label(day: date) -> str:
    """ISO dates: unambiguous in every country that reads a certificate."""
    return day.isoformat()
