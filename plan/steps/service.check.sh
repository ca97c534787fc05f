[ ! -d /run/systemd/system ] || { cmp -s /etc/systemd/system/@UNIT@ - <<-'UNIT' && systemctl is-enabled --quiet @UNIT@
@UNIT_FILE@
UNIT
}
