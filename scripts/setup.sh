#!/usr/bin/env bash
# Everything a new machine needs before `npm test`: Debian packages, npm dependencies, and the pinned tools in the
# cache outside git (helm 3/4, kubectl, Node 24, the local control plane built from Go modules: ~10 min cold).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund
bash scripts/provision.sh all
