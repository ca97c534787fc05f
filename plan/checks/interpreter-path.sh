interpreter=$(sed -n 's/^OH_INTERPRETER_PATH=//p' /etc/environment | tail -n 1)
echo "OH_INTERPRETER_PATH=$interpreter"
[ -n "$interpreter" ] && [ -x "$interpreter" ]
