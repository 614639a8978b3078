#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from Go modules and fetches the CRDs, into the cache.
# Each is rebuilt only when its version changes (the version is part of its cache path).
source "$(dirname "$0")/env.sh"

build_kube() {
  if [ -x "$KUBE_BIN_DIR/kube-apiserver" ] && [ -x "$KUBE_BIN_DIR/kubectl" ]; then return; fi
  log "building kube-apiserver and kubectl $K8S_VERSION from k8s.io/kubernetes (first time: several minutes)"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local tmp="$KUBE_BIN_DIR.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$TESTENV_DIR/kube" && go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    -o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
  rm -rf "$KUBE_BIN_DIR" && mv "$tmp" "$KUBE_BIN_DIR"
}

build_etcd() {
  if [ -x "$ETCD_BIN" ]; then return; fi
  log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  local dir; dir=$(dirname "$ETCD_BIN")
  mkdir -p "$dir"
  (cd "$TESTENV_DIR/etcd" && go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp" .)
  mv "$ETCD_BIN.tmp" "$ETCD_BIN"
}

# Copies a file out of a Go module version, fetched through the Go module proxy.
module_file() { # module version path-in-module destination
  local dest=$4
  if [ -s "$dest" ]; then return; fi
  mkdir -p "$(dirname "$dest")"
  local dir
  dir=$(cd /tmp && go mod download -json "$1@$2" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  if [ -z "$dir" ] || [ ! -f "$dir/$3" ]; then
    log "cannot fetch $3 from $1@$2 through the Go module proxy"; return 1
  fi
  cp "$dir/$3" "$dest.tmp" && mv "$dest.tmp" "$dest"
}

build_istiod() {
  if [ "$TESTENV_ISTIOD" != 1 ] || [ -x "$ISTIOD_BIN" ]; then return; fi
  log "building pilot-discovery (istiod) $ISTIO_VERSION from istio.io/istio (first time: several minutes)"
  mkdir -p "$(dirname "$ISTIOD_BIN")"
  # NB: tag disable_pgv drops protoc-gen-validate code istiod does not need; never `agent`.
  (cd "$TESTENV_DIR/istiod" && go build -trimpath -tags disable_pgv -ldflags "-s -w" \
    -o "$ISTIOD_BIN.tmp" istio.io/istio/pilot/cmd/pilot-discovery)
  mv "$ISTIOD_BIN.tmp" "$ISTIOD_BIN"
}

build_trafficsource() {
  if [ "$TESTENV_ISTIOD" != 1 ] || [ -x "$TRAFFIC_BIN" ]; then return; fi
  log "building the traffic source (istio.io/istio's ADS client) $TRAFFIC_SRC_HASH"
  mkdir -p "$(dirname "$TRAFFIC_BIN")"
  (cd "$TESTENV_DIR/istiod" && go build -trimpath -tags disable_pgv -ldflags "-s -w" \
    -o "$TRAFFIC_BIN.tmp" ./trafficsource)
  mv "$TRAFFIC_BIN.tmp" "$TRAFFIC_BIN"
}

# Prometheus: Debian's package, unpacked (not installed: no service, no root needed to run it).
fetch_prometheus() {
  if [ "$TESTENV_ISTIOD" != 1 ] || [ -x "$PROMETHEUS_BIN" ]; then return; fi
  log "fetching Debian's prometheus $PROMETHEUS_DEB_VERSION"
  local dir; dir=$(dirname "$(dirname "$(dirname "$PROMETHEUS_BIN")")")
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q "prometheus=$PROMETHEUS_DEB_VERSION" >/dev/null 2>&1) \
    || { log "apt-get download prometheus=$PROMETHEUS_DEB_VERSION failed (is Debian's archive reachable?)"; rm -rf "$tmp"; return 1; }
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  dpkg-deb -x "$tmp"/prometheus_*.deb "$dir.tmp"
  rm -rf "$tmp" "$dir" && mv "$dir.tmp" "$dir"
}

build_kube
build_etcd
build_istiod
build_trafficsource
fetch_prometheus
module_file istio.io/api "$ISTIO_API_VERSION" kubernetes/customresourcedefinitions.gen.yaml \
  "$CRD_DIR/istio-$ISTIO_API_VERSION.yaml"
if [ "$TESTENV_CRDS" = smm ] && [ ! -s "$ISTIO_CRD_FILE" ]; then
  (cd "$TESTENV_DIR/kube" && go run ./smmcrds "$CRD_DIR/istio-$ISTIO_API_VERSION.yaml" "$ISTIO_CRD_FILE.tmp")
  mv "$ISTIO_CRD_FILE.tmp" "$ISTIO_CRD_FILE"
fi
