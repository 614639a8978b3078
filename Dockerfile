# mesh-egress: the server binary and its site, on a minimal non-root runtime image.
# Build: docker build -t mesh-egress .   (the same steps as `make build`)

# wasm-opt from npm's binaryen: Debian's (108) yields WASM that never hydrates.
FROM node:20-bookworm-slim AS binaryen
RUN npm install --global --no-fund --no-audit binaryen@132.0.0

FROM rust:1.95-bookworm AS builder
COPY --from=binaryen /usr/local/bin/node /usr/local/bin/node
COPY --from=binaryen /usr/local/lib/node_modules/binaryen /opt/binaryen
ENV PATH=/opt/binaryen/bin:$PATH
RUN rustup target add wasm32-unknown-unknown \
    && cargo install cargo-leptos@0.3.10 --locked \
    && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
RUN cargo leptos build --release --cargo-locked --precompress --split

FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=builder /src/target/release/mesh-egress /app/mesh-egress
COPY --from=builder /src/target/release/hash.txt /app/hash.txt
COPY --from=builder /src/target/site /app/site
ENV LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_ENV=PROD
# distroless's "nonroot" user, by number so the kubelet can check runAsNonRoot.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/app/mesh-egress"]
CMD ["serve"]
