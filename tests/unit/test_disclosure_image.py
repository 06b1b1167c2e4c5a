"""Images are refused unless PNG or JPEG, and rewritten from their pixels alone.

Every file here is built by Pillow (or by hand, byte by byte) inside the test; nothing is
read from disk. Canonical files are inspected with small walkers written here, independent
of the module under test.
"""

from __future__ import annotations

import io
import random
import struct
import time
import warnings
import zlib
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from agoria_tre.disclosure.checker import check_bytes
from agoria_tre.disclosure.policy import Limits
from agoria_tre.disclosure.readers.image import ImageResult, canonical_image
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR, png

LIMITS = Limits(
    max_bytes=20_000_000,
    max_rows=100_000,
    max_columns=1_000,
    max_cells=1_000_000,
    max_depth=64,
    max_outputs=2_000,
    max_html_cells=200_000,
    max_pixels=40_000_000,
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# -- helpers -----------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def pixels(data: bytes) -> npt.NDArray[Any]:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def noise(mode: str, size: tuple[int, int], seed: int = 0) -> Image.Image:
    """An image of random pixels: incompressible, so files are large and every byte counts."""
    bands = len(Image.new(mode, (1, 1)).getbands())
    shape = (size[1], size[0], bands) if bands > 1 else (size[1], size[0])
    array = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return Image.fromarray(array, mode)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk of a PNG, checked (checksums, nothing after IEND)."""
    assert data.startswith(PNG_SIGNATURE)
    pos, found = len(PNG_SIGNATURE), []
    while True:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        found.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            assert pos == len(data), "bytes after IEND"
            return found


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header, up to and including its first scan."""
    assert data.startswith(b"\xff\xd8")
    pos, found = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        found.append(marker)
        if marker == 0xDA:
            return found
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length


def crafted_png(width: int, height: int, *, complete: bool = True) -> bytes:
    """A PNG whose header declares any size, with a valid checksum and almost no pixels."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if not complete:
        return PNG_SIGNATURE + header
    body = chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    return PNG_SIGNATURE + header + body


def exif_block(**tags: int | str) -> bytes:
    exif = Image.Exif()
    numbers = {"orientation": 0x0112, "description": 0x010E, "artist": 0x013B}
    for key, value in tags.items():
        exif[numbers[key]] = value
    return exif.tobytes()


def ok(result: ImageResult) -> bytes:
    assert result.failure is None, result.failure
    assert result.canonical is not None
    return result.canonical


def assert_refused(result: ImageResult, rule: str, fragment: str) -> None:
    assert result.canonical is None
    assert result.removed == ()
    assert result.failure is not None
    assert result.failure.rule == rule
    assert result.failure.status is Status.FAIL
    assert fragment in result.failure.summary, result.failure.summary
    assert "\n" not in result.failure.summary


# -- PNG ---------------------------------------------------------------------------------------


def test_png_text_and_trailing_bytes_are_removed_and_pixels_kept() -> None:
    original = noise("RGB", (48, 32))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "patient 1234567 aged 87")
    data = encode(original, "PNG", pnginfo=info) + b"hidden payload after IEND"

    result = canonical_image(data, LIMITS, name="figure.png")

    canonical = ok(result)
    assert (result.format, result.width, result.height) == ("png", 48, 32)
    assert result.removed == ("text chunks", "trailing bytes after the image")
    assert [kind for kind, _ in png_chunks(canonical)] == [b"IHDR", b"IDAT", b"IEND"]
    assert b"patient" not in canonical
    assert b"hidden payload" not in canonical
    assert np.array_equal(pixels(canonical), np.asarray(original))


def test_png_metadata_of_every_kind_is_named_and_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "compressed secret", zip=True)  # zTXt
    info.add_itxt("Author", "international secret", lang="fr")  # iTXt
    info.add(b"tIME", struct.pack(">HBBBBB", 2026, 1, 2, 3, 4, 5))
    info.add(b"prVt", b"private secret")
    data = encode(
        noise("RGB", (16, 16)),
        "PNG",
        pnginfo=info,
        icc_profile=b"icc secret" * 20,
        exif=exif_block(artist="exif secret"),
        dpi=(300, 300),
    )

    result = canonical_image(data, LIMITS, name="figure.png")

    canonical = ok(result)
    assert set(result.removed) == {
        "ICC profile",
        "text chunks",
        "modification time",
        "unrecognised chunks (prVt)",
        "display hints (pHYs)",
        "EXIF metadata",
    }
    assert [kind for kind, _ in png_chunks(canonical)] == [b"IHDR", b"IDAT", b"IEND"]
    assert b"secret" not in canonical


def test_clean_png_reports_nothing_removed_and_is_idempotent() -> None:
    data = encode(noise("RGB", (20, 10)), "PNG")
    canonical = ok(canonical_image(data, LIMITS, name="figure.png"))
    again = canonical_image(canonical, LIMITS, name="figure.png")
    assert again.removed == ()
    assert ok(again) == canonical


@pytest.mark.parametrize(
    ("image", "params", "expected_mode"),
    [
        (noise("RGBA", (24, 16)), {}, "RGBA"),
        (noise("LA", (24, 16)), {}, "LA"),
        (noise("L", (24, 16)), {}, "L"),
        (noise("RGB", (24, 16)).quantize(64), {}, "RGB"),
        (noise("RGB", (24, 16)).quantize(64), {"transparency": 3}, "RGBA"),
        (noise("RGBA", (24, 16)).quantize(32, method=Image.Quantize.FASTOCTREE), {}, "RGBA"),
    ],
    ids=["rgba", "la", "grey", "palette", "palette-transparent", "palette-alpha"],
)
def test_png_modes_keep_their_pixels_and_alpha(
    image: Image.Image, params: dict[str, Any], expected_mode: str
) -> None:
    data = encode(image, "PNG", **params)
    with Image.open(io.BytesIO(data)) as reopened:
        expected = np.asarray(reopened.convert(expected_mode))

    canonical = ok(canonical_image(data, LIMITS, name="figure.png"))

    with Image.open(io.BytesIO(canonical)) as result:
        assert result.mode == expected_mode
        assert np.array_equal(np.asarray(result), expected)


def test_sixteen_bit_grey_png_keeps_its_depth() -> None:
    array = (np.arange(32 * 16, dtype=np.uint16).reshape(16, 32) * 127).astype(np.uint16)
    data = encode(Image.fromarray(array), "PNG")
    canonical = ok(canonical_image(data, LIMITS, name="figure.png"))
    with Image.open(io.BytesIO(canonical)) as result:
        assert result.mode == "I;16"
        assert np.array_equal(np.asarray(result), array)


def test_single_transparent_colour_of_an_rgb_png_is_kept() -> None:
    data = encode(noise("RGB", (16, 16)), "PNG", transparency=(1, 2, 3))
    canonical = ok(canonical_image(data, LIMITS, name="figure.png"))
    assert [kind for kind, _ in png_chunks(canonical)] == [b"IHDR", b"tRNS", b"IDAT", b"IEND"]
    with Image.open(io.BytesIO(canonical)) as result:
        assert result.info["transparency"] == (1, 2, 3)


def test_png_output_is_deterministic() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "matplotlib")
    data = encode(noise("RGBA", (64, 64)), "PNG", pnginfo=info)
    first = ok(canonical_image(data, LIMITS, name="a.png"))
    second = ok(canonical_image(data, LIMITS, name="b.png"))
    assert first == second


def test_type_is_decided_by_content_not_name() -> None:
    png = canonical_image(encode(noise("RGB", (8, 8)), "PNG"), LIMITS, name="figure.jpg")
    jpeg = canonical_image(encode(noise("RGB", (8, 8)), "JPEG"), LIMITS, name="figure.png")
    assert (png.format, jpeg.format) == ("png", "jpeg")
    assert ok(png).startswith(PNG_SIGNATURE)
    assert ok(jpeg).startswith(b"\xff\xd8")


# -- JPEG --------------------------------------------------------------------------------------


def test_jpeg_exif_comment_icc_xmp_and_trailing_bytes_are_removed() -> None:
    original = noise("RGB", (40, 24))
    data = encode(
        original,
        "JPEG",
        quality=90,
        exif=exif_block(description="exif secret"),
        comment=b"comment secret",
        icc_profile=b"icc secret" * 10,
        xmp=b"<x:xmpmeta>xmp secret</x:xmpmeta>",
    )
    data += b"trailing secret"

    result = canonical_image(data, LIMITS, name="photo.jpg")

    canonical = ok(result)
    assert (result.format, result.width, result.height) == ("jpeg", 40, 24)
    assert set(result.removed) == {
        "EXIF metadata",
        "XMP metadata",
        "ICC profile",
        "comments",
        "trailing bytes after the image",
    }
    markers = jpeg_markers(canonical)
    assert not {0xE1, 0xE2, 0xFE} & set(markers)
    assert set(markers) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
    assert 0xC0 in markers  # baseline
    assert canonical.endswith(b"\xff\xd9")
    assert b"secret" not in canonical
    with Image.open(io.BytesIO(canonical)) as decoded:
        assert (decoded.format, decoded.mode, decoded.size) == ("JPEG", "RGB", (40, 24))
        assert decoded.info.get("exif") is None
        assert decoded.info.get("icc_profile") is None
        assert "comment" not in decoded.info
        difference = np.abs(np.asarray(decoded, dtype=np.int16) - pixels(data).astype(np.int16))
    assert difference.mean() < 8  # re-encoded, not replaced


def test_jpeg_output_is_deterministic() -> None:
    data = encode(noise("RGB", (64, 48)), "JPEG", comment=b"x")
    first = ok(canonical_image(data, LIMITS, name="a.jpg"))
    second = ok(canonical_image(data, LIMITS, name="a.jpg"))
    assert first == second


def test_jpeg_orientation_is_applied_to_the_pixels() -> None:
    original = Image.new("RGB", (40, 20), (255, 0, 0))
    original.paste((0, 0, 255), (20, 0, 40, 20))
    data = encode(original, "JPEG", exif=exif_block(orientation=6))
    with Image.open(io.BytesIO(data)) as reopened:
        expected = ImageOps.exif_transpose(reopened)

    result = canonical_image(data, LIMITS, name="photo.jpg")

    canonical = ok(result)
    assert (result.width, result.height) == expected.size == (20, 40)
    assert result.removed == ("EXIF metadata",)
    with Image.open(io.BytesIO(canonical)) as decoded:
        difference = np.abs(np.asarray(decoded, np.int16) - np.asarray(expected, np.int16))
    assert difference.mean() < 8


@pytest.mark.parametrize(
    "params",
    [{"progressive": True}, {"restart_marker_rows": 1}, {"subsampling": "4:2:0"}],
    ids=["progressive", "restart-markers", "subsampled"],
)
def test_jpeg_encodings_are_rewritten_as_baseline(params: dict[str, Any]) -> None:
    original = noise("RGB", (48, 40))
    data = encode(original, "JPEG", quality=95, **params)
    canonical = ok(canonical_image(data, LIMITS, name="photo.jpg"))
    assert 0xC0 in jpeg_markers(canonical)
    difference = np.abs(pixels(canonical).astype(np.int16) - pixels(data).astype(np.int16))
    assert difference.mean() < 8


def test_jpeg_stray_bytes_between_segments_are_dropped() -> None:
    data = encode(noise("RGB", (16, 16)), "JPEG")
    (app0_length,) = struct.unpack(">H", data[4:6])
    cut = 4 + app0_length  # just after the JFIF segment
    result = canonical_image(data[:cut] + b"stray secret" + data[cut:], LIMITS, name="a.jpg")
    assert result.removed == ("stray bytes between segments",)
    assert b"secret" not in ok(result)


@pytest.mark.parametrize(("mode", "expected"), [("L", "L"), ("CMYK", "RGB")])
def test_jpeg_modes(mode: str, expected: str) -> None:
    data = encode(noise(mode, (16, 16)), "JPEG")
    canonical = ok(canonical_image(data, LIMITS, name="photo.jpg"))
    with Image.open(io.BytesIO(canonical)) as decoded:
        assert (decoded.mode, decoded.size) == (expected, (16, 16))


# -- refusals: type ----------------------------------------------------------------------------


def test_random_bytes_named_png_are_refused() -> None:
    data = random.Random(7).randbytes(4096)
    result = canonical_image(data, LIMITS, name="x.png")
    assert_refused(result, "file.type", "type not allowed: the content is not a PNG or JPEG")
    assert result.failure is not None
    assert "name ends in .png" in result.failure.summary
    assert result.format is None


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'\xef\xbb\xbf\n\n  <!-- figure -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        '<?xml version="1.0" encoding="UTF-16"?><svg/>'.encode("utf-16"),
    ],
    ids=["svg", "xml-declaration", "bom-and-comment", "utf-16"],
)
def test_svg_named_png_is_refused(data: bytes) -> None:
    result = canonical_image(data, LIMITS, name="figure.png")
    assert_refused(
        result,
        "file.type",
        "type not allowed: SVG can carry text and scripts; export the figure as PNG",
    )


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("GIF", "GIF"), ("WEBP", "WebP"), ("TIFF", "TIFF"), ("BMP", "BMP"), ("PDF", "PDF")],
)
def test_other_image_types_are_refused(fmt: str, kind: str) -> None:
    data = encode(noise("RGB", (16, 16)), fmt)
    result = canonical_image(data, LIMITS, name="figure.png")
    assert_refused(result, "file.type", f"type not allowed: {kind} content")


def test_animated_png_is_refused() -> None:
    frames = [noise("RGB", (16, 16), seed) for seed in range(3)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    result = canonical_image(data, LIMITS, name="animation.png")
    assert_refused(result, "file.type", "type not allowed: animated images")
    assert result.format == "png"


def test_summaries_never_quote_the_path() -> None:
    result = canonical_image(b"<svg/>", LIMITS, name="/home/alice/project-x/results/fig.png")
    assert result.failure is not None
    assert "/home" not in result.failure.summary
    assert "alice" not in result.failure.summary


# -- refusals: limits --------------------------------------------------------------------------


def test_over_max_bytes_is_refused_before_parsing() -> None:
    data = encode(noise("RGB", (64, 64)), "PNG")
    limits = replace(LIMITS, max_bytes=1_000)
    result = canonical_image(data, limits, name="figure.png")
    assert_refused(result, "file.limits", f"too large: {len(data):,} bytes")
    assert result.failure is not None
    assert "limit of 1,000 bytes" in result.failure.summary
    assert result.format is None


@pytest.mark.parametrize("complete", [True, False], ids=["whole-file", "header-only"])
def test_png_header_claiming_too_many_pixels_is_refused_before_decoding(complete: bool) -> None:
    data = crafted_png(100_000, 100_000, complete=complete)
    started = time.perf_counter()
    result = canonical_image(data, LIMITS, name="figure.png")
    assert time.perf_counter() - started < 1.0
    assert_refused(result, "file.limits", "too many pixels: 100000 x 100000")
    assert result.failure is not None
    assert "limit of 40,000,000" in result.failure.summary
    assert (result.format, result.width, result.height) == ("png", 100_000, 100_000)


def test_jpeg_header_claiming_too_many_pixels_is_refused_before_decoding() -> None:
    frame = struct.pack(">HBHHB", 11, 8, 60_000, 60_000, 1) + b"\x01\x11\x00"
    data = b"\xff\xd8\xff\xc0" + frame
    result = canonical_image(data, LIMITS, name="photo.jpg")
    assert_refused(result, "file.limits", "too many pixels: 60000 x 60000")


@pytest.mark.parametrize("side", [10_000, 20_000], ids=["pillow-warning", "pillow-error"])
def test_pillow_decompression_bomb_guard_becomes_a_verdict(side: int) -> None:
    """With a policy more generous than Pillow, Pillow's own guard must still end in a fail."""
    limits = replace(LIMITS, max_pixels=10**12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = canonical_image(crafted_png(side, side), limits, name="figure.png")
    assert caught == []
    assert_refused(result, "file.limits", "past the image decoder's safety limit")


# -- refusals: unreadable ----------------------------------------------------------------------


def test_truncated_png_is_unreadable() -> None:
    data = encode(noise("RGB", (64, 64)), "PNG")
    result = canonical_image(data[: len(data) // 2], LIMITS, name="figure.png")
    assert_refused(result, "image.unreadable", "the PNG file is truncated")
    assert result.format == "png"


def test_png_with_a_damaged_chunk_is_unreadable() -> None:
    data = bytearray(encode(noise("RGB", (64, 64)), "PNG"))
    data[len(data) // 2] ^= 0xFF
    result = canonical_image(bytes(data), LIMITS, name="figure.png")
    assert_refused(result, "image.unreadable", "fails its checksum")


def test_png_with_undecodable_pixel_data_is_unreadable() -> None:
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    data = PNG_SIGNATURE + header + chunk(b"IDAT", b"not zlib") + chunk(b"IEND", b"")
    result = canonical_image(data, LIMITS, name="figure.png")
    assert_refused(result, "image.unreadable", "the PNG image data is corrupt or incomplete")


def test_png_without_pixel_data_is_unreadable() -> None:
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    result = canonical_image(PNG_SIGNATURE + header + chunk(b"IEND", b""), LIMITS, name="a.png")
    assert_refused(result, "image.unreadable", "no image data")


def test_truncated_jpeg_is_unreadable() -> None:
    data = encode(noise("RGB", (64, 64)), "JPEG")
    result = canonical_image(data[: len(data) // 2], LIMITS, name="photo.jpg")
    assert_refused(result, "image.unreadable", "the JPEG file is truncated")
    assert result.format == "jpeg"


def test_bare_signatures_are_unreadable() -> None:
    png = canonical_image(PNG_SIGNATURE, LIMITS, name="a.png")
    jpeg = canonical_image(b"\xff\xd8\xff", LIMITS, name="a.jpg")
    assert_refused(png, "image.unreadable", "truncated")
    assert_refused(jpeg, "image.unreadable", "truncated")


def test_a_progressive_jpeg_with_thousands_of_scans_is_refused_before_decoding() -> None:
    """Each scan costs the decoder a pass over every pixel: a small file of thousands of
    scans once took minutes. An ordinary progressive JPEG (about 10 scans) still passes."""
    progressive = encode(noise("RGB", (64, 64)), "JPEG", progressive=True, quality=90)
    ok(canonical_image(progressive, LIMITS, name="p.jpg"))
    last_scan = progressive.rindex(b"\xff\xda")
    scan = progressive[last_scan:-2]  # the last scan, up to the end-of-image mark
    crafted = progressive[:-2] + scan * 80 + b"\xff\xd9"
    assert_refused(
        canonical_image(crafted, LIMITS, name="p.jpg"), "file.limits", "more than 64 scans"
    )


def test_png_with_a_text_chunk_and_trailing_bytes_is_rewritten_by_the_checker() -> None:
    checked = check_bytes("p.png", png(text_chunk=True, trailing=b"TRAILING"), FR)
    assert checked.canonical is not None
    assert b"patient" not in checked.canonical
    assert b"TRAILING" not in checked.canonical
    assert "removed: text chunks" in checked.report.notes
    assert checked.report.status is Status.REVIEW
