#!/usr/bin/env bash
# make check: install what is missing, build the debug kernel (cached) and
# rzram.ko, boot QEMU and run every test in tests/.  Exits non-zero on any
# failed test or kernel-log report; the last line is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ko=$(bash scripts/build-module.sh debug)
# A hard cap on the guest run keeps a cold CI run (about 35 minutes of
# installing and building) well inside its 90 minutes.
exec bash scripts/run-tests.sh --kernel debug --module "$ko" --timeout 3000 "$@"
