# Sourced by the agent benchmarks: a broker's CPU during a run, in cores busy on average.
# Where batching cannot pay, the broker's own per-message work is the ceiling, and this
# shows it.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# timed PID CMD...: runs CMD, leaves the busy cores of process PID in $cores, prints CMD's
# output
timed() {
  local pid=$1 t0 c0 out
  shift
  t0=$(date +%s.%N) c0=$(ticks "$pid")
  out=$("$@")
  cores=$(awk -v c0="$c0" -v c1="$(ticks "$pid")" -v t0="$t0" -v t1="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", (c1 - c0) / hz / (t1 - t0) }')
  printf '%s\n' "$out"
}
