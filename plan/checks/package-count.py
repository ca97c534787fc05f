import importlib.metadata
names = {(d.metadata["Name"] or "").lower().replace("_", "-") for d in importlib.metadata.distributions()}
names.discard("")
detail = "%d distributions (at least @MIN_PACKAGES@ wanted)" % len(names)
if len(names) < @MIN_PACKAGES@:
    raise CheckFailed(detail)
return detail
