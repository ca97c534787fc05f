# One template, x86_64 and arm64 (Graviton): an Amazon Linux 2023 AMI of each architecture,
# provisioned by the plan, and the runtime container image of both platforms, built by the
# openhands-runtime builder and pushed to ECR as one multi-platform index (each platform's
# image verified, arm64 under emulation where the build host is x86_64).
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

variable "source_dir" {
  type        = string
  description = "Local OpenHands checkout."
}

# gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the
# files you trust and pass their sums.
variable "vscode_server_sha256_x64" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-x64.tar.gz."
}

variable "vscode_server_sha256_arm64" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-arm64.tar.gz."
}

variable "repository" {
  type    = string
  default = "agents/openhands-runtime"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
  # AMI architecture -> instance type.
  machines = {
    x86_64 = { instance_type = "t3.large" }
    arm64  = { instance_type = "t4g.large" }
  }
}

source "amazon-ebs" "al2023" {
  region       = var.region
  ssh_username = "ec2-user"

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    delete_on_termination = true
  }
}

source "openhands-runtime" "container" {
  source_dir = var.source_dir
  platforms  = ["linux/amd64", "linux/arm64"]
  vscode_server_sha256_by_platform = {
    "linux/amd64" = var.vscode_server_sha256_x64
    "linux/arm64" = var.vscode_server_sha256_arm64
  }
}

build {
  dynamic "source" {
    for_each = local.machines
    labels   = ["amazon-ebs.al2023"]
    content {
      name          = "al2023-${source.key}"
      instance_type = source.value.instance_type
      ami_name      = "openhands-runtime-al2023-${source.key}-${local.timestamp}"
      source_ami_filter {
        filters = {
          name                = "al2023-ami-2023.*-${source.key}"
          architecture        = source.key
          virtualization-type = "hvm"
        }
        owners      = ["amazon"]
        most_recent = true
      }
    }
  }

  # One block for both architectures: each machine takes the sum of its own `uname -m`.
  provisioner "openhands-runtime" {
    source_dir = var.source_dir
    vscode_server_sha256_by_platform = {
      "linux/amd64" = var.vscode_server_sha256_x64
      "linux/arm64" = var.vscode_server_sha256_arm64
    }
  }
}

build {
  sources = ["source.openhands-runtime.container"]

  post-processor "openhands-ecr" {
    region     = var.region
    repository = var.repository
    tags       = ["latest"]
  }
}
