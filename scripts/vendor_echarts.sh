#!/usr/bin/env bash
# Vendors Apache ECharts for the workbench dashboard: one minified file and its licence, served by
# the gateway from channels/static/vendor/ (nothing is fetched when a page loads).
#
# How it was fetched: `npm pack echarts@5.x` downloads the published tarball from the npm registry
# (no install, no build); dist/echarts.min.js, LICENSE and NOTICE are copied out of it and the
# version and the tarball's sha512 integrity are recorded in echarts.VERSION.txt.
# Rerun to move to the newest 5.x release; review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."

spec="${1:-echarts@5.x}"
dest=channels/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack "$spec" --json --silent > pack.json)
tarball=$(cd "$work" && node -e 'console.log(require("./pack.json")[0].filename)')
version=$(cd "$work" && node -e 'console.log(require("./pack.json")[0].version)')
integrity=$(cd "$work" && node -e 'console.log(require("./pack.json")[0].integrity)')
tar -xzf "$work/$tarball" -C "$work"

mkdir -p "$dest"
cp "$work/package/dist/echarts.min.js" "$dest/echarts.min.js"
cp "$work/package/LICENSE" "$dest/echarts.LICENSE.txt"
[ -f "$work/package/NOTICE" ] && cp "$work/package/NOTICE" "$dest/echarts.NOTICE.txt"
printf 'echarts %s\nfrom: npm pack %s (registry.npmjs.org)\nintegrity: %s\n' \
    "$version" "$spec" "$integrity" > "$dest/echarts.VERSION.txt"
echo "vendored echarts $version into $dest"
