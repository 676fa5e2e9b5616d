# traffic-sync as a Docker container action: Python, git, the pinned runtime packages, the package.
FROM python:3.12-slim-bookworm

LABEL org.opencontainers.image.title="traffic-sync" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.description="Keep GitHub traffic history for many repos in a git data branch" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# git writes the data branch (git init + fetch --depth 1 + commit + push; never a clone).
# Pinned to bookworm's 2.39 line: an exact Debian revision would break every user's build
# (the action's image is built on each run) as soon as a security update replaces it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends 'git=1:2.39.*' \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# runtime packages first, so code changes reuse this layer
COPY requirements.txt ./
RUN pip install --no-cache-dir --no-deps -r requirements.txt

# entrypoint.py puts /app/src on sys.path: no build step, so no unpinned build tools
COPY entrypoint.py ./
COPY src/ ./src/

ENTRYPOINT ["python", "/app/entrypoint.py"]
