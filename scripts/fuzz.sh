#!/usr/bin/env bash
# The long run of tests/fuzz.rs: every parser and validator (model files, IDX, layer stacks,
# images, CSV bytes and CSV shapes (wide, long, many levels, multi-member gzip, emoji and NULs
# in text), image folder layouts, the window's saved state) with CASES generated inputs each
# (default 2,000), and the peak memory reported. Usage: scripts/fuzz.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-2000}"
cargo test --release --test fuzz --no-run
binary=$(ls -t target/release/deps/fuzz-* | grep -v '\.d$' | head -1)
echo "running $binary with PROPTEST_CASES=$cases"
PROPTEST_CASES="$cases" /usr/bin/time -v "$binary" --test-threads 1 2> >(tee /tmp/fuzz-time.txt >&2) | tee /tmp/fuzz-out.txt
tests=$(grep -c '^test .* ok$' /tmp/fuzz-out.txt || true)
proptests=$(grep '^test .* ok$' /tmp/fuzz-out.txt | grep -vc corpus || true)
echo "passed tests: $tests (property tests: $proptests, about $((proptests * cases)) generated cases)"
grep -E "Maximum resident set size|Elapsed \(wall" /tmp/fuzz-time.txt
