"""``multipart/form-data`` bodies, as the airlock's upload route reads them."""

from __future__ import annotations

import secrets


def _quoted(value: str) -> str:
    """A header parameter's value: quotes and backslashes escaped, line breaks refused."""
    if "\r" in value or "\n" in value:
        raise ValueError("a form field's name or file name holds a line break")
    return value.replace("\\", "\\\\").replace('"', '\\"')


def multipart(
    fields: dict[str, str | bytes], files: dict[str, tuple[str, bytes]]
) -> tuple[str, bytes]:
    """A ``multipart/form-data`` body: its content type and bytes."""
    boundary = "agoria" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
        parts.append(
            head.encode() + (value.encode() if isinstance(value, str) else value) + b"\r\n"
        )
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}";'
            f' filename="{_quoted(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode("utf-8", "surrogateescape") + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)
