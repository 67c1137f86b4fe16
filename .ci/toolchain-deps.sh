#!/usr/bin/env bash
# What PerfOrch's five toolchains need beyond the machine's Go, Rust, JDK 17, g++ and Python, set up once so
# that candidates later build offline. Idempotent; run as root on Debian 12 after `pip install -e .`.
set -euo pipefail
cd "$(dirname "$0")/.."

# C++: Boost.Any (CPP/22, /137) and OpenSSL's MD5 (CPP/162).
need_apt=()
for pkg in g++ libboost-dev libssl-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)
if ((${#need_apt[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# Go: goimports fixes the imports of assembled test files (pinned; builds with Go 1.26). The toolchain looks
# for it on PATH and in $(go env GOPATH)/bin, and would install this same version itself otherwise.
GOIMPORTS_VERSION=v0.52.0
gobin="$(go env GOPATH)/bin"
if [[ ! -x "$gobin/goimports" ]]; then
  GOFLAGS=-buildvcs=false go install "golang.org/x/tools/cmd/goimports@${GOIMPORTS_VERSION}"
fi

# The one-time preparation that needs the registries, into the platformdirs cache dir (PERFORCH_CACHE_DIR
# overrides it): testify (Go module cache + warm build cache), rand 0.4.6 / regex 1.13.2 / md5 0.7.0 built by
# cargo for this rustc, the javac server's class, the C++ precompiled header.
python3 - <<'PY'
import asyncio
import time

from perforch.orchestration.checking import close_all, prepare_all

started = time.monotonic()
asyncio.run(prepare_all())
asyncio.run(close_all())
print(f"toolchains prepared in {time.monotonic() - started:.1f} s")
PY
