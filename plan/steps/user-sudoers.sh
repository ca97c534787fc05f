tmp=$(mktemp)
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$OH_USER" >"$tmp"
visudo -cf "$tmp" >/dev/null || { rm -f "$tmp"; oh_die "the sudoers drop-in for $OH_USER does not pass visudo -c"; }
install -d -m 0750 /etc/sudoers.d
install -m 0440 "$tmp" "/etc/sudoers.d/$OH_USER"
rm -f "$tmp"
