#!/usr/bin/env bash
# What the image would run, without a Docker engine: the server binary and the site copied
# into an otherwise empty directory, started as the Dockerfile starts it, must serve the page.
source "$(dirname "$0")/env.sh"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/app"
cp -L "$ROOT_DIR/target/release/mesh-egress" "$dir/app/mesh-egress"
# The names of the site's files by content hash, beside the binary (as the Dockerfile copies it).
cp "$(dirname "$(realpath "$ROOT_DIR/target/release/mesh-egress")")/hash.txt" "$dir/app/hash.txt"
cp -rL "$ROOT_DIR/target/site" "$dir/app/site"
port=${IMAGE_SMOKE_PORT:-3190}
(cd "$dir/app" && exec env -i HOME="$dir" PATH=/usr/bin:/bin \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$dir/app/site" LEPTOS_ENV=PROD \
  ./mesh-egress --kubeconfig "$STATE_DIR/kubeconfig" serve) > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
page=$(curl -fsS "http://127.0.0.1:$port/")
grep -q 'smm-demo' <<<"$page" || { log "image smoke: / does not list smm-demo"; cat "$dir/server.log" >&2; exit 1; }
wasm=$(grep -o '/pkg/mesh-egress\.[A-Za-z0-9_-]*\.wasm' <<<"$page" | head -n1)
[ -n "$wasm" ] || { log "image smoke: the page names no hashed WASM bundle"; exit 1; }
headers=$(curl -fsS -D - -o /dev/null -H 'accept-encoding: br' "http://127.0.0.1:$port$wasm") \
  || { log "image smoke: the WASM bundle $wasm is not served"; exit 1; }
grep -qi '^content-encoding: br' <<<"$headers" || { log "image smoke: $wasm is not served pre-compressed"; exit 1; }
grep -qi '^cache-control: .*immutable' <<<"$headers" || { log "image smoke: $wasm is not immutable"; exit 1; }
curl -fsS -o /dev/null "http://127.0.0.1:$port/favicon.ico" || { log "image smoke: favicon.ico is not served"; exit 1; }
log "image smoke: the binary and site alone serve / (with smm-demo), the hashed WASM bundle (brotli, immutable) and the favicon"
