#!/usr/bin/env bash
# Score the shipped model with `lesion eval` on Validation and Test_v2 and write docs/eval/:
# <split>.json (0.5 thresholds) + <split>/{metrics.json,roc.png,worst-cases.png},
# <split>.model-thresholds.json, and table.md (both splits side by side).
# usage: scripts/eval-model.sh [ISIC 2017 folder, default ../shared/data/isic2017]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/isic2017}"
for split in Validation Test_v2; do
  name=$(echo "$split" | tr '[:upper:]' '[:lower:]')
  npx lesion eval --data "$DATA" --split "$split" --json --out "docs/eval/$name" > "docs/eval/$name.json"
  npx lesion eval --data "$DATA" --split "$split" --json --model-thresholds > "docs/eval/$name.model-thresholds.json"
done
npx tsx scripts/eval-table.ts Validation=docs/eval/validation.json Test_v2=docs/eval/test_v2.json > docs/eval/table.md
cat docs/eval/table.md
