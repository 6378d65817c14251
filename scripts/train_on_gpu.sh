#!/usr/bin/env bash
# The course models in one short GPU session: the GPT (chapter 6), the BERT (chapter 7) and its
# fine-tuned classifier with the small-data curve (chapter 8), each by its own script's command.
#
#   scripts/train_on_gpu.sh NSMC_DIR RUNS_DIR [GPT_MINUTES] [BERT_MINUTES]
#
# Made for a lent accelerator with a hard time limit (one NVIDIA H200 and 16 cores, a 10-minute
# command): the GPT and the BERT pretrain side by side, each for a training budget in minutes
# (--budget-minutes: the step count is timed on the first batches, then fixed, so the cosine
# schedule ends with the budget, as Cramming recommends; report.json records the steps, and
# the same command with --steps N repeats the run on any machine, the CPU included). The BERT's
# three fine-tuning variants run as three processes (scripts/finetune_bert.py's documented
# split), merged into one report. Each log goes to RUNS_DIR/<name>.log.
# PYTHON picks the interpreter (default python3); FT_ARGS adds arguments to the three fine-tuning
# commands (a dry run on a few reviews: FT_ARGS="--val-reviews 500 --sizes 500 --curve-seeds 1").
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 NSMC_DIR RUNS_DIR [GPT_MINUTES] [BERT_MINUTES]" >&2
    exit 2
fi
data=$1
runs=$2
gpt_minutes=${3:-2.5}
bert_minutes=${4:-2.5}
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$runs"

# GPT: the shipped configuration (scripts/pretrain_gpt.py's defaults), 32 windows of 128 tokens.
$py scripts/pretrain_gpt.py --data-dir "$data" --out "$runs/gpt_nsmc" \
    --budget-minutes "$gpt_minutes" --batch-size 32 --warmup 500 --threads 4 \
    >"$runs/gpt.log" 2>&1 &
gpt=$!

# The fine-tuning runs start now too: each computes the TF-IDF baseline on the CPU while the
# BERT pretrains, then waits for the pretrained checkpoint (--wait-pretrained).
# shellcheck disable=SC2206  # FT_ARGS is split into its words on purpose
ft=(--data-dir "$data" --pretrained "$runs/bert_nsmc" --threads 3 --wait-pretrained 1200 ${FT_ARGS:-})
$py scripts/finetune_bert.py "${ft[@]}" --variants scratch --out "$runs/ft_scratch" \
    >"$runs/ft_scratch.log" 2>&1 &
$py scripts/finetune_bert.py "${ft[@]}" --variants frozen --out "$runs/ft_frozen" \
    >"$runs/ft_frozen.log" 2>&1 &
$py scripts/finetune_bert.py "${ft[@]}" --variants pretrained --out "$runs/bert_nsmc_sentiment" \
    --results-from "$runs/ft_scratch" "$runs/ft_frozen" --wait 1200 \
    >"$runs/ft_pretrained.log" 2>&1 &
finetune=$!

# BERT: twice the width of the first one (256, 4 layers, 4 heads), 128 pairs a step, batches
# built ahead by 4 worker processes.
$py scripts/pretrain_bert.py --data-dir "$data" --out "$runs/bert_nsmc" \
    --budget-minutes "$bert_minutes" --d-model 256 --batch-size 128 --warmup 500 \
    --workers 4 --threads 4 >"$runs/bert.log" 2>&1
echo "pretrain_bert exited with $?"
wait "$finetune"
echo "finetune_bert (pretrained, merged with scratch and frozen) exited with $?"
wait "$gpt"
echo "pretrain_gpt exited with $?"
