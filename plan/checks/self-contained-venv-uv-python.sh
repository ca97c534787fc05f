real=$(readlink -f "$OH_AGENT_PY") installs=$(readlink -f "$OH_UV_PYTHON")
case $real in
"$installs"/*) echo "$OH_AGENT_PY runs $real, installed by uv" ;;
*)
	echo "$OH_AGENT_PY runs $real, not a Python uv installed in $OH_UV_PYTHON"
	exit 1
	;;
esac
