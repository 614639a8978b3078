#!/usr/bin/env bash
# Stops exactly the processes up.sh started (by pid file) and removes their data.
source "$(dirname "$0")/env.sh"
stop_pidfile "$STATE_DIR/prometheus.pid"
stop_pidfile "$STATE_DIR/trafficsource.pid"
stop_pidfile "$STATE_DIR/istiod.pid"
stop_pidfile "$STATE_DIR/kube-apiserver.pid"
stop_pidfile "$STATE_DIR/etcd.pid"
rm -rf "$STATE_DIR/etcd-data" "$STATE_DIR/pki" "$STATE_DIR/tokens" "$STATE_DIR/tokens.csv" \
  "$STATE_DIR/kubeconfig" "$STATE_DIR/kubeconfig-dev" "$STATE_DIR/logs" "$STATE_DIR/istiod" \
  "$STATE_DIR/prometheus" "$TRAFFIC_DIR" "$STATE_DIR/bench-kept"
log "stopped"
