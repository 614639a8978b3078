#!/usr/bin/env bash
# Starts etcd + kube-apiserver on loopback with Istio's CRDs, RBAC and static tokens.
# Idempotent: when the control plane it started is still serving, it only prints the export.
source "$(dirname "$0")/env.sh"
"$TESTENV_DIR/build.sh"

KUBECTL=$KUBE_BIN_DIR/kubectl
mkdir -p "$STATE_DIR"
ln -sfn "$KUBECTL" "$STATE_DIR/kubectl"
KUBECONFIG_FILE=$STATE_DIR/kubeconfig

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
ready() { curl -fsS --max-time 2 --cacert "$STATE_DIR/pki/ca.crt" "$APISERVER_URL/readyz" >/dev/null 2>&1; }

if alive "$STATE_DIR/etcd.pid" && alive "$STATE_DIR/kube-apiserver.pid" && ready \
  && { [ "$TESTENV_ISTIOD" != 1 ] || { alive "$STATE_DIR/istiod.pid" && alive "$STATE_DIR/prometheus.pid" \
    && alive "$STATE_DIR/trafficsource.pid"; }; }; then
  log "already running at $APISERVER_URL"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
  [ "$TESTENV_ISTIOD" != 1 ] || echo "export PROMETHEUS_URL=$PROMETHEUS_URL"
  exit 0
fi
# Something half-up (a crash, a stale pid file): start over cleanly.
"$TESTENV_DIR/down.sh" >/dev/null 2>&1 || true
mkdir -p "$STATE_DIR/pki" "$STATE_DIR/tokens" "$STATE_DIR/logs"
ln -sfn "$KUBECTL" "$STATE_DIR/kubectl"

# --- certificates: our own CA, so clients trust a known root (as envtest does) ----------------
pki=$STATE_DIR/pki
if [ ! -s "$pki/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mesh-egress-testenv-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
fi

# --- static tokens: an admin (system:masters) and a namespace-limited user ----------------------
for user in admin dev; do
  [ -s "$STATE_DIR/tokens/$user" ] || openssl rand -hex 24 > "$STATE_DIR/tokens/$user"
done
{
  echo "$(cat "$STATE_DIR/tokens/admin"),admin,admin-uid,\"system:masters\""
  echo "$(cat "$STATE_DIR/tokens/dev"),dev,dev-uid,\"developers\""
} > "$STATE_DIR/tokens.csv"

# --- etcd ---------------------------------------------------------------------------------------
log "starting etcd on 127.0.0.1:$ETCD_PORT"
setsid "$ETCD_BIN" --name testenv --data-dir "$STATE_DIR/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "testenv=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync \
  --log-level warn > "$STATE_DIR/logs/etcd.log" 2>&1 < /dev/null &
echo $! > "$STATE_DIR/etcd.pid"

"$TESTENV_DIR/start-apiserver.sh"

write_kubeconfig() { # file user token
  cat > "$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: testenv
    cluster:
      server: $APISERVER_URL
      certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
  - name: $2
    user:
      token: $3
contexts:
  - name: testenv-$2
    context: {cluster: testenv, user: $2}
current-context: testenv-$2
KUBECONFIG
  chmod 600 "$1"
}
write_kubeconfig "$KUBECONFIG_FILE" admin "$(cat "$STATE_DIR/tokens/admin")"
write_kubeconfig "$STATE_DIR/kubeconfig-dev" dev "$(cat "$STATE_DIR/tokens/dev")"
export KUBECONFIG=$KUBECONFIG_FILE

# --- CRDs: create (two exceed client-side apply's 256 KiB annotation) and wait for them ---------
log "installing Istio $ISTIO_API_VERSION CRDs ($TESTENV_CRDS set) and Service Mesh Manager's CRDs"
"$KUBECTL" apply --server-side --field-manager testenv -f "$ISTIO_CRD_FILE" >/dev/null
# Service Mesh Manager's real CRDs (IstioControlPlane, IstioMeshGateway, …), vendored with their
# notice: manifests/smm/NOTICE.md.
"$KUBECTL" apply --server-side --field-manager testenv -f "$TESTENV_DIR/manifests/smm/smm-istio-operator-crds-v2.17.4.yaml" >/dev/null
"$KUBECTL" wait --for condition=Established --timeout 60s crd --all >/dev/null
"$KUBECTL" apply --server-side --field-manager testenv -f "$TESTENV_DIR/manifests/rbac.yaml" >/dev/null

if [ "$TESTENV_ISTIOD" = 1 ]; then
  "$TESTENV_DIR/start-istiod.sh"
  "$TESTENV_DIR/start-traffic.sh"
fi

log "ready: $APISERVER_URL (admin kubeconfig $KUBECONFIG_FILE, limited user: $STATE_DIR/kubeconfig-dev)"
echo "export KUBECONFIG=$KUBECONFIG_FILE"
[ "$TESTENV_ISTIOD" != 1 ] || echo "export PROMETHEUS_URL=$PROMETHEUS_URL"
