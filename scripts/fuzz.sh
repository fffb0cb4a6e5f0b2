#!/usr/bin/env bash
# The long run of tests/fuzz.rs: every parser and validator (model files, IDX, layer stacks,
# images, CSV bytes and CSV shapes (wide, long, many levels, multi-member gzip, emoji and NULs
# in text), image folder layouts, the window's saved state) with CASES generated inputs each
# (default 2,000), the process's peak memory and the largest single case's (the CSV and image
# folder generators assert a bound on each case). Usage: scripts/fuzz.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-2000}"
cargo test --release --test fuzz --no-run
binary=$(ls -t target/release/deps/fuzz-* | grep -v '\.d$' | head -1)
echo "running $binary with PROPTEST_CASES=$cases"
rm -f /tmp/fuzz-peak.txt
PROPTEST_CASES="$cases" FUZZ_PEAK_FILE=/tmp/fuzz-peak.txt /usr/bin/time -v "$binary" --test-threads 1 2> >(tee /tmp/fuzz-time.txt >&2) | tee /tmp/fuzz-out.txt
tests=$(grep -c '^test .* ok$' /tmp/fuzz-out.txt || true)
proptests=$(grep '^test .* ok$' /tmp/fuzz-out.txt | grep -vc corpus || true)
echo "passed tests: $tests (property tests: $proptests, about $((proptests * cases)) generated cases)"
grep -E "Maximum resident set size|Elapsed \(wall" /tmp/fuzz-time.txt
if [ -f /tmp/fuzz-peak.txt ]; then
  read -r peak input generator < /tmp/fuzz-peak.txt
  echo "largest single case (bounded generators): $((peak / 1024)) KiB held for $input bytes of input ($generator)"
fi
