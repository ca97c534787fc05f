import json, sys, time, urllib.error, urllib.request
port, key, user, version, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
base = "http://127.0.0.1:%s" % port

def call(path, body=None, key=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-Session-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

deadline = time.time() + timeout
while True:
    try:
        if call("/health")[0] == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("GET /health did not answer 200 within %ds" % timeout)
    time.sleep(0.5)
started = timeout - (deadline - time.time())
status, body = call("/server_info", key=key)
if status != 200:
    sys.exit("GET /server_info answered %d: %s" % (status, body[:200]))
info = json.loads(body)
for field in ("version", "sdk_version", "tools_version", "workspace_version"):
    if info.get(field) != version:
        sys.exit("/server_info %s is %r, want %s" % (field, info.get(field), version))
command = {"command": "echo ok; id -un", "timeout": 30}
status, body = call("/api/bash/execute_bash_command", command, key=key)
if status != 200:
    sys.exit("POST /api/bash/execute_bash_command with the session key answered %d: %s" % (status, body[:200]))
output = json.loads(body)
words = str(output.get("stdout", output)).split()
if words[:2] != ["ok", user]:
    sys.exit("the bash command printed %r, want ok and %s" % (" ".join(words[:4]), user))
status, body = call("/api/bash/execute_bash_command", command)
if status != 401:
    sys.exit("POST /api/bash/execute_bash_command without the session key answered %d, want 401" % status)
print("healthy after %.1fs, versions %s, a bash command ran as %s with the session key and was refused (401) without it" % (started, version, user))
