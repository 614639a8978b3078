#!/usr/bin/env bash
# Starts kube-apiserver against the running etcd (used by up.sh, and by tests that take the
# API server away and bring it back). Waits for /readyz.
source "$(dirname "$0")/env.sh"
pki=$STATE_DIR/pki
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
ready() { curl -fsS --max-time 2 --cacert "$pki/ca.crt" "$APISERVER_URL/readyz" >/dev/null 2>&1; }
log "starting kube-apiserver $K8S_VERSION on $APISERVER_URL"
setsid "$KUBE_BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --service-account-issuer "$APISERVER_URL/" \
  --service-account-key-file "$pki/sa.key" --service-account-signing-key-file "$pki/sa.key" \
  --token-auth-file "$STATE_DIR/tokens.csv" \
  --authorization-mode RBAC --service-cluster-ip-range 10.0.0.0/24 \
  --disable-admission-plugins ServiceAccount --allow-privileged=true \
  --endpoint-reconciler-type none \
  >> "$STATE_DIR/logs/kube-apiserver.log" 2>&1 < /dev/null &
echo $! > "$STATE_DIR/kube-apiserver.pid"

for _ in $(seq 1 120); do
  ready && break
  if ! alive "$STATE_DIR/kube-apiserver.pid"; then
    log "kube-apiserver exited; last lines of $STATE_DIR/logs/kube-apiserver.log:"
    tail -n 20 "$STATE_DIR/logs/kube-apiserver.log" >&2
    exit 1
  fi
  sleep 0.5
done
ready || { log "kube-apiserver is not ready after 60 s; see $STATE_DIR/logs/kube-apiserver.log"; exit 1; }

