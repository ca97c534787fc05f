# An Amazon Linux 2023 arm64 (Graviton) AMI with the OpenHands runtime: the same plan as on
# x86_64. It reads `uname -m` on the instance and takes the aarch64 releases of uv, micromamba
# and openvscode-server (their pinned URLs and sums); Playwright installs its arm64 Chromium.
packer {
  required_plugins {
    amazon = {
      version = ">= 1.8.0"
      source  = "github.com/hashicorp/amazon"
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

variable "instance_type" {
  type        = string
  default     = "t4g.large"
  description = "A Graviton instance type (t4g, c7g, m7g, ...)."
}

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

variable "vscode_server_sha256" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-arm64.tar.gz (gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the file you trust and pass its sum)."
}

variable "ami_name_prefix" {
  type    = string
  default = "openhands-runtime-al2023-arm64"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "graviton" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.ami_name_prefix}-${local.timestamp}"
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-arm64"
      architecture        = "arm64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
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

  tags = {
    Name         = "${var.ami_name_prefix}-${local.timestamp}"
    Component    = "openhands-runtime"
    Architecture = "arm64"
  }
}

build {
  sources = ["source.amazon-ebs.graviton"]

  provisioner "openhands-runtime" {
    source_dir           = var.source_dir
    vscode_server_sha256 = var.vscode_server_sha256
  }
}
