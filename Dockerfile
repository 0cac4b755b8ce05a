# mtxmon in a container: `docker build -t mtxmon .`, or `docker compose up -d --build` with compose.yaml.
# Not built or run on the development machines (they have no Docker engine); hadolint checks this file.

# Build stage: the Swift toolchain, and the headers of the two C libraries mtxmon links.
FROM swift:6.3-bookworm AS build
# Debian's versions are not pinned: its stable release only takes fixes, and old ones leave the archive.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis-dev libsqlite3-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The Swift runtime and Foundation are linked in, so the runtime image needs no Swift.
RUN swift build -c release --product mtxmon --static-swift-stdlib \
    && install -m 0755 "$(swift build -c release --show-bin-path)/mtxmon" /usr/local/bin/mtxmon

# Runtime stage: Debian slim with the shared libraries the binary still loads, run as a system user.
FROM debian:bookworm-slim
# A fixed uid/gid (10001), so the volume's owner and USER mean the same on every host.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis0.14 libsqlite3-0 libcurl4 libstdc++6 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mediamtxmon \
    && useradd --system --uid 10001 --gid mediamtxmon --home-dir /var/lib/mtxmon --no-create-home --shell /usr/sbin/nologin mediamtxmon \
    && install -d -o mediamtxmon -g mediamtxmon -m 0750 /var/lib/mtxmon
COPY --from=build /usr/local/bin/mtxmon /usr/local/bin/mtxmon
USER 10001:10001
WORKDIR /var/lib/mtxmon
# Inside a container the API listens on every interface; publish the port on the host's loopback
# (compose.yaml does) or set MTXMON_API_TOKEN.
ENV MTXMON_DB=/var/lib/mtxmon/mtxmon.sqlite \
    MTXMON_LISTEN=0.0.0.0:9990
VOLUME ["/var/lib/mtxmon"]
EXPOSE 9990
# /healthz without curl: `mtxmon healthcheck` exits 0 on 200. `serve` alone reports unhealthy until a collector polls.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["mtxmon", "healthcheck"]
ENTRYPOINT ["mtxmon"]
CMD ["run"]
