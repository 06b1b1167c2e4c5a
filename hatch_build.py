"""Build hook: compiles the native pseudonymiser into the wheel.

``pip install .`` and ``python -m build`` run it through hatchling, so an installed
``agoria_tre`` ingests at native speed without a separate build step. The library lands in
``agoria_tre/ingest/native/`` inside the wheel (for an editable install, beside its source),
which is the only place ``agoria_tre.ingest.keys`` loads it from.

Without a C compiler or OpenSSL's headers the wheel is built without it and ingest uses the
pure-Python path; ``AGORIA_REQUIRE_NATIVE=1`` turns that into a build failure instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from packaging.tags import sys_tags

SOURCE = Path("src/agoria_tre/ingest/native/pseudonym.c")
LIBRARY = "libagoria_pseudonym.so"
PACKAGED = f"agoria_tre/ingest/native/{LIBRARY}"


class NativePseudonymiserHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        source = root / SOURCE
        if version == "editable":
            target = source.with_name(LIBRARY)  # the package is imported from src/
        else:
            target = Path(tempfile.mkdtemp(prefix="agoria-native-")) / LIBRARY
        if not self._compile(source, target):
            return
        if version != "editable":
            build_data["force_include"][str(target)] = PACKAGED
        # Loaded through ctypes, not as an extension module: any Python 3, this platform only.
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{next(iter(sys_tags())).platform}"

    def _compile(self, source: Path, target: Path) -> bool:
        compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        command = [
            compiler or "cc",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-shared",
            "-fPIC",
            str(source),
            "-o",
            str(target) + ".tmp",
            "-lcrypto",
        ]
        try:
            if compiler is None:
                raise FileNotFoundError("no C compiler (cc, gcc or $CC) on PATH")
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", None) or str(exc)
            message = f"the native pseudonymiser was not built ({detail.strip()})"
            if os.environ.get("AGORIA_REQUIRE_NATIVE"):
                raise RuntimeError(message) from exc
            sys.stderr.write(f"warning: {message}; ingest will use the pure-Python path\n")
            return False
        os.replace(str(target) + ".tmp", target)
        return True
