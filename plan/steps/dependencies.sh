set -- --python "$OH_ENV_PY" --no-cache
@UV_INDEX@
@LOCK@
# uv, not pip: pip install -e . skips the dependencies of a poetry-core project.
# shellcheck disable=SC2086 # one word per package
oh_retry "$OH_MM" run -n "$OH_ENV" "$OH_UV" pip install "$@" -e . $OH_EXTRA_PIP_PACKAGES
