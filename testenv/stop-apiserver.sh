#!/usr/bin/env bash
# Stops only kube-apiserver (etcd and the data stay): for tests of a lost cluster connection.
source "$(dirname "$0")/env.sh"
stop_pidfile "$STATE_DIR/kube-apiserver.pid"
log "kube-apiserver stopped"
