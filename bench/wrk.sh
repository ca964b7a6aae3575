# Shared by the wrk benchmark scripts (sourced, not run).

# wait_listening LOG PID: waits up to 30 s for the server writing LOG to say "listening on";
# otherwise shows LOG, stops PID and fails.
wait_listening() {
  for _ in $(seq 300); do grep -q "listening on" "$1" && return 0; sleep 0.1; done
  cat "$1" >&2; kill "$2"; return 1
}

# wrk_read OUT: sets requests, rps, p50, p90, p99 and non2xx from wrk --latency's output.
wrk_read() {
  requests=$(echo "$1" | awk '/requests in/ { print $1 }')
  rps=$(echo "$1" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$1" | awk '$1 == "50%" { print $2 }')
  p90=$(echo "$1" | awk '$1 == "90%" { print $2 }')
  p99=$(echo "$1" | awk '$1 == "99%" { print $2 }')
  non2xx=$(echo "$1" | awk '/Non-2xx/ { print $NF }')
}
