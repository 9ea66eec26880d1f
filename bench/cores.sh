# Sourced by the agent benchmarks: a broker's CPU during a run, in cores busy on average, and
# the agent's own. Where batching cannot pay, the broker's own per-message work is the
# ceiling (or, on a small host, the two together fill every core), and this shows it.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# the user + system seconds of this shell's finished children so far: bash's `times`, run
# in this shell (a command substitution would be a new process with no children)
cpu_file=$(mktemp)
children_cpu() {
  times > "$cpu_file"
  awk 'NR == 2 {
    n = split($0, f, " "); s = 0
    for (i = 1; i <= n; i++) { split(f[i], t, "m"); s += t[1] * 60 + t[2] }
    print s }' "$cpu_file"
}
# timed PID CMD...: runs CMD, leaves the busy cores of process PID in $cores and CMD's own
# (with its threads and children) in $agent, prints CMD's output
timed() {
  local pid=$1 t0 c0 a0 out
  shift
  children_cpu > "$cpu_file.a"
  read -r a0 < "$cpu_file.a"
  t0=$(date +%s.%N) c0=$(ticks "$pid")
  out=$("$@")
  local t1 a1
  t1=$(date +%s.%N)
  children_cpu > "$cpu_file.a"
  read -r a1 < "$cpu_file.a"
  cores=$(awk -v c0="$c0" -v c1="$(ticks "$pid")" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", (c1 - c0) / hz / (t1 - t0) }')
  agent=$(awk -v a0="$a0" -v a1="$a1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", (a1 - a0) / (t1 - t0) }')
  printf '%s\n' "$out"
}
# spool_floor N DIR: what the spool alone allows on this host, no messaging at all
# (dirq_bench floor: N 1 KiB elements added to one queue, then locked, read and removed, by
# one thread and by two); leaves msg/s in $floor_add1 $floor_add2 $floor_take1 $floor_take2,
# the best of three runs each (a shared host only ever slows a run down).
# An agent receiving adds every message; sending, it takes every one.
spool_floor() {
  local n=$1 dir=$2 t r out best_add best_take
  for t in 1 2; do
    best_add=0 best_take=0
    for r in 1 2 3; do
      out=$(target/release/examples/dirq_bench floor "$dir/floor-$t" "$n" 1024 "$t")
      rm -rf "$dir/floor-$t"
      best_add=$(bigger "$best_add" "$(sed -n 's/.*"phase":"add-x[0-9]*".*"rate":\([0-9.]*\).*/\1/p' <<< "$out")")
      best_take=$(bigger "$best_take" "$(sed -n 's/.*"phase":"consume-x[0-9]*".*"rate":\([0-9.]*\).*/\1/p' <<< "$out")")
    done
    eval "floor_add$t=$best_add floor_take$t=$best_take"
  done
}
bigger() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
