tini=$(command -v tini || echo "$OH_TINI")
"$tini" --version
