# Shared settings of the test control plane; sourced by the other scripts.
# Everything built or downloaded goes to a cache outside the clone; the running state of one
# control plane lives in the clone's target/testenv.
set -euo pipefail
TESTENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$TESTENV_DIR/.." && pwd)
CACHE_DIR=${MESH_EGRESS_CACHE:-$HOME/.cache/mesh-egress}
STATE_DIR=${TESTENV_STATE_DIR:-$ROOT_DIR/target/testenv}

# Versions: Kubernetes comes from testenv/kube/go.mod, etcd from testenv/etcd/go.mod.
K8S_VERSION=$(sed -n 's/^\s*k8s.io\/kubernetes \(v[0-9.]*\).*/\1/p' "$TESTENV_DIR/kube/go.mod" | head -n1)
ETCD_VERSION=$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\).*/\1/p' "$TESTENV_DIR/etcd/go.mod" | head -n1)
ISTIO_API_VERSION=v1.32.0

KUBE_BIN_DIR=$CACHE_DIR/go-bin/kubernetes-$K8S_VERSION
ETCD_BIN=$CACHE_DIR/go-bin/etcd-$ETCD_VERSION/etcd
CRD_DIR=$CACHE_DIR/crds

# istiod (pilot-discovery) from istio.io/istio, version from testenv/istiod/go.mod.
ISTIO_VERSION=$(sed -n 's/^[[:space:]]*istio.io\/istio \(v[^ ]*\).*/\1/p' "$TESTENV_DIR/istiod/go.mod" | head -n1)
ISTIOD_BIN=$CACHE_DIR/go-bin/istiod-${ISTIO_VERSION#v0.0.0-}/pilot-discovery
# Run istiod (its validating webhook and its view of the mesh config) beside the apiserver.
TESTENV_ISTIOD=${TESTENV_ISTIOD:-1}
ISTIOD_HTTP_PORT=${TESTENV_ISTIOD_HTTP_PORT:-15080}
ISTIOD_HTTPS_PORT=${TESTENV_ISTIOD_HTTPS_PORT:-15017}
ISTIOD_GRPC_PORT=${TESTENV_ISTIOD_GRPC_PORT:-15010}
ISTIOD_MONITORING_PORT=${TESTENV_ISTIOD_MONITORING_PORT:-15014}

# Traffic: the traffic source (testenv/istiod/trafficsource, built in the istiod module) plays the
# scenario files in $TRAFFIC_DIR through istiod's xDS and serves Istio's metrics, which a real
# Prometheus (Debian's package, unpacked into the cache) scrapes every 2 s.
TRAFFIC_PORT=${TESTENV_TRAFFIC_PORT:-15090}
TRAFFIC_DIR=$STATE_DIR/traffic
TRAFFIC_SRC_HASH=$(cat "$TESTENV_DIR"/istiod/trafficsource/*.go "$TESTENV_DIR/istiod/go.sum" | sha256sum | cut -c1-12)
TRAFFIC_BIN=$CACHE_DIR/go-bin/trafficsource-$TRAFFIC_SRC_HASH/trafficsource
PROMETHEUS_DEB_VERSION=2.42.0+ds-5+deb12u1
PROMETHEUS_BIN=$CACHE_DIR/prometheus-$PROMETHEUS_DEB_VERSION/usr/bin/prometheus
PROMETHEUS_PORT=${TESTENV_PROMETHEUS_PORT:-19090}
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT

ETCD_PORT=${TESTENV_ETCD_PORT:-23791}
ETCD_PEER_PORT=${TESTENV_ETCD_PEER_PORT:-23801}
APISERVER_PORT=${TESTENV_APISERVER_PORT:-16443}
APISERVER_URL=https://127.0.0.1:$APISERVER_PORT

export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CGO_ENABLED=0

log() { printf 'testenv: %s\n' "$*" >&2; }

# The CRD set: "istio" (Istio's current CRDs: networking.istio.io v1, v1beta1, v1alpha3) or
# "smm" (as Service Mesh Manager's Istio 1.17 serves them: v1beta1 and v1alpha3, no v1).
TESTENV_CRDS=${TESTENV_CRDS:-istio}
case "$TESTENV_CRDS" in
  istio) ISTIO_CRD_FILE=$CRD_DIR/istio-$ISTIO_API_VERSION.yaml ;;
  smm) ISTIO_CRD_FILE=$CRD_DIR/istio-$ISTIO_API_VERSION-smm.yaml ;;
  *) echo "testenv: TESTENV_CRDS must be istio or smm, not $TESTENV_CRDS" >&2; exit 2 ;;
esac

# Stops the process of a pid file (TERM, then KILL after 5 s) and removes the file.
stop_pidfile() { # pid-file
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
