#!/usr/bin/env bash
# Regenerates this module's go.mod/go.sum with the same recipe as the newest control plane's.
# Usage: tools/k8s-old/update.sh v1.32.13
set -euo pipefail
exec "$(dirname "$0")/../k8s/update.sh" "${1:?usage: update.sh v1.X.Y}" "$(cd "$(dirname "$0")" && pwd)"
