#!/usr/bin/env bash
# make bench: the lists at Kiali's pain point (kiali#7917: over 30 s at 1,400 ServiceEntries),
# and the overview and namespace pages with traffic from Prometheus at the demo's size (< 100 ms).
# Ours are served from the watch cache. Measures the all-namespaces list and the overview over
# the real server, and the server's memory; fails above the targets (median 0.5 s, RSS
# 256 MiB: the Deployment's limit). Not a test: machines here are shared and noisy.
source "$(dirname "$0")/env.sh"
N=${BENCH_SERVICE_ENTRIES:-1400}
PORT=${BENCH_PORT:-3195}
export KUBECONFIG=$STATE_DIR/kubeconfig
KUBECTL=$KUBE_BIN_DIR/kubectl

# Pages with traffic at the demo's size: the demo's data and traffic, Prometheus answering.
"$TESTENV_DIR/seed.sh"
page_port=$((PORT + 1))
LEPTOS_SITE_ROOT="$ROOT_DIR/target/site" "$ROOT_DIR/target/release/mesh-egress" \
  --kubeconfig "$KUBECONFIG" --prometheus "$PROMETHEUS_URL" serve --addr "127.0.0.1:$page_port" \
  > "$STATE_DIR/logs/bench-pages.log" 2>&1 &
page_pid=$!
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$page_port/readyz")" = 200 ] && break
  sleep 0.2
done
# Wait until the traffic source's calls are in Prometheus and the server shows them.
for _ in $(seq 1 60); do
  curl -s "http://127.0.0.1:$page_port/traffic" | grep -q 'data-testid="traffic-source"' \
    && curl -s "http://127.0.0.1:$page_port/traffic" | grep -q 'dest-registered-httpbin.org' && break
  sleep 1
done
page_times() { # path
  local times=()
  for _ in $(seq 1 20); do
    local answer; answer=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$page_port$1")
    [ "${answer%% *}" = 200 ] || { echo "bench: FAIL: $1 answered ${answer%% *}" >&2; exit 1; }
    times+=("${answer#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "min %.3fs  median %.3fs  max %.3fs\n", a[1], a[int((NR+1)/2)], a[NR]}'
}
page_overview=$(page_times /)
page_namespace=$(page_times /namespaces/smm-demo)
page_traffic=$(page_times /traffic)
kill "$page_pid" 2>/dev/null || true
for t in "$page_overview" "$page_namespace" "$page_traffic"; do
  grep -q median <<<"$t" || { echo "bench: FAIL: a page did not answer 200"; exit 1; }
done

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
echo "bench: pages with traffic, demo size: overview /           $page_overview"
echo "bench: pages with traffic, demo size: namespace smm-demo   $page_namespace"
echo "bench: pages with traffic, demo size: traffic /traffic     $page_traffic"
for t in "$page_overview" "$page_namespace"; do
  m=$(sed -n 's/.*median \([0-9.]*\)s.*/\1/p' <<<"$t")
  awk -v m="$m" 'BEGIN { exit !(m <= 0.1) }' || { echo "bench: FAIL: a page with traffic above 100 ms (median)"; exit 1; }
done
median_list=$(sed -n 's/.*median \([0-9.]*\)s.*/\1/p' <<<"$list")
awk -v m="$median_list" 'BEGIN { exit !(m <= 0.5) }' || { echo "bench: FAIL: list median above 0.5 s"; exit 1; }
[ "$rss_kib" -le $((256 * 1024)) ] || { echo "bench: FAIL: RSS above 256 MiB"; exit 1; }
echo "bench: within targets"
