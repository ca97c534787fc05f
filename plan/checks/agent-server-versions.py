import importlib.metadata
want = @VERSION@
found = {name: importlib.metadata.version(name) for name in @PACKAGES@}
wrong = ["%s %s" % (name, v) for name, v in found.items() if v != want]
if wrong:
    raise CheckFailed("want %s for all four, found %s" % (want, ", ".join(wrong)))
return "%s at %s" % (", ".join(found), want)
