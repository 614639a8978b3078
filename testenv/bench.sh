#!/usr/bin/env bash
# make bench: the lists at Kiali's pain point (kiali#7917: over 30 s at 1,400 ServiceEntries).
# Ours are served from the watch cache. Measures the all-namespaces list and the overview over
# the real server, and the server's memory; fails above the targets (median 0.5 s, RSS
# 256 MiB: the Deployment's limit). Not a test: machines here are shared and noisy.
source "$(dirname "$0")/env.sh"
N=${BENCH_SERVICE_ENTRIES:-1400}
PORT=${BENCH_PORT:-3195}
export KUBECONFIG=$STATE_DIR/kubeconfig
KUBECTL=$KUBE_BIN_DIR/kubectl
ns=bench-$(date +%s)
"$KUBECTL" create namespace "$ns" >/dev/null
log "creating $N ServiceEntries in $ns"
python3 - "$ns" "$N" > "$STATE_DIR/bench.yaml" <<'PY'
import sys
ns, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    print(f"""---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: ext-{i}, namespace: {ns}}}
spec:
  hosts: [api{i}.example.com]
  ports: [{{number: 443, name: tls, protocol: TLS}}]
  resolution: DNS""")
PY
"$KUBECTL" apply --server-side -f "$STATE_DIR/bench.yaml" >/dev/null
LEPTOS_SITE_ROOT="$ROOT_DIR/target/site" "$ROOT_DIR/target/release/mesh-egress" \
  --kubeconfig "$KUBECONFIG" serve --addr "127.0.0.1:$PORT" > "$STATE_DIR/logs/bench-server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && break
  sleep 0.2
done
measure() { # path form
  local times=()
  for _ in $(seq 1 20); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -X POST "http://127.0.0.1:$PORT$1" -d "$2")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "min %.3fs  median %.3fs  max %.3fs\n", a[1], a[int((NR+1)/2)], a[NR]}'
}
list=$(measure /api/service_entries "namespace=")
overview=$(measure /api/overview "")
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "bench: $N ServiceEntries"
echo "bench: all-namespaces list (/api/service_entries): $list"
echo "bench: overview (/api/overview):                $overview"
echo "bench: server memory (RSS): $((rss_kib / 1024)) MiB"
median_list=$(sed -n 's/.*median \([0-9.]*\)s.*/\1/p' <<<"$list")
awk -v m="$median_list" 'BEGIN { exit !(m <= 0.5) }' || { echo "bench: FAIL: list median above 0.5 s"; exit 1; }
[ "$rss_kib" -le $((256 * 1024)) ] || { echo "bench: FAIL: RSS above 256 MiB"; exit 1; }
echo "bench: within targets"
