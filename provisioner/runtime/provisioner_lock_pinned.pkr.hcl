
source "docker" "acc" {
  image       = "openhands-rig/debian:bookworm-r3"
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network=none", "--", "{{.Image}}"]
  changes     = ["CMD [\"/bin/bash\"]", "ENV LANG=C.UTF-8", "ENV LC_ALL=C.UTF-8", "ENV EDITOR=code", "ENV VISUAL=code", "ENV GIT_EDITOR=\"code --wait\"", "ENV OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server", "ENV POETRY_VIRTUALENVS_PATH=/openhands/poetry", "ENV MAMBA_ROOT_PREFIX=/openhands/micromamba", "ENV OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python", "ENV PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers", "ENV PATH=/openhands/bin:/openhands/micromamba/bin:$${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}", "WORKDIR /openhands/code"]
}

build {
  sources = ["source.docker.acc"]

  provisioner "openhands-runtime" {
    source_dir      = "/tmp/TestAccProvisionerLockPinned3453674403/001/openhands-src"
    micromamba_path    = "/work/wt-lock/internal/rig/standins/micromamba"
    uv_path            = "/work/wt-lock/internal/rig/standins/uv"
    vscode_server_path = "/tmp/openhands-rig-vscode-2b4eb7d42dfa/openvscode-server-v1.98.2-linux-x64.tar.gz"

  }

  post-processor "docker-tag" {
    repository = "openhands-acc-lock"
    tags       = ["acc"]
  }
}
