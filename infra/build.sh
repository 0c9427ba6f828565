#!/usr/bin/env bash
# Builds every function for Lambda (release, arm64, with cargo-lambda and zig from
# infra/tools.sh) and prints each one's zipped size, the figure DESIGN.md holds to 4 MB:
#
#   infra/build.sh            # all of functions/
#   infra/build.sh get-cart   # some
#
# The functions build in one cargo invocation, so each dependency compiles once for all of them.
# The zips are the ones `sam deploy` would upload: target/lambda/<function>/bootstrap.zip.
set -euo pipefail
cd "$(dirname "$0")/.."

PATH="$(infra/tools.sh):$PATH"
if [ $# -gt 0 ]; then functions=("$@"); else
  functions=(); for dir in functions/*/; do functions+=("$(basename "$dir")"); done
fi

packages=(); for f in "${functions[@]}"; do packages+=(-p "$f"); done
started=$SECONDS
cargo lambda build --release --arm64 --locked --output-format zip "${packages[@]}" >&2
echo "built ${#functions[@]} functions in $((SECONDS - started)) s" >&2

limit=$((4 * 1024 * 1024))
over=0
printf '| function | bootstrap | zipped |\n|---|---:|---:|\n'
for f in "${functions[@]}"; do
  zip="target/lambda/$f/bootstrap.zip"
  zipped=$(stat -c %s "$zip")
  unzipped=$(unzip -Zt "$zip" | awk '{print $3}')
  awk -v f="$f" -v u="$unzipped" -v z="$zipped" \
    'BEGIN { printf "| %s | %.1f MB | %.2f MB |\n", f, u / 1048576, z / 1048576 }'
  [ "$zipped" -le "$limit" ] || over=$((over + 1))
done
if [ "$over" -gt 0 ]; then
  echo "$over function(s) over 4 MB zipped" >&2
fi
