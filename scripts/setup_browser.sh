#!/usr/bin/env bash
# Debian's Chromium (and CJK fonts, so Chinese renders) for the widget's browser tests.
# Playwright drives it via executable_path; `playwright install` would download a browser
# build of its own, which this project never does.
set -euo pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" || packages+=(fonts-noto-cjk)
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "浏览器测试需要 ${packages[*]}：请以 root 运行 scripts/setup_browser.sh（或 sudo apt-get install ${packages[*]}）" >&2
    exit 1
fi
echo "==> apt-get install ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
