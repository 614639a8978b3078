#!/usr/bin/env bash
# Stops exactly the processes up.sh started (by pid file) and removes their data.
source "$(dirname "$0")/env.sh"
stop() { # pid-file
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
stop "$STATE_DIR/prometheus.pid"
stop "$STATE_DIR/trafficsource.pid"
stop "$STATE_DIR/istiod.pid"
stop "$STATE_DIR/kube-apiserver.pid"
stop "$STATE_DIR/etcd.pid"
rm -rf "$STATE_DIR/etcd-data" "$STATE_DIR/pki" "$STATE_DIR/tokens" "$STATE_DIR/tokens.csv" \
  "$STATE_DIR/kubeconfig" "$STATE_DIR/kubeconfig-dev" "$STATE_DIR/logs" "$STATE_DIR/istiod" \
  "$STATE_DIR/prometheus" "$TRAFFIC_DIR"
log "stopped"
