#!/bin/bash
# Builds the test-only CSI hostpath driver (docs/csi-hostpath.md) into the tool cache, by the hash of its sources
# (scripts/go-test-binaries.sh). Prints `csi-hostpath=PATH` on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../../scripts/go-test-binaries.sh" "$here" csi-hostpath "the test-only CSI hostpath driver" csi-hostpath
