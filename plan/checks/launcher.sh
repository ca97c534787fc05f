cd "$OH_CODE" || exit 1
# Without bytecode: the check must leave no root-owned __pycache__ in the code directory.
out=$(@LAUNCH_ENV@ PYTHONDONTWRITEBYTECODE=1 @LAUNCHER@ --help 2>&1) || { printf '%s\n' "$out" | tail -n 5; exit 1; }
echo "the launcher's command with --help exits 0 as root with only the launch environment"
