#!/bin/bash
# Builds the test-only RobustMQ stand-ins (broker-server, cli-command; docs/standin.md) into the tool cache, by the hash
# of their sources (scripts/go-test-binaries.sh). Prints `broker-server=PATH` and `cli-command=PATH` on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../../scripts/go-test-binaries.sh" "$here" standin "the RobustMQ stand-ins" broker-server cli-command
