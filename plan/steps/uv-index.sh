if [ -n "${OH_INDEX_URL:-}" ]; then export UV_INDEX_URL="$OH_INDEX_URL"; fi
if [ -n "${OH_EXTRA_INDEX_URLS:-}" ]; then export UV_EXTRA_INDEX_URL="$OH_EXTRA_INDEX_URLS"; fi
