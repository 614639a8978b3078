#!/usr/bin/env bash
# Stops only istiod (the API server and its data stay): for tests of istiod going away. start-istiod.sh starts it again.
source "$(dirname "$0")/env.sh"
stop_pidfile "$STATE_DIR/istiod.pid"
log "istiod stopped"
