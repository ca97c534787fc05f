set -f # package specs such as ?ripgrep are words, not patterns
# shellcheck disable=SC2086 # one word per package
missing=$(oh_missing_packages $OH_SYSTEM_PACKAGES)
# The builder runs this step without its check: with nothing missing, no repository refresh
# (which fails without network) and no install.
if [ -z "$missing" ]; then
	oh_say "every package is installed"
	return 0
fi
oh_say "missing: $(printf '%s' "$missing" | tr '\n' ' ')"
oh_pkg_refresh
wanted="" unavailable=""
for spec in $missing; do
	pick=$(oh_pick_available "$spec")
	# Only an optional package the repositories lack picks nothing.
	[ -n "$pick" ] || unavailable="$unavailable${spec#\?}
"
	wanted="$wanted $pick"
done
install -d -m 0755 "$OH_STAMPS"
printf '%s' "$unavailable" >"$OH_STAMPS/unavailable-packages"
if [ -n "${wanted// /}" ]; then
	# shellcheck disable=SC2086 # one word per package
	oh_retry oh_pkg_install $wanted
fi
oh_pkg_clean
