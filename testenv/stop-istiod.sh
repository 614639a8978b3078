#!/usr/bin/env bash
# Stops only istiod (the API server and its data stay): for tests of istiod going away. start-istiod.sh starts it again.
source "$(dirname "$0")/env.sh"
pidfile=$STATE_DIR/istiod.pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
rm -f "$pidfile"
log "istiod stopped"
