#!/usr/bin/env bash
# Debian's nginx, the load balancer of the scaled setting (make run-scaled, the fault and scale
# benchmarks, and their tests). Only the binary is used: the project starts it with its own
# configuration (deploy/nginx/scaled.conf); the Debian service is stopped and left disabled.
set -euo pipefail

command -v nginx >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "多副本运行需要 nginx：请以 root 运行 scripts/setup_nginx.sh（或 sudo apt-get install nginx）" >&2
    exit 1
fi
echo "==> apt-get install nginx"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nginx >/dev/null
}
# The package starts a default site on :80 where it can; this project does not use it.
if command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1 || true; fi
