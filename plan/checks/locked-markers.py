import importlib.metadata, platform, re
env = {
    "python_version": "%d.%d" % sys.version_info[:2],
    "python_full_version": platform.python_version(),
    "implementation_version": platform.python_version(),
    "os_name": os.name,
    "sys_platform": sys.platform,
    "platform_system": platform.system(),
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "implementation_name": sys.implementation.name,
    "platform_release": platform.release(),
    "platform_version": platform.version(),
    "extra": "",
}
try:
    from packaging.markers import Marker
    from packaging.version import Version
except Exception:
    Marker = Version = None
def holds(marker):
    if Marker is not None:
        try:
            return Marker(marker).evaluate(env)
        except Exception:
            pass
    return plain_holds(marker)
def same_version(installed, locked):
    if Version is not None:
        try:
            return Version(installed) == Version(locked)
        except Exception:
            pass
    return installed == locked
versioned = ("python_version", "python_full_version", "implementation_version")
tokens = []
def plain_holds(marker):
    tokens[:] = re.findall(r'\(|\)|"[^"]*"|\'[^\']*\'|not in|===|==|!=|<=|>=|~=|<|>|[A-Za-z_.]+', marker)
    value = either()
    if tokens:
        raise CheckFailed("cannot read the marker %s" % marker)
    return value
def either():
    value = both()
    while tokens[:1] == ["or"]:
        tokens.pop(0)
        value = both() or value
    return value
def both():
    value = single()
    while tokens[:1] == ["and"]:
        tokens.pop(0)
        value = single() and value
    return value
def single():
    if tokens[:1] == ["("]:
        tokens.pop(0)
        value = either()
        tokens.pop(0)
        return value
    left, op, right = tokens.pop(0), tokens.pop(0), tokens.pop(0)
    numeric = left in versioned or right in versioned
    left, right = [t[1:-1] if t[:1] in "\"'" else env.get(t, "") for t in (left, right)]
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if numeric and re.match(r"^[0-9.]+$", left + right):
        left, right = [tuple(int(x) for x in v.split(".")) for v in (left, right)]
        if op == "~=":
            return left >= right and left[:len(right) - 1] == right[:-1]
    return {"==": left == right, "===": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[op]
