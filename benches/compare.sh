#!/usr/bin/env bash
# Both sides of the engine benchmarks in one sitting, and the ratio/roofline table.
# Needs: pip install torch   (see benches/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 benches/compare.py --check "$@"
cargo bench --bench engine --no-run
python3 benches/compare.py "$@"
