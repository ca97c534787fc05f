# An Amazon Linux 2023 AMI that serves the OpenHands V1 sandbox: the agent-server installed by
# the provisioner over SSH as ec2-user (left as it was), and the systemd unit
# openhands-agent-server.service enabled on agent_server_port. No session key is baked in: the
# instance's user data writes OH_SESSION_API_KEYS_0 to /etc/openhands/agent-server.env (root
# only) and restarts the unit; see the guide "Use with OpenHands V1".
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

variable "agent_server_version" {
  type        = string
  default     = "1.58.2"
  description = "The SDK version of your OpenHands app: it checks the server's major.minor."
}

variable "vscode_server_sha256" {
  type        = string
  description = "SHA-256 of openvscode-server-v1.98.2-linux-x64.tar.gz (gitpod-io/openvscode-server releases publish no checksums, so the plugin pins none: check the file you trust and pass its sum)."
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "al2023" {
  region        = var.region
  instance_type = "t3.large"
  ami_name      = "openhands-agent-server-${var.agent_server_version}-${local.timestamp}"
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

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags = {
    Component          = "openhands-agent-server"
    AgentServerVersion = var.agent_server_version
  }
}

build {
  sources = ["source.amazon-ebs.al2023"]

  provisioner "openhands-runtime" {
    runtime              = "agent-server"
    agent_server_version = var.agent_server_version
    agent_server_port    = 8000
    vscode_server_sha256 = var.vscode_server_sha256
  }
}
