"""Images (PNG and JPEG): refuse what cannot be checked, rewrite the rest from pixels only.

An image output can carry more than its picture: text chunks, EXIF and XMP metadata (camera,
author, software, free text), ICC profiles, comments, private chunks, thumbnails and bytes
appended after the end of the image. None of it is visible to a reviewer looking at the
picture, so none of it may leave the platform. :func:`canonical_image` therefore never
releases the researcher's bytes: it decodes the pixels and encodes them again, and the new
file is what the rules check, what reviewers see and what is released.

The order of the work is the contract:

1. the size is checked before anything is parsed;
2. the type is decided by the leading bytes only, never by the name: PNG and JPEG pass,
   everything else (SVG, GIF, WebP, TIFF, BMP, PDF, unknown bytes) is refused;
3. the file's structure is walked in pure Python (PNG chunks with their checksums, JPEG
   segments) to read the declared size, refuse animation and list what will be dropped;
   the pixel limit is applied as soon as the header is read, before any pixel is decoded;
4. only the parts that carry pixels are handed to Pillow (PNG: ``IHDR``, ``PLTE``,
   ``tRNS``, ``IDAT``, ``IEND``; JPEG: tables, frame, scans and the ``JFIF``/``Adobe``
   markers that decide colours), so Pillow never parses the metadata at all;
5. the decoded pixels are saved again with fixed settings and no metadata.

Nothing here raises on bad input: every refusal is a :class:`ImageResult` whose ``failure``
is a ``fail`` verdict with one plain-language line. Pillow's warnings (its
decompression-bomb warning among them) are turned into refusals too; the warning filter
used for that is process-wide in Python 3.11, so two threads canonicalising at the same
moment may, in a rare race, see one of them merely warned instead of refused.

The output is deterministic for a given installation: the same input gives byte-identical
output. It is not promised across Pillow, zlib or libjpeg versions, so the hash of a
canonical form is recorded with the report rather than recomputed later.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from PIL import Image

from agoria_tre.disclosure.policy import Limits
from agoria_tre.disclosure.report import RuleResult, flagged
from agoria_tre.disclosure.status import Status

RULE_TYPE = "file.type"
RULE_LIMITS = "file.limits"
RULE_UNREADABLE = "image.unreadable"

#: zlib level of canonical PNGs; fixed so that the output does not depend on defaults.
PNG_COMPRESS_LEVEL = 6
#: Quality of canonical JPEGs: high, because figures carry thin lines and small text.
JPEG_QUALITY = 95
#: No chroma subsampling (4:4:4): coloured lines and text in figures stay sharp.
JPEG_SUBSAMPLING = "4:4:4"


@dataclass(frozen=True)
class ImageResult:
    """What became of one image.

    On success ``canonical`` holds the re-encoded file, ``format`` is ``"png"`` or
    ``"jpeg"``, ``width`` and ``height`` are those of the canonical image (an EXIF
    orientation is applied to the pixels, so they may be swapped relative to the header),
    ``removed`` names in plain words what the original carried and the canonical form does
    not, and ``failure`` is ``None``.

    On refusal ``canonical`` is ``None``, ``failure`` is a ``fail`` verdict (rule
    ``file.type``, ``file.limits`` or ``image.unreadable``), ``removed`` is empty, and
    ``format``, ``width`` and ``height`` hold what was learned before the refusal (the
    format once the leading bytes matched, the size once the header was read; ``None``
    and ``0`` otherwise).
    """

    canonical: bytes | None
    format: str | None
    width: int
    height: int
    removed: tuple[str, ...]
    failure: RuleResult | None


class _Refused(Exception):
    """Internal: a verdict travelling from the parsers up to :func:`canonical_image`."""

    def __init__(self, rule: str, summary: str, width: int = 0, height: int = 0) -> None:
        super().__init__(summary)
        self.rule = rule
        self.summary = summary
        self.width = width
        self.height = height


@dataclass(frozen=True)
class _Parsed:
    """The outcome of walking a file's structure, before any pixel is decoded."""

    width: int
    height: int
    essential: bytes  # the pixel-bearing parts only: what Pillow is given
    removed: tuple[str, ...]
    orientation: int  # EXIF orientation, 1 (as stored) to 8


class _Removed:
    """Words for what was dropped, in order of first appearance, each said once.

    A category may collect names (chunk types, marker numbers) shown in brackets after it.
    """

    def __init__(self) -> None:
        self._items: dict[str, list[str]] = {}

    def add(self, category: str, detail: str | None = None) -> None:
        details = self._items.setdefault(category, [])
        if detail is not None and detail not in details:
            details.append(detail)

    def words(self) -> tuple[str, ...]:
        return tuple(
            f"{category} ({', '.join(details)})" if details else category
            for category, details in self._items.items()
        )


def canonical_image(data: bytes, limits: Limits, *, name: str) -> ImageResult:
    """Rewrite a PNG or JPEG image from its pixels alone, or refuse it.

    ``name`` is the item's name as the researcher gave it. It never decides the type; only
    its extension is quoted, to explain a refusal when name and content disagree. Host
    paths never appear in a summary.
    """
    suffix = _suffix(name)
    if len(data) > limits.max_bytes:
        return _refusal(
            RULE_LIMITS,
            f"too large: {len(data):,} bytes, above the limit of {limits.max_bytes:,} bytes",
        )
    fmt = _sniff(data)
    if fmt is None:
        return _refusal(RULE_TYPE, _type_refusal(data, suffix))
    try:
        parsed = (
            _walk_png(data, limits.max_pixels)
            if fmt == "png"
            else _walk_jpeg(data, limits.max_pixels)
        )
        canonical, width, height = _reencode(parsed, fmt)
    except _Refused as refused:
        return _refusal(refused.rule, refused.summary, fmt, refused.width, refused.height)
    return ImageResult(canonical, fmt, width, height, parsed.removed, None)


def _refusal(
    rule: str, summary: str, fmt: str | None = None, width: int = 0, height: int = 0
) -> ImageResult:
    return ImageResult(None, fmt, width, height, (), flagged(rule, Status.FAIL, summary))


# -- type ------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"

# Formats recognised only to name them in a refusal: (test on the leading bytes, name).
_OTHER_TYPES: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"WEBP", 8, "WebP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"BM", 0, "BMP"),
    (b"%PDF", 0, "PDF"),
    (b"%!PS", 0, "PostScript"),
    (b"ftyp", 4, "HEIF/AVIF"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"\xff\x4f\xff\x51", 0, "JPEG 2000"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"PK\x03\x04", 0, "ZIP archive"),
    (b"\x1f\x8b", 0, "gzip-compressed"),
)
_SVG_REFUSAL = "type not allowed: SVG can carry text and scripts; export the figure as PNG"


def _sniff(data: bytes) -> str | None:
    """``"png"`` or ``"jpeg"`` from the leading bytes, ``None`` for anything else."""
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(_JPEG_SIGNATURE):
        return "jpeg"
    return None


def _suffix(name: str) -> str | None:
    """The name's extension if it is short and plain; quoted in messages, never trusted."""
    match = re.search(r"\.([A-Za-z0-9]{1,8})\Z", name)
    return f".{match.group(1).lower()}" if match else None


def _looks_like_svg(data: bytes) -> bool:
    """SVG or other XML text, also in UTF-16 and after a byte-order mark or blank lines."""
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith((b"<?xml", b"<svg")) or (head.startswith(b"<") and b"<svg" in head)


def _type_refusal(data: bytes, suffix: str | None) -> str:
    """One line saying what the content is, and that only PNG and JPEG are accepted."""
    named = f" (the name ends in {suffix}, but the content decides)" if suffix else ""
    if _looks_like_svg(data):
        return _SVG_REFUSAL + named
    for magic, offset, kind in _OTHER_TYPES:
        if data[offset : offset + len(magic)] == magic:
            return f"type not allowed: {kind} content; only PNG and JPEG images are accepted{named}"
    return f"type not allowed: the content is not a PNG or JPEG image{named}"


def _pixel_limit(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise _Refused(
            RULE_LIMITS,
            f"too many pixels: {width} x {height} = {width * height:,}, above the limit of "
            f"{max_pixels:,}; refused before decoding",
            width,
            height,
        )


def _unreadable(reason: str) -> _Refused:
    return _Refused(RULE_UNREADABLE, f"unreadable: {reason}")


# -- EXIF orientation --------------------------------------------------------------------------


def _exif_orientation(exif: bytes) -> int:
    """The orientation tag (1 to 8) of an EXIF block, 1 when absent or unreadable.

    Read here, in a few bounded lines, so that Pillow never parses EXIF at all. Only the
    first directory is read, where the tag lives.
    """
    tiff = exif.removeprefix(b"Exif\x00\x00")
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        return 1
    if len(tiff) < 8:
        return 1
    (first,) = struct.unpack(order + "I", tiff[4:8])
    if first + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for index in range(count):
        entry = first + 2 + 12 * index
        if entry + 12 > len(tiff):
            return 1
        tag, kind, number = struct.unpack(order + "HHI", tiff[entry : entry + 8])
        if tag == 0x0112:
            if kind != 3 or number != 1:
                return 1
            (value,) = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])
            return value if 1 <= value <= 8 else 1
    return 1


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# -- PNG ---------------------------------------------------------------------------------------

_PNG_PIXEL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
_PNG_ANIMATION_CHUNKS = {b"acTL", b"fcTL", b"fdAT"}
_PNG_WORDS = {
    b"tEXt": "text chunks",
    b"zTXt": "text chunks",
    b"iTXt": "text chunks",
    b"eXIf": "EXIF metadata",
    b"iCCP": "ICC profile",
    b"tIME": "modification time",
}
_PNG_DISPLAY_HINTS = {
    b"gAMA",
    b"cHRM",
    b"sRGB",
    b"sBIT",
    b"cICP",
    b"mDCV",
    b"cLLI",
    b"pHYs",
    b"bKGD",
    b"hIST",
    b"sPLT",
    b"oFFs",
    b"pCAL",
    b"sCAL",
    b"sTER",
}


def _walk_png(data: bytes, max_pixels: int) -> _Parsed:
    """Check every chunk (length, type, checksum, order) and keep only the pixel chunks.

    Anything after ``IEND`` is reported and dropped; a file that ends before ``IEND`` is
    truncated. The pixel limit is applied as soon as ``IHDR`` is read.
    """
    size = len(data)
    pos = len(_PNG_SIGNATURE)
    kept = [_PNG_SIGNATURE]
    removed = _Removed()
    width = height = 0
    orientation = 1
    has_pixels = False
    while True:
        if pos + 8 > size:
            raise _unreadable("the PNG file is truncated (it ends before its IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if not (kind.isascii() and kind.isalpha()) or length > 0x7FFFFFFF:
            raise _unreadable("the PNG file is corrupt (a chunk has an invalid header)")
        end = pos + 12 + length
        if end > size:
            raise _unreadable("the PNG file is truncated (it ends inside a chunk)")
        body = data[pos + 8 : end - 4]
        chunk_name = kind.decode("ascii")
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            raise _unreadable(f"the PNG chunk {chunk_name} fails its checksum (file corrupt)")
        if (pos == len(_PNG_SIGNATURE)) != (kind == b"IHDR"):
            raise _unreadable("the PNG file is corrupt (IHDR is not its first and only header)")
        if kind == b"IHDR":
            if length != 13:
                raise _unreadable("the PNG file is corrupt (its IHDR header has a wrong size)")
            width, height = struct.unpack(">II", body[:8])
            if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
                raise _unreadable("the PNG header declares an impossible size")
            _pixel_limit(width, height, max_pixels)
        elif kind in _PNG_ANIMATION_CHUNKS:
            raise _Refused(
                RULE_TYPE,
                "type not allowed: animated images (APNG); export a single frame as PNG",
                width,
                height,
            )
        if kind in _PNG_PIXEL_CHUNKS:
            kept.append(data[pos:end])
            has_pixels = has_pixels or kind == b"IDAT"
        elif kind in _PNG_WORDS:
            removed.add(_PNG_WORDS[kind])
        elif kind in _PNG_DISPLAY_HINTS:
            removed.add("display hints", chunk_name)
        else:
            removed.add("unrecognised chunks", chunk_name)
        if kind == b"eXIf":
            orientation = _exif_orientation(body)
        pos = end
        if kind == b"IEND":
            break
    if not has_pixels:
        raise _unreadable("the PNG file holds no image data (no IDAT chunk)")
    if pos < size:
        removed.add("trailing bytes after the image")
    return _Parsed(width, height, b"".join(kept), removed.words(), orientation)


# -- JPEG --------------------------------------------------------------------------------------

_JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0 to SOF15
_JPEG_TABLES = {0xC4, 0xCC, 0xDB, 0xDD}  # DHT, DAC, DQT, DRI
_JPEG_EOI = 0xD9
_JPEG_SOS = 0xDA
MAX_JPEG_SCANS = 64  # libjpeg's progressive encoder writes 10; a crafted file, thousands
_JPEG_COM = 0xFE
_JPEG_APP0 = 0xE0
_JPEG_APP14 = 0xEE


def _jpeg_application(marker: int, payload: bytes) -> tuple[str, str | None]:
    """Plain words for a dropped application segment (APP1 to APP15)."""
    if marker == 0xE1 and payload.startswith(b"Exif\x00"):
        return "EXIF metadata", None
    if marker == 0xE1 and payload.startswith(b"http://ns.adobe.com/x"):
        return "XMP metadata", None
    if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        return "ICC profile", None
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):
        return "multi-picture index", None
    if marker == 0xED and payload.startswith(b"Photoshop 3.0\x00"):
        return "Photoshop/IPTC metadata", None
    return "application segments", f"APP{marker - _JPEG_APP0}"


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data that starts at ``pos`` ends: at its next real marker.

    Inside a scan ``FF 00`` is an escaped data byte and ``FF D0``..``FF D7`` are restart
    markers; any other ``FF xx`` ends the scan.
    """
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise _unreadable("the JPEG file is truncated (it ends inside the image data)")
        following = data[pos + 1]
        if following == 0x00 or following == 0xFF or 0xD0 <= following <= 0xD7:
            pos += 1
            continue
        return pos


def _walk_jpeg(data: bytes, max_pixels: int) -> _Parsed:
    """Walk the segments up to the end-of-image marker and keep only what decodes pixels.

    Kept: quantisation and Huffman tables, the frame header, scans with their data, and the
    ``JFIF`` (thumbnail removed) and ``Adobe`` markers, which decide how colours decode.
    Dropped and reported: EXIF, XMP, ICC, other application segments, comments, stray bytes
    and everything after the end-of-image marker (which is where extra pictures of a
    multi-picture file live). The pixel limit is applied as soon as the frame header is read.
    """
    size = len(data)
    pos = 2
    kept = [b"\xff\xd8"]
    removed = _Removed()
    width = height = 0
    orientation = 1
    has_scan = False
    scans = 0
    while True:
        if pos < size and data[pos] != 0xFF:
            removed.add("stray bytes between segments")
            pos = data.find(b"\xff", pos)
            if pos < 0:
                pos = size
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            raise _unreadable("the JPEG file is truncated (it ends before its end-of-image mark)")
        marker = data[pos]
        pos += 1
        if marker == _JPEG_EOI:
            kept.append(b"\xff\xd9")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # markers without a body; outside a scan they mean nothing
        if marker in (0x00, 0xD8):
            raise _unreadable("the JPEG file is corrupt (a marker is out of place)")
        if pos + 2 > size:
            raise _unreadable("the JPEG file is truncated (it ends inside a segment)")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        end = pos + length
        if length < 2:
            raise _unreadable("the JPEG file is corrupt (a segment has an invalid length)")
        if end > size:
            raise _unreadable("the JPEG file is truncated (it ends inside a segment)")
        payload = data[pos + 2 : end]
        segment = bytes((0xFF, marker)) + data[pos:end]
        pos = end
        if marker in _JPEG_FRAMES:
            if width:
                raise _unreadable("the JPEG file has more than one frame header")
            if len(payload) < 6:
                raise _unreadable("the JPEG frame header is too short")
            height, width = struct.unpack(">HH", payload[1:5])
            if not (width and height):
                raise _unreadable("the JPEG header does not declare the image size")
            _pixel_limit(width, height, max_pixels)
            kept.append(segment)
        elif marker == _JPEG_SOS:
            if not width:
                raise _unreadable("the JPEG file is corrupt (image data before its header)")
            scans += 1
            if scans > MAX_JPEG_SCANS:  # each scan makes the decoder go over every pixel
                raise _Refused(
                    RULE_LIMITS,
                    f"more than {MAX_JPEG_SCANS} scans in a progressive JPEG (an ordinary one"
                    " has about 10; each costs a pass over the whole image); refused before"
                    " decoding",
                    width,
                    height,
                )
            pos = _scan_end(data, pos)
            kept.append(segment + data[end:pos])
            has_scan = True
        elif marker in _JPEG_TABLES:
            kept.append(segment)
        elif marker == _JPEG_APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            if payload[12] or payload[13]:
                removed.add("embedded thumbnail")
            jfif = payload[:12] + b"\x00\x00"
            kept.append(b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif)
        elif marker == _JPEG_APP14 and payload.startswith(b"Adobe"):
            kept.append(segment)
        elif marker == _JPEG_APP0 and payload.startswith(b"JFXX\x00"):
            removed.add("embedded thumbnail")
        elif _JPEG_APP0 <= marker <= 0xEF:
            if marker == 0xE1 and payload.startswith(b"Exif\x00"):
                orientation = _exif_orientation(payload)
            removed.add(*_jpeg_application(marker, payload))
        elif marker == _JPEG_COM:
            removed.add("comments")
        else:
            removed.add("unrecognised segments", f"0x{marker:02X}")
    if not has_scan:
        raise _unreadable("the JPEG file holds no image data (no scan)")
    if pos < size:
        removed.add("trailing bytes after the image")
    return _Parsed(width, height, b"".join(kept), removed.words(), orientation)


# -- decoding and encoding ---------------------------------------------------------------------


def _reencode(parsed: _Parsed, fmt: str) -> tuple[bytes, int, int]:
    """Decode the pixel-bearing stream and encode it again with fixed settings.

    Every warning Pillow emits becomes an error here, so that nothing escapes as a warning;
    its decompression-bomb guard (which can only trigger when the policy allows more pixels
    than Pillow does) becomes a ``file.limits`` refusal, any other failure ``unreadable``.
    """
    label = fmt.upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with Image.open(io.BytesIO(parsed.essential), formats=[label]) as original:
                if original.size != (parsed.width, parsed.height):
                    raise _unreadable(f"the {label} decoder disagrees with the file's header")
                original.load()
                pixels, transparency = _pixels_only(original, fmt)
            if parsed.orientation in _ORIENTATION:
                pixels = pixels.transpose(_ORIENTATION[parsed.orientation])
                pixels.info = {}
            out = io.BytesIO()
            if fmt == "png":
                options: dict[str, object] = {
                    "optimize": False,
                    "compress_level": PNG_COMPRESS_LEVEL,
                }
                if transparency is not None:
                    options["transparency"] = transparency
                pixels.save(out, format="PNG", **options)
            else:
                pixels.save(
                    out,
                    format="JPEG",
                    quality=JPEG_QUALITY,
                    subsampling=JPEG_SUBSAMPLING,
                    optimize=False,
                    progressive=False,
                )
    except _Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Refused(
            RULE_LIMITS,
            f"too many pixels: {parsed.width} x {parsed.height} is past the image decoder's "
            "safety limit; refused before decoding",
            parsed.width,
            parsed.height,
        ) from None
    except Exception as exc:  # a decoder's failure, whatever its kind, is a verdict
        raise _Refused(
            RULE_UNREADABLE,
            f"unreadable: the {label} image data is corrupt or incomplete ({type(exc).__name__})",
            parsed.width,
            parsed.height,
        ) from None
    return out.getvalue(), pixels.width, pixels.height


def _pixels_only(image: Image.Image, fmt: str) -> tuple[Image.Image, int | tuple[int, ...] | None]:
    """A new image holding the pixels and nothing else, in a mode the format writes.

    JPEG: grey stays grey, everything else (RGB, CMYK) becomes RGB. PNG: RGB, RGBA, L, LA
    and 16-bit grey keep their mode; a palette becomes RGB, or RGBA when it has
    transparency; 1-bit becomes L. A single transparent colour of an RGB or grey PNG is
    pixel meaning, not metadata, so it is returned to be written back as such.
    """
    mode = image.mode
    transparency = image.info.get("transparency")
    kept: int | tuple[int, ...] | None = None
    if fmt == "jpeg":
        target = "L" if mode == "L" else "RGB"
    elif mode in ("P", "PA"):
        target = "RGBA" if mode == "PA" or transparency is not None else "RGB"
    elif mode in ("RGB", "RGBA", "L", "LA", "I;16", "1"):
        target = "L" if mode == "1" else mode
        if target in ("L", "I;16") and isinstance(transparency, int):
            kept = transparency
        elif target == "RGB" and isinstance(transparency, tuple) and len(transparency) == 3:
            kept = tuple(int(value) for value in transparency)
    else:
        target = "RGBA" if "A" in image.getbands() else "RGB"
    pixels = image.convert(target) if target != mode else image.copy()
    pixels.info = {}
    return pixels, kept
