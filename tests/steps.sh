# Sourced by .ci/run and ./test.sh.
#   step NAME     says how long the run has taken so far and, when FACEPRINT_STEPS names a file,
#                 writes there when the step began
#   step_table    prints the steps of that file with their minutes (a step lasts until the next)
#   in_background NAME LOG COMMAND...   runs a step beside the others, its output in LOG; the
#                 table shows it as "NAME (beside)" with its own minutes
#   wait_for PID LOG   waits for such a step, prints its output, and fails if it failed
step() {
  echo "== [$(date +%T), ${SECONDS} s in] $*"
  if [ -n "${FACEPRINT_STEPS:-}" ]; then
    printf '%s\t%s\n' "$(date +%s)" "$*" >>"$FACEPRINT_STEPS"
  fi
}

in_background() {
  local name=$1 log=$2
  shift 2
  echo "== [$(date +%T), ${SECONDS} s in] beside the next steps: $name (output: $log)"
  (
    started=$(date +%s)
    status=0
    "$@" >"$log" 2>&1 || status=$?
    if [ -n "${FACEPRINT_STEPS:-}" ]; then
      printf '%s\t%s\n' "$started $(date +%s)" "$name (beside)" >>"$FACEPRINT_STEPS.beside"
    fi
    exit $status
  ) &
}

wait_for() {
  local pid=$1 log=$2 status=0
  wait "$pid" || status=$?
  sed 's/^/   | /' "$log"
  if [ "$status" != 0 ]; then
    echo "failed (exit $status): see the output above" >&2
    return "$status"
  fi
}

step_table() {
  [ -n "${FACEPRINT_STEPS:-}" ] && [ -s "$FACEPRINT_STEPS" ] || return 0
  local now
  now=$(date +%s)
  echo
  echo "| step | minutes |"
  echo "|---|---|"
  awk -F'\t' -v now="$now" '
    NR > 1 { printf "| %s | %.1f |\n", name, ($1 - began) / 60 }
    { began = $1; name = $2; first = (NR == 1 ? $1 : first) }
    END { if (NR) { printf "| %s | %.1f |\n", name, (now - began) / 60
                    printf "| **whole run** | **%.1f** |\n", (now - first) / 60 } }
  ' "$FACEPRINT_STEPS"
  if [ -s "$FACEPRINT_STEPS.beside" ]; then
    awk -F'\t' '{ split($1, t, " "); printf "| %s | %.1f |\n", $2, (t[2] - t[1]) / 60 }' \
      "$FACEPRINT_STEPS.beside"
  fi
}
