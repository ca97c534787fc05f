# The air-gapped form: micromamba, uv and openvscode-server are uploaded from this machine,
# Python packages and conda packages come from mirrors. `make demo` runs it offline with the
# rig's stand-ins.
packer {
  required_plugins {
    docker = {
      version = ">= 1.1.2"
      source  = "github.com/hashicorp/docker"
    }
    openhands = {
      version = ">= 0.1.0"
      source  = "github.com/openhands-runtime/openhands"
    }
  }
}

variable "base_image" {
  type        = string
  description = "Debian or Ubuntu image already present in the local Docker engine."
  default     = "debian:bookworm"
}

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

variable "vscode_server_path" {
  type        = string
  description = "openvscode-server release tarball on this machine."
}

variable "micromamba_path" {
  type        = string
  description = "micromamba binary on this machine."
}

variable "uv_path" {
  type        = string
  description = "uv binary on this machine."
}

variable "index_url" {
  type        = string
  description = "Python package index mirror."
  default     = "https://pypi.mirror.example.internal/simple"
  sensitive   = true
}

variable "channel_alias" {
  type        = string
  description = "conda channel mirror."
  default     = "https://conda.mirror.example.internal"
}

variable "min_packages" {
  type        = number
  description = "Least number of Python distributions the image must hold."
  default     = 300
}

variable "container_network" {
  type        = string
  description = "Docker network of the build container: none, or one that reaches your mirrors and nothing else."
  default     = "none"
}

variable "python_version" {
  type        = string
  description = "Python of the runtime's environment, as your conda mirror serves it."
  default     = "3.12"
}

variable "install_browser" {
  type        = bool
  description = "Install Playwright's Chromium (needs Playwright's download host, or PLAYWRIGHT_DOWNLOAD_HOST pointing at a mirror)."
  default     = true
}

variable "environment_vars" {
  type        = list(string)
  description = "KEY=value pairs exported to every step of the plan (a proxy, say)."
  default     = []
}

variable "image_repository" {
  type    = string
  default = "openhands-runtime-demo"
}

source "docker" "runtime" {
  image  = var.base_image
  pull   = false
  commit = true
  # The network of your choice: none when everything the plan needs is uploaded or already in
  # the image, else one that reaches only your mirrors. The base image's own command (bash)
  # keeps the container up: the builder's default --entrypoint=/bin/sh would be committed
  # into the image, and `ENTRYPOINT []` in `changes` does not reset it.
  run_command = ["-d", "-i", "-t", "--network=${var.container_network}", "--", "{{.Image}}"]
  # The image config OpenHands' launcher needs (the openhands-runtime builder's own ENV and
  # WORKDIR): keep this list as it is, it is checked against the plugin's launch environment.
  changes = [
    "CMD [\"/bin/bash\"]",
    "ENV LANG=C.UTF-8",
    "ENV LC_ALL=C.UTF-8",
    "ENV EDITOR=code",
    "ENV VISUAL=code",
    "ENV GIT_EDITOR=\"code --wait\"",
    "ENV OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server",
    "ENV POETRY_VIRTUALENVS_PATH=/openhands/poetry",
    "ENV MAMBA_ROOT_PREFIX=/openhands/micromamba",
    "ENV OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python",
    "ENV PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers",
    "ENV PATH=/openhands/bin:/openhands/micromamba/bin:$${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}",
    "WORKDIR /openhands/code",
  ]
}

build {
  sources = ["source.docker.runtime"]

  provisioner "openhands-runtime" {
    source_dir         = var.source_dir
    micromamba_path    = var.micromamba_path
    uv_path            = var.uv_path
    vscode_server_path = var.vscode_server_path
    index_url          = var.index_url
    channel_alias      = var.channel_alias
    python_version     = var.python_version
    install_browser    = var.install_browser
    environment_vars   = var.environment_vars

    verify {
      min_packages = var.min_packages
    }
  }

  post-processor "docker-tag" {
    repository = var.image_repository
    tags       = ["latest"]
  }
}
