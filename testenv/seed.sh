#!/usr/bin/env bash
# Seeds the demo state into the running test control plane. Idempotent (server-side apply);
# it resets what the demo owns (the mesh config too), so each e2e run starts from the seed.
source "$(dirname "$0")/env.sh"
export KUBECONFIG=${KUBECONFIG:-$STATE_DIR/kubeconfig}
"$KUBE_BIN_DIR/kubectl" apply --server-side --force-conflicts --field-manager mesh-egress-demo \
  -f "$TESTENV_DIR/manifests/demo.yaml" >/dev/null
log "demo data seeded"
