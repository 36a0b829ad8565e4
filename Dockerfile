# Lapis as an image: the `lapis` binary of crates/lapis-server on a small Debian runtime.
# Build context: the repository root (the server is a member of the cargo workspace):
#   docker build -t ghcr.io/homelab-lan/lapis:0.1.0 .
# deploy/lapis/ runs it; conformance/deploy/test_dockerfiles.py checks that every COPY source
# exists and that the ENTRYPOINT is the binary built here.

# Stage 1: the server. The same toolchain as the repository's (rustc 1.95) on the same Debian
# release as the runtime stage, so the binary's glibc is the one it runs with.
FROM rust:1.95-slim-bookworm AS build
# The bundled SQLite is compiled with cc and jemalloc's build runs make.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Every workspace member's manifest must be present for cargo to load the workspace;
# .cargo/config.toml carries the SQLite build flags.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY crates crates
COPY benches benches
RUN cargo build --release --locked -p lapis-server --bin lapis \
    && strip target/release/lapis

# Stage 2: the runtime. debian-slim rather than distroless so the tag can be pinned to a point
# release; the binary needs only glibc and libgcc_s, both in it. Pin by digest when publishing.
FROM debian:12.11-slim
# A numeric user (no passwd entry needed) so Kubernetes' runAsNonRoot can verify it; the
# manifests in deploy/lapis/ set the same ids.
RUN mkdir -p /data && chown 65532:65532 /data
COPY --from=build /src/target/release/lapis /usr/local/bin/lapis
USER 65532:65532
# The data folder (lapis.sqlite, its WAL, extents/, reserve.space): a volume, so it outlives
# the container. SQLite's temporary files go to TMPDIR (/tmp): a tmpfs/emptyDir in Kubernetes.
VOLUME ["/data"]
ENV TMPDIR=/tmp
# Blob, Queue, Table, admin (/metrics, /healthz, /readyz).
EXPOSE 10000 10001 10002 10010
# Listen on every interface (the defaults are 127.0.0.1, unreachable from outside the container),
# name the admin port so a taken port fails the start instead of the probes, JSON logs for Loki.
# Accounts other than devstoreaccount1 come from the AZURITE_ACCOUNTS environment variable.
ENTRYPOINT ["/usr/local/bin/lapis", \
    "--blobHost", "0.0.0.0", "--queueHost", "0.0.0.0", "--tableHost", "0.0.0.0", \
    "--adminHost", "0.0.0.0", "--adminPort", "10010", \
    "--location", "/data", "--logFormat", "json"]
