# Playwright's --with-deps only knows apt.
# shellcheck disable=SC2086 # one word per package
oh_retry dnf install -y $OH_BROWSER_LIBRARIES
oh_retry "$OH_MM" run -n "$OH_ENV" python -m playwright install chromium
