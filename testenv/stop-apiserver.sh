#!/usr/bin/env bash
# Stops only kube-apiserver (etcd and the data stay): for tests of a lost cluster connection.
source "$(dirname "$0")/env.sh"
pidfile=$STATE_DIR/kube-apiserver.pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
rm -f "$pidfile"
log "kube-apiserver stopped"
