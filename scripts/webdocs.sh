#!/usr/bin/env bash
# Lays the rendered docs (packer-sdc renderdocs output in $1) out as the Packer integrations
# site reads them in .web-docs/: README.md, and components/<type>/<name>/README.md without
# the front matter, which the site takes from .web-docs/metadata.hcl instead. The guides
# (docs/guides/) and docs/CLAIMS.md have no place in that layout and include no partials: they
# are read in the repository, so nothing of them is copied here.
set -euo pipefail
rendered=$1
out=.web-docs
find "$out" -mindepth 1 ! -name metadata.hcl -delete 2>/dev/null || true
mkdir -p "$out"
cp "$rendered/README.md" "$out/README.md"
for dir in builders provisioners post-processors datasources; do
	[ -d "$rendered/$dir" ] || continue
	for page in "$rendered/$dir"/*.mdx; do
		name=$(basename "$page" .mdx)
		dest="$out/components/${dir%s}/$name"
		mkdir -p "$dest"
		# drop the front matter: the first block between two --- lines
		awk 'NR == 1 && $0 == "---" {fm = 1; next} fm && $0 == "---" {fm = 0; next} !fm' "$page" >"$dest/README.md"
	done
done
