# syntax=docker/dockerfile:1
# Build: the Atomix Raft dependencies (dragonboat, pebble) need cgo, so the
# binary links glibc dynamically; build and runtime stages use the same Debian
# release so the runtime glibc matches.
ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=trixie

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/atomix-failover .

# Runtime: debian-slim rather than distroless because `kubectl cp` needs tar in
# the container and the Deployment's wrapper needs /bin/sh.
FROM debian:${DEBIAN_RELEASE}-slim
RUN groupadd --gid 65532 app \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /app/logs \
 && chown -R 65532:65532 /app
COPY --from=build /out/atomix-failover /usr/local/bin/atomix-failover
WORKDIR /app
USER 65532:65532
# Relative default --out: /app/logs/enhanced-failover-test-results.log
ENTRYPOINT ["/usr/local/bin/atomix-failover"]
