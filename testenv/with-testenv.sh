#!/usr/bin/env bash
# Runs a command with the test control plane up; brings it down afterwards if it started it.
source "$(dirname "$0")/env.sh"
started=no
if ! { [ -f "$STATE_DIR/kube-apiserver.pid" ] && kill -0 "$(cat "$STATE_DIR/kube-apiserver.pid")" 2>/dev/null; }; then
  started=yes
fi
cleanup() { if [ "$started" = yes ]; then "$TESTENV_DIR/down.sh"; fi; }
trap cleanup EXIT
"$TESTENV_DIR/up.sh" >/dev/null
export KUBECONFIG=$STATE_DIR/kubeconfig
"$@"
