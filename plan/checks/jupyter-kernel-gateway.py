m = importlib.import_module("kernel_gateway")
return "kernel_gateway " + getattr(m, "__version__", "imported")
