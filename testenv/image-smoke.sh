#!/usr/bin/env bash
# What the image would run, without a Docker engine: the server binary and the site copied
# into an otherwise empty directory, started as the Dockerfile starts it, must serve the page.
source "$(dirname "$0")/env.sh"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/app"
cp -L "$ROOT_DIR/target/release/mesh-egress" "$dir/app/mesh-egress"
cp -rL "$ROOT_DIR/target/site" "$dir/app/site"
port=${IMAGE_SMOKE_PORT:-3190}
(cd "$dir/app" && exec env -i HOME="$dir" PATH=/usr/bin:/bin \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$dir/app/site" LEPTOS_ENV=PROD \
  ./mesh-egress --kubeconfig "$STATE_DIR/kubeconfig" serve) > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
page=$(curl -fsS "http://127.0.0.1:$port/")
grep -q 'smm-demo' <<<"$page" || { log "image smoke: / does not list smm-demo"; cat "$dir/server.log" >&2; exit 1; }
curl -fsS -o /dev/null "http://127.0.0.1:$port/pkg/mesh-egress.wasm" || { log "image smoke: the WASM bundle is not served"; exit 1; }
curl -fsS -o /dev/null "http://127.0.0.1:$port/favicon.ico" || { log "image smoke: favicon.ico is not served"; exit 1; }
log "image smoke: the binary and site alone serve / (with smm-demo), the WASM bundle and the favicon"
