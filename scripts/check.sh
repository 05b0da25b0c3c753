#!/usr/bin/env bash
# make check: install what is missing, build the debug kernel (cached) and
# rzram.ko, boot QEMU and run every test in tests/.  Exits non-zero on any
# failed test or kernel-log report; the last line is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ko=$(bash scripts/build-module.sh debug)
exec bash scripts/run-tests.sh --kernel debug --module "$ko" "$@"
