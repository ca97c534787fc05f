real=$(readlink -f "$OH_AGENT_PY") env_real=$(readlink -f "$OH_ENV_PY")
if [ "$real" != "$env_real" ]; then
	echo "$OH_AGENT_PY runs $real, not the micromamba environment's $OH_ENV_PY ($env_real)"
	exit 1
fi
echo "$OH_AGENT_PY runs the micromamba environment's $OH_ENV_PY"
