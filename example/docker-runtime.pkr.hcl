# A container runtime image: the docker builder, the openhands-runtime provisioner, then
# openhands-ecr verifies the image and pushes it to Amazon ECR.
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

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

variable "vscode_server_sha256" {
  type        = string
  description = "sha256sum of openvscode-server-v1.98.2-linux-x64.tar.gz, or -linux-arm64.tar.gz on an arm64 Docker host (gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the file you trust and pass its sum)."
}

variable "base_image" {
  type    = string
  default = "ubuntu:24.04"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "repository" {
  type    = string
  default = "agents/openhands-runtime"
}

variable "publisher_role_arn" {
  type        = string
  description = "Role allowed to push to the repository; empty uses the default credentials."
  default     = ""
}

source "docker" "runtime" {
  image       = var.base_image
  commit      = true
  run_command = ["-d", "-i", "-t", "--", "{{.Image}}"]
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
    source_dir           = var.source_dir
    vscode_server_sha256 = var.vscode_server_sha256
  }

  post-processor "openhands-ecr" {
    region     = var.region
    repository = var.repository
    tags       = ["latest"]

    dynamic "assume_role" {
      for_each = var.publisher_role_arn == "" ? [] : [var.publisher_role_arn]
      content {
        role_arn     = assume_role.value
        session_name = "packer-openhands"
      }
    }
  }
}
