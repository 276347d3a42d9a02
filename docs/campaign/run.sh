#!/usr/bin/env bash
# The three-seed campaign of docs/campaign/results.md, one run after another, resumable.
#
#   bash docs/campaign/run.sh                       # every run, in the campaign's order
#   bash docs/campaign/run.sh hopper-lql walker2d-nclql   # only these (names as in ORDER below)
#   nohup nice -n 19 bash docs/campaign/run.sh > campaign.log 2>&1 &
#
# Each run trains into $RUNS/<name>-3seeds (a new run, `resume=` of an unfinished one, nothing
# for one whose metrics reach the last chunk), then `evaluate --all --skip-evaluated` adds every
# checkpoint not yet evaluated on MJX and Gymnasium, then the run's small outputs are copied to
# $DOCS/<name>-3seeds and the campaign page is rebuilt by `report`. Stop it with one Ctrl-C, or
# SIGTERM to its `mjx_nclql.train` process: training checkpoints at the next chunk boundary and
# the script stops there; run it again to continue. PYTHON, RUNS, DOCS and PAGE may be set.
set -u

PYTHON=${PYTHON:-python}
RUNS=${RUNS:-runs}
DOCS=${DOCS:-docs/runs}
PAGE=${PAGE:-docs/campaign/results.md}
TOTAL=50000  # post-warm-up transitions per seed
COMMON=(num_seeds=3 train.total_steps=$TOTAL train.eval_every=12500 train.checkpoint_every=12500
        train.keep_checkpoints=10 train.chunk_iters=500 log.wandb_mode=disabled log.progress=false)

declare -A RUNS_ARGS=(
  [hopper-nclql]="env=hopper"
  [halfcheetah-nclql]="env=halfcheetah"
  [hopper-lql]="env=hopper algo=lql"
  [halfcheetah-lql]="env=halfcheetah algo=lql"
  [walker2d-nclql]="env=walker2d"
  [ant-nclql]="env=ant"
  [swimmer-nclql]="env=swimmer"
  [humanoid-nclql]="env=humanoid"
)
ORDER=(hopper-nclql halfcheetah-nclql hopper-lql halfcheetah-lql walker2d-nclql ant-nclql
       swimmer-nclql humanoid-nclql)

say() { echo "$(date -u +%FT%TZ) $*"; }

campaign_run() {  # name
  local name=$1 dir="$RUNS/$1-3seeds" rc
  if grep -qs "\"kind\": \"train\".*\"post_warmup_steps\": $TOTAL," "$dir/metrics.jsonl"; then
    say "trained $name"  # its last chunk is in the metrics: nothing to resume
  elif [ -f "$dir/config.yaml" ] && [ -d "$dir/checkpoints" ]; then
    say "resume $name"
    "$PYTHON" -m mjx_nclql.train "resume=$dir"
  else
    say "start $name"
    # shellcheck disable=SC2086  # the task's overrides are words
    "$PYTHON" -m mjx_nclql.train ${RUNS_ARGS[$name]} "${COMMON[@]}" "run_dir=$dir"
  fi
  rc=$?
  [ $rc -eq 0 ] || { say "train $name stopped (exit $rc); run this script again to resume"; return $rc; }
  say "evaluate $name"
  "$PYTHON" -m mjx_nclql.evaluate "$dir" --all --skip-evaluated || return $?
  mkdir -p "$DOCS/$name-3seeds"
  for f in config.yaml metrics.jsonl eval.json provenance.json learning_curve.png; do
    [ -f "$dir/$f" ] && cp "$dir/$f" "$DOCS/$name-3seeds/"
  done
  "$PYTHON" -m mjx_nclql.report "$DOCS"/*-3seeds --out "$PAGE" || return $?
  say "done $name"
}

[ $# -gt 0 ] || set -- "${ORDER[@]}"
for name in "$@"; do  # every name checked before anything runs
  if [ -z "${RUNS_ARGS[$name]+x}" ]; then
    echo "run.sh: unknown run '$name'; choose from: ${ORDER[*]}" >&2
    exit 2
  fi
done
for name in "$@"; do
  campaign_run "$name" || exit $?
done
