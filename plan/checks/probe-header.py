import importlib, os, sys

class CheckFailed(Exception):
    pass

def report(index, check):
    try:
        status, detail = "ok", check()
    except CheckFailed as e:
        status, detail = "FAILED", str(e)
    except BaseException as e:
        status, detail = "FAILED", "%s: %s" % (type(e).__name__, e)
    print("%s\t%d\t%s" % (status, index, " ".join(str(detail).split())), flush=True)
