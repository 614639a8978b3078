#!/usr/bin/env bash
# Starts the real istiod (pilot-discovery) against the test control plane: loopback only, from
# an empty working directory, watching istio-system/istio (no mesh file), TLS from the testenv
# CA, CA server and injection off; then registers its validating webhook the way Istio's
# `istiod-default-validator` does, and waits for /ready.
source "$(dirname "$0")/env.sh"
pki=$STATE_DIR/pki
KUBECTL=$KUBE_BIN_DIR/kubectl
export KUBECONFIG=$STATE_DIR/kubeconfig

if [ ! -s "$pki/istiod.crt" ]; then
  openssl req -newkey rsa:2048 -nodes -subj "/CN=istiod" \
    -keyout "$pki/istiod.key" -out "$pki/istiod.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:istiod.istio-system.svc\nextendedKeyUsage=serverAuth\n' > "$pki/istiod.ext"
  openssl x509 -req -in "$pki/istiod.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/istiod.ext" -out "$pki/istiod.crt" 2>/dev/null
fi
"$KUBECTL" create namespace istio-system --dry-run=client -o yaml | "$KUBECTL" apply --server-side --field-manager testenv -f - >/dev/null

workdir=$STATE_DIR/istiod
rm -rf "$workdir" && mkdir -p "$workdir"
log "starting istiod $ISTIO_VERSION (debug http://127.0.0.1:$ISTIOD_HTTP_PORT, webhook https://127.0.0.1:$ISTIOD_HTTPS_PORT)"
(cd "$workdir" && exec setsid env \
  POD_NAMESPACE=istio-system POD_NAME=istiod-testenv REVISION=default \
  ENABLE_CA_SERVER=false INJECTION_WEBHOOK_CONFIG_NAME= VALIDATION_WEBHOOK_CONFIG_NAME= \
  PILOT_ENABLE_GATEWAY_API=false PILOT_ENABLE_GATEWAY_API_STATUS=false \
  PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER=false ISTIOD_CUSTOM_HOST=127.0.0.1 \
  "$ISTIOD_BIN" discovery \
    --kubeconfig "$STATE_DIR/kubeconfig" \
    --meshConfig "$workdir/no-mesh-file" --networksConfig "$workdir/no-networks-file" \
    --httpAddr "127.0.0.1:$ISTIOD_HTTP_PORT" --httpsAddr "127.0.0.1:$ISTIOD_HTTPS_PORT" \
    --grpcAddr "127.0.0.1:$ISTIOD_GRPC_PORT" --secureGRPCAddr "" \
    --monitoringAddr "127.0.0.1:$ISTIOD_MONITORING_PORT" \
    --tlsCertFile "$pki/istiod.crt" --tlsKeyFile "$pki/istiod.key" --caCertFile "$pki/ca.crt" \
    --domain cluster.local --keepaliveMaxServerConnectionAge 30m \
  ) >> "$STATE_DIR/logs/istiod.log" 2>&1 < /dev/null &
echo $! > "$STATE_DIR/istiod.pid"

ready() { curl -fsS --max-time 2 "http://127.0.0.1:$ISTIOD_HTTP_PORT/ready" >/dev/null 2>&1; }
for _ in $(seq 1 120); do
  ready && break
  if ! kill -0 "$(cat "$STATE_DIR/istiod.pid")" 2>/dev/null; then
    log "istiod exited; last lines of $STATE_DIR/logs/istiod.log:"; tail -n 20 "$STATE_DIR/logs/istiod.log" >&2; exit 1
  fi
  sleep 0.5
done
ready || { log "istiod is not ready after 60 s; see $STATE_DIR/logs/istiod.log"; exit 1; }

sed -e "s|@PORT@|$ISTIOD_HTTPS_PORT|" -e "s|@CA_BUNDLE@|$(base64 -w0 < "$pki/ca.crt")|" \
  "$TESTENV_DIR/manifests/istiod-webhook.yaml" \
  | "$KUBECTL" apply --server-side --field-manager testenv -f - >/dev/null
log "istiod ready; its validating webhook judges every Istio write"
