# An Amazon Linux 2023 AMI with the OpenHands runtime. Packer logs in as ec2-user (UID 1000)
# and the provisioner runs the plan through `sudo -n`; the runtime user `openhands` gets the
# next free UID/GID, and ec2-user is left as it was.
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
  type    = string
  default = "t3.large"
}

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

variable "vscode_server_sha256" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-x64.tar.gz (gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the file you trust and pass its sum)."
}

variable "ami_name_prefix" {
  type    = string
  default = "openhands-runtime-al2023"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "al2023" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.ami_name_prefix}-${local.timestamp}"
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  # The runtime (env, dependencies, Chromium) needs room beyond the default 8 GiB.
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags = {
    Name      = "${var.ami_name_prefix}-${local.timestamp}"
    Component = "openhands-runtime"
  }
}

build {
  sources = ["source.amazon-ebs.al2023"]

  provisioner "openhands-runtime" {
    source_dir           = var.source_dir
    vscode_server_sha256 = var.vscode_server_sha256
    # Playwright's --with-deps only knows apt: on AL2023 the plan installs Chromium's
    # libraries with dnf, then runs `playwright install chromium`.
    install_browser = true
  }
}
