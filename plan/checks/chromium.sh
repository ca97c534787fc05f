found=$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)
echo "${found:-no chromium-* under $PLAYWRIGHT_BROWSERS_PATH}"
[ -n "$found" ]
