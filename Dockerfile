# traffic-sync as a Docker container action: Debian's Python and git, the pinned runtime packages
# in a venv, the package. The runner builds this image at the start of every job that uses the
# action, so it stays small and quick to build (CONTRIBUTING.md: "The image").
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="traffic-sync" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.description="Keep GitHub traffic history for many repos in a git data branch" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

# Debian's Python 3.11 gets its security fixes from Debian, like git. git writes the data branch
# (git init + fetch --depth 1 + commit + push; never a clone). Pinned to bookworm's lines, not to
# exact revisions: an exact Debian revision would break every user's build (the image is built
# on each run) as soon as a security update replaces it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        'python3=3.11.*' 'python3-venv=3.11.*' 'git=1:2.39.*' 'ca-certificates=2023*' \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /app

# runtime packages first, so code changes reuse this layer; pip itself is not needed afterwards
COPY requirements.txt ./
RUN pip install --no-deps -r requirements.txt \
    && pip uninstall --yes --quiet pip setuptools

# entrypoint.py puts /app/src on sys.path: no build step, so no unpinned build tools. Compiled
# here, so no run spends its start compiling. action.yml beside src/, as in a clone: the flags'
# names, defaults and help are read from it.
COPY entrypoint.py action.yml ./
COPY src/ ./src/
RUN python -m compileall -q /app/src

ENTRYPOINT ["/opt/venv/bin/python", "/app/entrypoint.py"]
