#!/bin/bash
# nn-train against PyTorch on the same networks, in interleaved rounds: `npm run bench` and
# src/bench/pytorch_reference.py, on the reference CNN (--model cnn) and the dense network (mlp),
# each run under the benchmark lock; then the medians over the rounds and their ratios, as the table
# of src/bench/README.md.
#
#   npm run build && npm run bench:side-by-side -- [ROUNDS] [OUT_DIR]     (default 3 rounds, a temp folder)
#
# PYTORCH: the command that runs Python with PyTorch (default: ../shared/tools/modern-pytorch.sh run
# python3, Debian 13's PyTorch 2.6 with tcmalloc preloaded); BENCH_LOCK: the lock file (default
# /tmp/bench.lock); RUNS: each benchmark's runs per figure (default 3, to keep every locked run short);
# THREADS: threads on both sides (nn-train's --workers, PyTorch's --threads and --blas-threads; default:
# each one's own default, 2 here); MODELS: which networks (default "cnn mlp").
# Every run's JSON and log stay in OUT_DIR; the summary is printed and written to OUT_DIR/summary.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
out=${2:-$(mktemp -d -t side-by-side-XXXXXX)}
mkdir -p "$out"
read -r -a pytorch <<< "${PYTORCH:-../shared/tools/modern-pytorch.sh run python3}"
lock=${BENCH_LOCK:-/tmp/bench.lock}
runs=${RUNS:-3}
read -r -a models <<< "${MODELS:-cnn mlp}"
ours=(); theirs=()
[ -n "${THREADS:-}" ] && ours=(--workers "$THREADS") && theirs=(--threads "$THREADS" --blas-threads "$THREADS")
echo "side by side: $rounds rounds, results in $out" >&2
for round in $(seq 1 "$rounds"); do
  for model in "${models[@]}"; do
    extra=(); [ "$model" = cnn ] && extra=(--skip-layers)
    # A run whose JSON is already in OUT_DIR is kept: the same command again completes an interrupted set.
    [ -s "$out/nn-train-$model-$round.json" ] && [ -s "$out/pytorch-$model-$round.json" ] && continue
    if [ ! -s "$out/nn-train-$model-$round.json" ]; then
      echo "round $round/$rounds: $model: nn-train" >&2
      flock "$lock" node dist-bench/bench/core.js --model "$model" --runs "$runs" "${ours[@]}" > "$out/nn-train-$model-$round.json" 2> "$out/nn-train-$model-$round.log"
    fi
    if [ ! -s "$out/pytorch-$model-$round.json" ]; then
      echo "round $round/$rounds: $model: pytorch" >&2
      flock "$lock" "${pytorch[@]}" src/bench/pytorch_reference.py --model "$model" --runs "$runs" "${extra[@]}" "${theirs[@]}" > "$out/pytorch-$model-$round.json" 2> "$out/pytorch-$model-$round.log"
    fi
    echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.log" >&2
  done
done
node - "$out" "$rounds" "${models[@]}" <<'EOF'
// Medians over the rounds of each figure, and nn-train / PyTorch.
const { readFileSync, writeFileSync } = require('node:fs');
const [out, rounds, models] = [process.argv[2], Number(process.argv[3]), process.argv.slice(4)];
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const lastJson = (file) => JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop());
const summary = {};
for (const model of models) {
  const side = (name) => Array.from({ length: rounds }, (_, r) => lastJson(`${out}/${name}-${model}-${r + 1}.json`));
  const ours = side('nn-train');
  const theirs = side('pytorch');
  const rows = {};
  for (const opt of Object.keys(ours[0].trainImagesPerSecond)) {
    rows[`train ${opt}`] = [ours.map((j) => j.trainImagesPerSecond[opt]), theirs.map((j) => j.trainImagesPerSecond[opt])];
  }
  rows.inference = [ours.map((j) => j.inferenceImagesPerSecond), theirs.map((j) => j.inferenceImagesPerSecond)];
  summary[model] = { environment: theirs[0].environment, nnTrainKernel: ours[0].kernel, nnTrainWorkers: ours[0].workers, figures: {} };
  console.log(`\n${model}: images/s, medians of ${rounds} rounds (each round's figure itself a median of runs); PyTorch ${theirs[0].environment.torch}, ${theirs[0].environment.allocator}, ${theirs[0].environment.memoryFormat}, ${theirs[0].environment.threads} threads`);
  console.log('| | nn-train | PyTorch | nn-train / PyTorch | rounds (nn-train; PyTorch) |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const [name, [a, b]] of Object.entries(rows)) {
    const [ma, mb] = [median(a), median(b)];
    summary[model].figures[name] = { nnTrain: ma, pytorch: mb, ratio: ma / mb, nnTrainRounds: a, pytorchRounds: b };
    console.log(`| ${name} | ${Math.round(ma)} | ${Math.round(mb)} | ${(ma / mb).toFixed(2)}x | ${a.join(', ')}; ${b.join(', ')} |`);
  }
}
writeFileSync(`${out}/summary.json`, JSON.stringify(summary, null, 1) + '\n');
EOF
