import openhands
location = os.path.dirname(os.path.abspath(openhands.__file__))
want = os.path.join(os.environ["OH_CODE"], "openhands")
if location != want:
    raise CheckFailed("openhands from %s, want %s" % (location, want))
return "openhands from " + location
