# The reference caching proxy: Debian's nginx with the cache-purge module, so app nodes
# can drop a taken-down GIF from the cache at once (deploy/nginx.conf).
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      nginx libnginx-mod-http-cache-purge \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/cache/nginx
CMD ["nginx", "-g", "daemon off;"]
