set --
for package in @PACKAGES@; do
	set -- "$@" "$package==$OH_AGENT_SERVER_VERSION"
done
# shellcheck disable=SC2086 # one word per package
oh_retry "$OH_UV" pip install @UV_PIP_INSTALL@ "$@" $OH_EXTRA_PIP_PACKAGES
