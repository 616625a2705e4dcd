#!/usr/bin/env bash
# Installs what building, testing and the demo need, from Debian 12 packages, when missing,
# and any packages named as arguments (the benchmark tools: scripts/install-deps.sh hyperfine).
# Run as root (or with sudo). Installs nothing that is already there. (systemd: for
# systemd-analyze and systemd-sysusers in the schedule and packaging tests; prometheus
# (with promtool) and prometheus-node-exporter: the monitoring tests start their own.)
set -euo pipefail

packages=(
    build-essential cmake pkg-config git ca-certificates
    libpqxx-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev catch2
    libssl-dev zlib1g-dev
    postgresql-15 postgresql-client-15 tzdata util-linux gzip time pgbouncer
    dpkg-dev file binutils systemd
    clang-14 libclang-rt-14-dev clang-tidy clang-format
    php-cli php-pgsql php-laravel-framework php-vlucas-phpdotenv
    prometheus prometheus-node-exporter
    "$@"
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
