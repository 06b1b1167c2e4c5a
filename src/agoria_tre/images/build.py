"""``agoria-tre image build``: the workspace image, built with no registry and no network.

Secure sites often reach no container registry. The build therefore needs none:

1. **base**: a Debian root filesystem made by ``debootstrap`` from the host's own Debian
   mirror (read from its APT sources), holding python3, python3-venv, tini and the CA
   certificates, with the host's extra certificate authorities trusted (sites behind a
   TLS-intercepting proxy); imported with ``podman import`` and cached under a tag naming
   its inputs. A deployment with a registry may pass ``--base`` instead.
2. **wheelhouse**: every Python package at the exact version ``requirements.lock`` names,
   downloaded once on the host into the cache, plus this installation's own wheel.
3. **build**: ``podman build --network=none``: the Containerfile installs from the
   wheelhouse only.

The result is tagged ``localhost/agoria-workspace:<content hash>``, the hash covering the
Containerfile, the lock, the agoria-tre wheel and the base image; a build whose hash is
already there does nothing. The image is recorded in the catalog (``image.record``); the hub
runs only recorded images.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agoria_tre import audit
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import WorkspaceImage
from agoria_tre.errors import ConfigurationError
from agoria_tre.hub.runtime import podman_env, write_conf
from agoria_tre.images import REPOSITORY, RecordedImage
from agoria_tre.ingest.storage import file_sha256

log = logging.getLogger(__name__)

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "tini", "ca-certificates")
BASE_REPOSITORY = "localhost/agoria-base"
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
Progress = Callable[[str], None]
# What wheels must fit: Debian 12's CPython 3.11 on x86_64, glibc 2.36 (pip does not widen
# an explicit --platform to older manylinux tags by itself).
TARGET_PLATFORM = (
    "--python-version",
    "3.11",
    *(
        arg
        for tag in (
            *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)),
            "manylinux2014_x86_64",
            "manylinux2010_x86_64",
            "manylinux1_x86_64",
            "linux_x86_64",
        )
        for arg in ("--platform", tag)
    ),
)


@dataclass(frozen=True)
class BuildResult:
    reference: str
    image_id: str
    content_hash: str
    base: str
    size_bytes: int
    built: bool  # False when an image with this content hash was already there


def workspace_files() -> tuple[bytes, bytes]:
    """The packaged Containerfile and lock."""
    folder = resources.files("agoria_tre.images") / "workspace"
    return (folder / "Containerfile").read_bytes(), (folder / "requirements.lock").read_bytes()


def locked(lock: bytes) -> dict[str, str]:
    """``{canonical name: version}`` of a requirements.lock."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for raw in lock.decode().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ConfigurationError(f"requirements.lock line {raw!r} is not NAME==VERSION")
        pins[canonicalize_name(name)] = version.strip()
    return pins


# --- the base ---------------------------------------------------------------------------

_URI = re.compile(r"^\s*(?:URIs:\s*(\S+)|deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+))", re.MULTILINE)


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The host's configured Debian mirror (deb822 or one-line APT sources)."""
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in _URI.finditer(text):
            uri = (match.group(1) or match.group(2) or "").rstrip("/")
            if uri.startswith(("http://", "https://")) and uri.endswith("/debian"):
                return uri
    raise ConfigurationError(
        "no Debian mirror found in the host's APT sources; pass --mirror URL",
    )


def extra_certificates() -> list[Path]:
    return sorted(EXTRA_CA_DIR.glob("*.crt")) if EXTRA_CA_DIR.is_dir() else []


def base_reference(mirror: str) -> str:
    digest = hashlib.sha256(f"{SUITE}\n{mirror}\n{' '.join(BASE_PACKAGES)}\n".encode())
    for cert in extra_certificates():
        digest.update(cert.read_bytes())
    return f"{BASE_REPOSITORY}:{SUITE}-{digest.hexdigest()[:12]}"


class Podman:
    """The ``podman`` command with the platform's configuration."""

    def __init__(self, run_dir: Path) -> None:
        self.env = podman_env(write_conf(run_dir))

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                ["podman", *args], input=stdin, capture_output=True, env=self.env, check=False
            )
        except FileNotFoundError as exc:
            raise ConfigurationError("podman is not installed; run scripts/bootstrap.sh") from exc
        if check and done.returncode != 0:
            raise ConfigurationError(
                f"podman {args[0]} failed: {done.stderr.decode(errors='replace').strip()}"
            )
        return done.stdout.decode()

    def image_id(self, reference: str) -> str | None:
        done = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Id}}", reference],
            capture_output=True,
            env=self.env,
            check=False,
        )
        return done.stdout.decode().strip() or None if done.returncode == 0 else None


def ensure_base(podman: Podman, cache: Path, mirror: str, progress: Progress) -> str:
    reference = base_reference(mirror)
    if podman.image_id(reference):
        progress(f"base image {reference} is ready")
        return reference
    if shutil.which("debootstrap") is None:
        raise ConfigurationError("debootstrap is not installed; run scripts/bootstrap.sh")
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        progress(f"making the base root filesystem from {mirror} (debootstrap)")
        _run_logged(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(rootfs),
                mirror,
            ],
            "debootstrap",
        )
        certs = rootfs / "usr/local/share/ca-certificates"
        certs.mkdir(parents=True, exist_ok=True)
        for cert in extra_certificates():
            shutil.copyfile(cert, certs / cert.name)
        _run_logged(["chroot", str(rootfs), "update-ca-certificates"], "update-ca-certificates")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        progress(f"importing the base image {reference}")
        import_rootfs(podman, rootfs, reference)
    return reference


def import_rootfs(podman: Podman, rootfs: Path, reference: str) -> None:
    """``tar`` of a root filesystem into ``podman import``, tagged ``reference``; on any
    failure nothing stays under that tag (a truncated stream must not become the base)."""
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE, stderr=errors
        ) as tar:
            done = subprocess.run(
                ["podman", "import", "-", reference],
                stdin=tar.stdout,
                capture_output=True,
                env=podman.env,
                check=False,
            )
        errors.seek(0)  # tar has exited: the context waited for it
        tar_error = errors.read().decode(errors="replace").strip()
    if tar.returncode != 0 or done.returncode != 0:
        podman.run("image", "rm", "--ignore", reference, check=False)
        # tar says what went wrong first; podman last, after its progress lines.
        lines = tar_error.splitlines()[:1]
        if done.returncode != 0 and (tar.returncode < 0 or not lines):  # tar died of a closed pipe
            lines = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise ConfigurationError(f"importing the base image failed: {''.join(lines)}")


def _run_logged(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ConfigurationError(f"{what} failed: {tail}")


# --- the wheelhouse ---------------------------------------------------------------------


def own_wheel(dest: Path, wheel: Path | None, source: Path | None = None) -> Path:
    """This installation's wheel: the one given, or one built from the source checkout
    (``source``: by default, the one this package was installed from, if any)."""
    if wheel is not None:
        if not wheel.is_file() or not wheel.name.startswith("agoria_tre-"):
            raise ConfigurationError(f"{wheel} is not an agoria_tre wheel")
        return wheel
    import agoria_tre

    root = source or Path(agoria_tre.__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ConfigurationError(
            "agoria-tre is not installed from a source checkout here: pass --wheel PATH"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("agoria_tre-*.whl"):
        old.unlink()
    _run_logged(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dest),
            str(root),
        ],
        "building the agoria-tre wheel",
    )
    (built,) = dest.glob("agoria_tre-*.whl")
    return built


def _wheel_names(folder: Path) -> dict[tuple[str, str], Path]:
    from packaging.utils import canonicalize_version, parse_wheel_filename

    found = {}
    for path in folder.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(path.name)
        found[(str(name), canonicalize_version(version))] = path
    return found


def fill_wheelhouse(wheelhouse: Path, lock: bytes, progress: Progress) -> list[Path]:
    """The wheels the lock names, downloading those missing (the only step that uses the
    network, and only the package registry)."""
    from packaging.utils import canonicalize_version

    pins = locked(lock)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    wanted = {(name, canonicalize_version(v)) for name, v in pins.items()}
    have = _wheel_names(wheelhouse)
    if not wanted <= have.keys():
        missing = len(wanted - have.keys())
        progress(f"downloading {missing} Python packages into {wheelhouse}")
        with tempfile.NamedTemporaryFile("wb", suffix=".lock") as handle:
            handle.write(lock)
            handle.flush()
            _run_logged(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    *TARGET_PLATFORM,
                    "--dest",
                    str(wheelhouse),
                    "-r",
                    handle.name,
                ],
                "pip download",
            )
        have = _wheel_names(wheelhouse)
    absent = sorted(f"{n}=={v}" for n, v in wanted - have.keys())
    if absent:  # pragma: no cover - pip download fails first; kept for a wheel pip names oddly
        raise ConfigurationError(f"no wheel found for {', '.join(absent)}")
    return sorted(have[key] for key in wanted)


def resolve_lock(requirements_in: bytes, ours: Path) -> str:
    """A new requirements.lock: ``requirements.in`` plus this wheel's dependencies, resolved
    by pip for CPython 3.11 on x86_64 Linux (what the base image runs). Uses the network."""
    import json

    from packaging.utils import canonicalize_name

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "requirements.in").write_bytes(requirements_in)
        report = folder / "report.json"
        _run_logged(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--only-binary=:all:",
                *TARGET_PLATFORM,
                "--target",
                str(folder / "unused"),
                "--report",
                str(report),
                "-r",
                str(folder / "requirements.in"),
                str(ours),
            ],
            "pip install --dry-run",
        )
        installed = json.loads(report.read_text())["install"]
    pins = sorted(
        f"{canonicalize_name(item['metadata']['name'])}=={item['metadata']['version']}"
        for item in installed
        if canonicalize_name(item["metadata"]["name"]) != "agoria-tre"
    )
    return LOCK_HEADER + "\n".join(pins) + "\n"


LOCK_HEADER = """\
# Exact versions installed in the workspace image: requirements.in and agoria-tre's own
# dependencies, resolved for CPython 3.11 on x86_64 Linux (Debian 12's python3).
# Regenerate with `agoria-tre image lock` after changing either; never edit by hand.
"""


def content_hash(containerfile: bytes, lock: bytes, wheel_sha256: str, base_id: str) -> str:
    digest = hashlib.sha256()
    for part in (containerfile, lock, wheel_sha256.encode(), base_id.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# --- the build --------------------------------------------------------------------------


def build_image(
    catalog: Catalog,
    *,
    cache: Path,
    actor: str,
    base: str | None = None,
    mirror: str | None = None,
    wheel: Path | None = None,
    progress: Progress,
) -> BuildResult:
    """Build (or find) the workspace image for this installation and record it."""
    podman = Podman(catalog.settings.home / "run")
    containerfile, lock = workspace_files()
    ours = own_wheel(cache / "own-wheel", wheel)  # first: a refusal costs no debootstrap
    progress("[1/4] base image")
    if base is None:
        base = ensure_base(podman, cache / "base", mirror or debian_mirror(), progress)
    base_id = podman.image_id(base)
    if base_id is None:
        raise ConfigurationError(f"the base image {base} is not in the container runtime")
    progress("[2/4] wheelhouse")
    wheelhouse = cache / "wheelhouse"
    digest = content_hash(containerfile, lock, file_sha256(ours), base_id)
    reference = f"{REPOSITORY}:{digest[:16]}"
    found = podman.image_id(reference)
    built = found is None
    if found is None:
        wheels = fill_wheelhouse(wheelhouse, lock, progress)
        progress(f"[3/4] building {reference} with no network")
        image_id = _build(
            podman, cache, containerfile, lock, wheels, ours, base, reference, progress
        )
    else:
        image_id = found
        progress(f"[3/4] {reference} is already built")
    size = int(podman.run("image", "inspect", "--format", "{{.Size}}", reference).strip())
    progress("[4/4] recording the image in the catalog")
    _record(catalog, reference, digest, image_id, base, size, actor)
    return BuildResult(reference, image_id, digest, base, size, built)


def _build(
    podman: Podman,
    cache: Path,
    containerfile: bytes,
    lock: bytes,
    wheels: list[Path],
    ours: Path,
    base: str,
    reference: str,
    progress: Progress,
) -> str:
    """``podman build`` with no network; returns the new image's id."""
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="context-") as scratch:
        context = Path(scratch)
        (context / "Containerfile").write_bytes(containerfile)
        (context / "requirements.lock").write_bytes(lock)
        (context / "wheels").mkdir()
        for wheel, folder in [*((w, context / "wheels") for w in wheels), (ours, context)]:
            try:
                os.link(wheel, folder / wheel.name)
            except OSError:
                shutil.copyfile(wheel, folder / wheel.name)
        command = [
            "podman",
            "build",
            "--network=none",
            "--pull=never",
            "--build-arg",
            f"BASE={base}",
            "--tag",
            reference,
            "--iidfile",
            str(context / "image-id"),
            "--file",
            str(context / "Containerfile"),
            str(context),
        ]
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=podman.env,
            text=True,
        ) as process:
            tail: list[str] = []
            for line in process.stdout or ():
                tail = [*tail[-19:], line.rstrip()]
                if line.startswith("STEP "):
                    progress("      " + line.strip()[:100])
            status = process.wait()
        if status != 0:
            log.error("podman build failed:\n%s", "\n".join(tail))
            raise ConfigurationError("podman build failed: " + " | ".join(tail[-3:]))
        # --iidfile writes "sha256:<id>"; podman inspect's {{.Id}}, the bare id.
        return (context / "image-id").read_text().strip().removeprefix("sha256:")


def _record(
    catalog: Catalog,
    reference: str,
    digest: str,
    image_id: str,
    base: str,
    size: int,
    actor: str,
) -> None:
    from sqlalchemy import select

    with catalog.write() as session:
        found = session.scalar(select(WorkspaceImage).where(WorkspaceImage.reference == reference))
        if found is not None and found.image_id == image_id:
            return
        if found is not None:  # rebuilt under the same inputs: the runtime's id is the truth
            found.image_id = image_id
            found.size_bytes = size
        else:
            session.add(
                WorkspaceImage(
                    reference=reference,
                    content_hash=digest,
                    image_id=image_id,
                    base=base,
                    size_bytes=size,
                    built_by=actor,
                )
            )
        audit.record(
            session,
            actor=actor,
            action="image.record",
            target=f"image:{reference}",
            project=None,
            details={"image_id": image_id, "content_hash": digest, "base": base},
        )


def recorded(catalog: Catalog) -> list[RecordedImage]:
    from sqlalchemy import select

    with catalog.read() as session:
        return [
            RecordedImage(i.reference, i.image_id, i.content_hash)
            for i in session.scalars(select(WorkspaceImage).order_by(WorkspaceImage.id))
        ]
