def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()
installed = {}
for d in importlib.metadata.distributions():
    installed[norm(d.metadata["Name"] or "")] = d.version
wrong, count = [], 0
with open(os.path.join(os.environ["OH_LOCK"], "expected.txt")) as f:
    for line in f:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement, _, marker = line.partition(" ; ")
        if marker and not holds(marker):
            continue
        count += 1
        name, _, version = requirement.partition("==")
        if " @ " in requirement:
            name, version = requirement.split(" @ ")[0], None
        got = installed.get(norm(name.strip()))
        if got is None:
            wrong.append("%s missing" % name)
        elif version is not None and not same_version(got, version):
            wrong.append("%s %s, locked %s" % (name, got, version))
if wrong:
    raise CheckFailed("%d of %d locked packages differ: %s" % (len(wrong), count, ", ".join(wrong)))
return "%d locked packages at their locked versions" % count
