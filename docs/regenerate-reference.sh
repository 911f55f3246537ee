#!/bin/sh
# Rewrites the generated component reference in docs/scenario-format.md from `dsim reference`.
# Usage: docs/regenerate-reference.sh [path/to/dsim]   (default: build/engine/dsim)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dsim=${1:-"$here/../build/engine/dsim"}
doc="$here/scenario-format.md"
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
"$dsim" reference >"$ref"
awk -v ref="$ref" '
  /<!-- BEGIN GENERATED: dsim reference -->/ { print; while ((getline line < ref) > 0) print line; skip = 1; next }
  /<!-- END GENERATED: dsim reference -->/ { skip = 0 }
  !skip { print }
' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
