# One template, two artifacts: an Amazon Linux 2023 AMI and a container image, provisioned by
# the same plan. Only the container is verified and pushed to ECR.
packer {
  required_plugins {
    amazon = {
      version = ">= 1.8.0"
      source  = "github.com/hashicorp/amazon"
    }
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

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

variable "vscode_server_sha256" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-x64.tar.gz (gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the file you trust and pass its sum)."
}

variable "base_image" {
  type    = string
  default = "ubuntu:24.04"
}

variable "repository" {
  type    = string
  default = "agents/openhands-runtime"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "al2023" {
  region        = var.region
  instance_type = "t3.large"
  ami_name      = "openhands-runtime-al2023-${local.timestamp}"
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    delete_on_termination = true
  }
}

source "docker" "ubuntu" {
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
  sources = ["source.amazon-ebs.al2023", "source.docker.ubuntu"]

  provisioner "openhands-runtime" {
    source_dir           = var.source_dir
    vscode_server_sha256 = var.vscode_server_sha256
  }

  post-processor "openhands-ecr" {
    only       = ["docker.ubuntu"]
    region     = var.region
    repository = var.repository
    tags       = ["latest"]
  }
}
