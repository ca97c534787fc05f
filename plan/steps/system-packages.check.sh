set -f # package specs such as ?ripgrep are words, not patterns
# shellcheck disable=SC2086 # one word per package
for spec in $(oh_missing_packages $OH_SYSTEM_PACKAGES); do
	case $spec in
	\?*) grep -qxF "${spec#\?}" "$OH_STAMPS/unavailable-packages" 2>/dev/null || exit 1 ;;
	*) exit 1 ;;
	esac
done
