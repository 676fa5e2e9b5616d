"""Benchmark: the action's image, as the runner builds it at the start of every job that uses it.

    python benchmarks/image.py [--runs 3]

Needs a Docker engine with the Dockerfile's base image (`source .ci/docker-engine &&
start_docker_engine` makes both where Docker Hub is out of reach). Builds the Dockerfile with no
cache (the runner has none), then prints the build time, what apt downloads, the image's size on
disk and compressed (what a registry would move), and how long the image takes to start: `true`
as the entrypoint against `--version`, the median of `--runs` each.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = "traffic-sync:benchmark"
BASE = "debian:bookworm-slim"


def timed(args: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.monotonic() - started, result.stdout + result.stderr


def compressed_size(image: str) -> int:
    """Bytes of `docker save` gzipped: about what pulling the image's layers moves."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    if save.stdout is None:
        raise RuntimeError("docker save gave no output stream")
    total = 0
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip's format, gzip's default level
    while chunk := save.stdout.read(1 << 20):
        total += len(compressor.compress(chunk))
    total += len(compressor.flush())
    save.wait()
    return total


def image_size(image: str) -> int:
    inspect = ["docker", "image", "inspect", "--format", "{{.Size}}", image]
    return int(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)


def median_start(args: list[str], runs: int) -> float:
    return statistics.median(timed(args)[0] for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs

    build = ["docker", "build", "--no-cache", "--network", "host", "--tag", TAG, str(ROOT)]
    seconds, log = timed(build)
    downloads = re.search(r"Need to get ([\d.,]+ [kM]B)", log)
    print(f"build, no cache:        {seconds:6.1f} s")
    print(f"apt downloads:          {downloads[1] if downloads else '?'}")
    mib = 1 << 20
    for name, image in ((f"base {BASE}:", BASE), ("image:", TAG)):
        unpacked, packed = image_size(image) / mib, compressed_size(image) / mib
        print(f"{name:32}{unpacked:6.1f} MiB, {packed:.1f} MiB compressed")
    run = ["docker", "run", "--rm", "--network", "host"]
    start = median_start([*run, "--entrypoint", "true", TAG], runs)
    version = median_start([*run, TAG, "--version"], runs)
    print(f"start, `true`:          {start:6.2f} s (median of {runs})")
    print(f"start, --version:       {version:6.2f} s (median of {runs})")


if __name__ == "__main__":
    main()
