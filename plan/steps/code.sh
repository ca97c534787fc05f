@COPY_CODE@
# pyproject.toml's packages include third_party, which the runtime does not ship.
mkdir -p "$OH_CODE/third_party"
touch "$OH_CODE/third_party/__init__.py"
printf '%s\n' '#!/usr/bin/env python3' 'import os' 'import sys' \
	'if os.environ.get("SKIP_VSCODE_BUILD"):' '    print("Skipping VSCode build")' '    sys.exit(0)' \
	>"$OH_CODE/build_vscode.py"
chown -R "$OH_USER:$OH_USER" "$OH_CODE"
