#!/usr/bin/env bash
# The project's test command: ./scripts/test.sh [pytest arguments...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
./scripts/services.sh
exec .venv/bin/pytest "$@"
