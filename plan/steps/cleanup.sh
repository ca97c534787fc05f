"$OH_MM" clean --all -y >/dev/null
# Only when something slipped: a recursive chown of a full env takes a while.
if [ -n "$(find "$MAMBA_ROOT_PREFIX" ! -user "$OH_USER" -print -quit)" ]; then
	chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"
fi
