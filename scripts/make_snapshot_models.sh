#!/usr/bin/env bash
# Trains the small models the window's snapshot tests load (tests/fixtures/models/), with
# the CLI, so that the snapshots show trained views without training inside the test: a
# model trained in a test differs in its last bits from CPU to CPU (gemm picks its kernels
# by CPU), and the pictures would too. Run from the repository root; ~1 minute.
set -euo pipefail
out=tests/fixtures/models
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/layerlab
spec=$(mktemp)
trap 'rm -f "$spec"' EXIT

# Fashion-MNIST: a small MLP, one epoch on 20,000 images.
cat > "$spec" <<'JSON'
{"version": 1, "layers": [{"type": "Linear", "out_features": 32}, {"type": "ReLU"},
 {"type": "Linear", "out_features": 10}]}
JSON
"$bin" train --dataset fashion-mnist --spec "$spec" --optimizer adam --lr 0.001 --batch-size 32 \
  --epochs 1 --limit 20000 --test-limit 1000 --export "$out/fashion-mlp.safetensors"

# Ames housing: the mlp-regressor preset as it ships.
"$bin" train --dataset ames-housing --preset mlp-regressor --test-limit 1000 \
  --export "$out/ames-regressor.safetensors"

# Fine-food reviews: a 2,000-word vocabulary keeps the file small.
cat > "$spec" <<'JSON'
{"version": 1, "layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
 {"type": "Linear", "out_features": 2}]}
JSON
"$bin" train --dataset fine-food-reviews --vocabulary 2000 --spec "$spec" --optimizer adam \
  --lr 0.001 --batch-size 32 --epochs 3 --export "$out/reviews-bow.safetensors"

# Spiral: the playground preset stopped part-way (40 of its epochs), mid-training.
"$bin" train --dataset spiral --preset playground --epochs 40 \
  --export "$out/spiral-playground.safetensors"
ls -l "$out"
