#!/usr/bin/env bash
# Starts the traffic source (calls from $TRAFFIC_DIR's scenario files, routed by what istiod
# pushes over xDS, exported as Istio's standard metrics) and a real Prometheus scraping it every
# 2 s; waits until Prometheus has scraped it once.
source "$(dirname "$0")/env.sh"
mkdir -p "$TRAFFIC_DIR" "$STATE_DIR/logs" "$STATE_DIR/prometheus"

log "starting the traffic source (metrics http://127.0.0.1:$TRAFFIC_PORT/metrics, scenarios in $TRAFFIC_DIR)"
setsid "$TRAFFIC_BIN" --xds "127.0.0.1:$ISTIOD_GRPC_PORT" --listen "127.0.0.1:$TRAFFIC_PORT" \
  --scenarios "$TRAFFIC_DIR" > "$STATE_DIR/logs/trafficsource.log" 2>&1 < /dev/null &
echo $! > "$STATE_DIR/trafficsource.pid"

cat > "$STATE_DIR/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: envoy-stats   # what Istio's sample Prometheus calls the sidecars' job
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$TRAFFIC_PORT"]
YAML
log "starting Prometheus $PROMETHEUS_DEB_VERSION on $PROMETHEUS_URL"
setsid "$PROMETHEUS_BIN" --config.file "$STATE_DIR/prometheus/prometheus.yml" \
  --storage.tsdb.path "$STATE_DIR/prometheus/data" --web.listen-address "127.0.0.1:$PROMETHEUS_PORT" \
  --storage.tsdb.retention.time 8d --log.level warn \
  > "$STATE_DIR/logs/prometheus.log" 2>&1 < /dev/null &
echo $! > "$STATE_DIR/prometheus.pid"

scraped() {
  curl -fsS --max-time 2 "$PROMETHEUS_URL/api/v1/query?query=up" 2>/dev/null | grep -q '"value":\[[0-9.]*,"1"\]'
}
for _ in $(seq 1 60); do
  scraped && break
  for p in trafficsource prometheus; do
    if ! kill -0 "$(cat "$STATE_DIR/$p.pid")" 2>/dev/null; then
      log "$p exited; last lines of $STATE_DIR/logs/$p.log:"; tail -n 20 "$STATE_DIR/logs/$p.log" >&2; exit 1
    fi
  done
  sleep 0.5
done
scraped || { log "Prometheus has not scraped the traffic source after 30 s; see $STATE_DIR/logs"; exit 1; }
log "Prometheus scrapes the traffic source: $PROMETHEUS_URL"
