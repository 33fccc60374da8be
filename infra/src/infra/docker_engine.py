"""A Docker engine of our own, and the images the compose stack needs, built locally.

No image registry is reachable here, so everything is made from sources a machine of
this kind reaches (Debian's package archive, PyPI, Maven Central, the Go module proxy)
and cached in `.cache/docker/` (git-ignored), like the native stack's builds:

- `dockerd` from Debian's `docker.io`, on a socket of its own (`/run/hnth-docker-<id>/`),
  with `--iptables=false --bridge=none`: nothing else on the machine sees it, and the
  machine's default engine (if any) is never touched; images persist in its data root;
- Docker Compose v2 from Debian's archive (the next release's package) into our own CLI
  plugins folder;
- a Debian base image from `debootstrap`, imported with `docker import`;
- the services and the console from the project's Dockerfile (`BASE_IMAGE` build arg),
  Kafka from the native stack's Maven jars on Debian's JRE (infra/docker/kafka/),
  FerretDB from the native stack's patched build (infra/docker/ferretdb/; the compose
  test's stand-in for mongo:7), and the SMTP catcher (infra.smtp_sink).

    python -m infra.docker_engine start | stop | env | images | bundle DIR
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from infra.stack import (
    CACHE,
    INFRA,
    ROOT,
    StackError,
    _alive,
    _log_tail,
    _spawn,
    ferretdb_binary,
    kafka_libs,
)

ENGINE = CACHE / "docker"
DATA_ROOT = ENGINE / "data"
DOCKER_CONFIG = ENGINE / "config"
PLUGIN = DOCKER_CONFIG / "cli-plugins" / "docker-compose"
# Debian 13 ships Compose v2 (2.26); bookworm's docker-compose package is the old v1
COMPOSE_SUITE = "trixie"
COMPOSE_SOURCE = f"debian {COMPOSE_SUITE} docker-compose"
# short, fixed per checkout: unix socket paths (containerd's included) must stay short
RUN = Path("/run") / f"hnth-docker-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
SOCKET = RUN / "docker.sock"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("HNTH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# what the images need from the base: Python for the services, Java for Kafka is added
# by Kafka's own Dockerfile
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
PREFIX = os.environ.get("HNTH_IMAGE_PREFIX", "hnth")
TAG = os.environ.get("HNTH_VERSION", "latest")
BASE_IMAGE = f"{PREFIX}/debian:{DEBIAN_SUITE}"
ROOTFS_IMAGE = f"{PREFIX}/debian-rootfs:{DEBIAN_SUITE}"
LOCAL_CA = Path(os.environ.get("HNTH_EXTRA_CA_DIR", "/usr/local/share/ca-certificates"))
# (image, Dockerfile folder or None for the project's Dockerfile, build args)
PROJECT_IMAGES = {
    "registration": {"PACKAGE": "registration"},
    "scheduling": {"PACKAGE": "scheduling"},
    "notification": {"PACKAGE": "notification"},
    "inspection": {"PACKAGE": "inspection"},
    "console": {"PACKAGE": "hnth-console", "MODULE": "hnth_console"},
    # SMTP on 1025, its web page (and /messages.json) on 8025: where Mailpit has them
    "mail": {"PACKAGE": "hnth-infra", "MODULE": "infra.smtp_sink", "HTTP_PORT": "8025"},
}
INFRA_IMAGES = ("kafka", "ferretdb")
APT_PACKAGES = {"dockerd": "docker.io", "debootstrap": "debootstrap"}


def image(name: str) -> str:
    """The full name compose gives an image (docker-compose.yml uses the same variables)."""
    return f"{PREFIX}/{name}:{TAG}"


def env() -> dict[str, str]:
    """The environment a docker/compose client needs to talk to our engine."""
    return {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}", "DOCKER_CONFIG": str(DOCKER_CONFIG)}


def docker(
    *args: str, check: bool = True, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], env=env(), text=True, capture_output=capture)
    if check and proc.returncode != 0:
        tail = "\n".join(((proc.stdout or "") + (proc.stderr or "")).splitlines()[-25:])
        raise StackError(f"docker {' '.join(args[:3])} failed (exit {proc.returncode})\n{tail}")
    return proc


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise StackError(f"{what} failed (exit {proc.returncode})\n{tail}")


# ---------------------------------------------------------------- tools


def apt_packages() -> None:
    """Debian's docker.io and debootstrap, installed once (as the Makefile installs patch).

    A policy-rc.d that refuses every start keeps the package from starting the machine's
    default engine: only ours runs, on its own socket.
    """
    missing = [pkg for tool, pkg in APT_PACKAGES.items() if not shutil.which(tool)]
    if not missing:
        return
    print(f"engine: installing {' '.join(missing)} from Debian...", flush=True)
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
            proc = subprocess.run(cmd, env=apt_env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise StackError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    finally:
        if ours:
            policy.unlink()


def compose_plugin() -> Path:
    """Docker Compose v2, Debian's own build (package docker-compose of the next release,
    a static Go binary needing only libc), fetched once into our CLI plugins folder.

    apt fetches it with a private sources list and state (nothing of the machine's apt
    changes), so the archive's signatures and checksums are checked as for any package.
    Building Compose from the Go module proxy instead takes half an hour on 2 cores.
    """
    stamp = PLUGIN.with_name(".compose-stamp")
    if PLUGIN.exists() and stamp.exists() and stamp.read_text() == COMPOSE_SOURCE:
        return PLUGIN
    print(f"engine: fetching Docker Compose from Debian {COMPOSE_SUITE} (first run only)...")
    apt = CACHE / "build" / "apt-compose"
    shutil.rmtree(apt, ignore_errors=True)
    for sub in ("lists/partial", "cache/archives/partial", "download", "unpacked"):
        (apt / sub).mkdir(parents=True)
    (apt / "sources.list").write_text(f"deb {DEBIAN_MIRROR} {COMPOSE_SUITE} main\n")
    options = [
        *("-o", f"Dir::Etc::SourceList={apt / 'sources.list'}"),
        *("-o", "Dir::Etc::SourceParts=/nonexistent"),
        *("-o", f"Dir::State::Lists={apt / 'lists'}"),
        *("-o", f"Dir::Cache={apt / 'cache'}"),
        *("-o", "Acquire::Languages=none"),
        *("-o", "APT::Sandbox::User=root"),
    ]
    _run(["apt-get", *options, "update"], f"apt-get update ({COMPOSE_SUITE})")
    _run(["apt-get", *options, "download", "docker-compose"], "apt-get download", apt / "download")
    (deb,) = (apt / "download").glob("docker-compose_*.deb")
    _run(["dpkg-deb", "--extract", str(deb), str(apt / "unpacked")], "dpkg-deb")
    PLUGIN.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(apt / "unpacked/usr/libexec/docker/cli-plugins/docker-compose", PLUGIN)
    shutil.rmtree(apt)
    stamp.write_text(COMPOSE_SOURCE)
    return PLUGIN


# ---------------------------------------------------------------- the engine


def running() -> bool:
    return SOCKET.exists() and docker("version", check=False, capture=True).returncode == 0


def start(timeout: float = 60.0) -> None:
    """Start our dockerd unless it already answers; raise with its log when it cannot."""
    apt_packages()
    compose_plugin()
    if running():
        return
    RUN.mkdir(parents=True, exist_ok=True)
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    config = ENGINE / "daemon.json"
    config.write_text("{}\n")  # never the machine's /etc/docker/daemon.json
    log = ENGINE / "dockerd.log"
    cmd = [
        "dockerd",
        f"--host=unix://{SOCKET}",
        f"--data-root={DATA_ROOT}",
        f"--exec-root={RUN / 'exec'}",
        f"--pidfile={RUN / 'docker.pid'}",
        f"--config-file={config}",
        "--iptables=false",
        "--ip-masq=false",
        "--bridge=none",
    ]
    pid = _spawn(cmd, log)
    deadline = time.monotonic() + timeout
    while not running():
        if not _alive(pid) or time.monotonic() > deadline:
            raise StackError(f"dockerd did not start (log {log}):\n{_log_tail(log)}")
        time.sleep(0.5)


def stop(timeout: float = 30.0) -> None:
    """Stop our dockerd (its containers stop with it; images stay cached)."""
    pidfile = RUN / "docker.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip() or 0)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.3)
    os.kill(pid, 9)


# ---------------------------------------------------------------- images


def _has_image(name: str) -> bool:
    return docker("image", "inspect", name, check=False, capture=True).returncode == 0


def base_image() -> str:
    """Debian from debootstrap (with Python), imported once, plus this machine's own CA
    certificates (infra/docker/base/Dockerfile): `<prefix>/debian:bookworm`."""
    folder = ENGINE / "base"
    stamp_text = f"{DEBIAN_SUITE} {' '.join(BASE_PACKAGES)}"
    stamp = folder / ".stamp"
    if not (_has_image(ROOTFS_IMAGE) and stamp.exists() and stamp.read_text() == stamp_text):
        _import_rootfs(folder, stamp, stamp_text)
    context = ENGINE / "context" / "base"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(INFRA / "docker" / "base", context)
    (context / "ca").mkdir()
    for cert in LOCAL_CA.glob("**/*.crt") if LOCAL_CA.is_dir() else ():
        shutil.copy(cert, context / "ca" / cert.name)
    _build(BASE_IMAGE, context, context / "Dockerfile", {"ROOTFS": ROOTFS_IMAGE})
    return BASE_IMAGE


def _import_rootfs(folder: Path, stamp: Path, stamp_text: str) -> None:
    archive = folder / "rootfs.tar"
    if not (archive.exists() and stamp.exists() and stamp.read_text() == stamp_text):
        print("engine: building the Debian base image with debootstrap...", flush=True)
        rootfs = folder / "rootfs.tmp"
        shutil.rmtree(rootfs, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                *(DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR),
            ],
            "debootstrap",
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        shutil.rmtree(rootfs)
        stamp.write_text(stamp_text)
    with archive.open("rb") as data:
        proc = subprocess.run(
            ["docker", "import", "--change", 'CMD ["/bin/bash"]', "-", ROOTFS_IMAGE],
            stdin=data,
            env=env(),
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        raise StackError(f"docker import failed:\n{proc.stderr}")


def _build(ref: str, context: Path, dockerfile: Path, args: dict[str, str]) -> None:
    print(f"engine: building {ref}...", flush=True)
    build_args = [a for key, value in args.items() for a in ("--build-arg", f"{key}={value}")]
    docker(
        "build", "--network", "host", "--quiet", "-t", ref, "-f", str(dockerfile),
        *build_args, str(context),
        capture=True,
    )  # fmt: skip


def images() -> list[str]:
    """Build every image the stack and its test need; unchanged ones come from the cache."""
    base = base_image()
    for name, args in PROJECT_IMAGES.items():
        _build(image(name), ROOT, ROOT / "Dockerfile", {"BASE_IMAGE": base, **args})
    # Kafka and FerretDB: the native stack's artefacts, copied into a small context
    contexts = {"kafka": kafka_libs(), "ferretdb": ferretdb_binary()}
    for name in INFRA_IMAGES:
        context = ENGINE / "context" / name
        shutil.rmtree(context, ignore_errors=True)
        shutil.copytree(INFRA / "docker" / name, context)
        source = contexts[name]
        if source.is_dir():
            shutil.copytree(source, context / source.name, ignore=shutil.ignore_patterns(".*"))
        else:
            shutil.copy(source, context / source.name)
        _build(image(name), context, context / "Dockerfile", {"BASE_IMAGE": base})
    return [base, *(image(n) for n in (*PROJECT_IMAGES, *INFRA_IMAGES))]


# third-party images the production file names by default: bundled when this engine has
# them (a machine that can pull them, or a province's mirror), listed as missing otherwise
THIRD_PARTY = ("mongo:7", "prom/prometheus:v3.1.0", "grafana/grafana:11.4.0")
BUNDLED_FILES = (
    *("docker-compose.yml", ".env.example"),
    *("infra/mongo-init", "infra/prometheus", "infra/grafana"),
)


def bundle(out: Path) -> Path:
    """The offline bundle: every image (`docker save`), the compose file and what it
    mounts, `.env.example`, `.env.bundle` (this bundle's image names), `install.sh` and
    SHA256SUMS. A province copies the folder and runs `./install.sh`."""
    names = images()
    present = [name for name in THIRD_PARTY if _has_image(name)]
    missing = sorted(set(THIRD_PARTY) - set(present))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shipped = [name for name in names[1:] if name != image("ferretdb")]  # the test's only
    docker("save", "-o", str(out / "images.tar"), *shipped, *present, capture=True)
    for item in BUNDLED_FILES:
        source, target = ROOT / item, out / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    shutil.copy(INFRA / "docker" / "install.sh", out / "install.sh")
    (out / ".env.bundle").write_text(
        f"# the images in images.tar (HNTH_VERSION={TAG})\n"
        f"HNTH_IMAGE_PREFIX={PREFIX}\nHNTH_VERSION={TAG}\n"
        f"HNTH_KAFKA_IMAGE={image('kafka')}\nHNTH_MAIL_IMAGE={image('mail')}\n"
        + "".join(f"# not in this bundle, load it from your mirror: {name}\n" for name in missing)
    )
    sums = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256()
        with path.open("rb") as data:
            for chunk in iter(lambda: data.read(1 << 20), b""):
                digest.update(chunk)
        sums.append(f"{digest.hexdigest()}  {path.relative_to(out)}\n")
    (out / "SHA256SUMS").write_text("".join(sums))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.docker_engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "env", "images"):
        sub.add_parser(name)
    bundle_cmd = sub.add_parser("bundle")
    bundle_cmd.add_argument("out", type=Path, nargs="?", default=ROOT / "dist" / "bundle")
    args = parser.parse_args()
    try:
        if args.command == "start":
            start()
        elif args.command == "stop":
            stop()
        elif args.command == "env":
            print(f"export DOCKER_HOST=unix://{SOCKET} DOCKER_CONFIG={DOCKER_CONFIG}")
        elif args.command == "images":
            start()
            print("\n".join(images()))
        elif args.command == "bundle":
            start()
            print(bundle(args.out))
    except StackError as exc:
        print(f"engine: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
