# The OpenHands V1 sandbox: the agent-server image on ubuntu:24.04 for x86_64 and arm64, with
# the four SDK packages at one version from PyPI (or your index_url), pushed to ECR as one
# multi-platform index. Point the OpenHands app at it with AGENT_SERVER_IMAGE_REPOSITORY and
# AGENT_SERVER_IMAGE_TAG, or the SDK with DockerWorkspace(server_image=...): see the guide
# "Use with OpenHands V1".
packer {
  required_plugins {
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
  description = "The SDK version of your OpenHands app: it checks the image's major.minor."
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
  default = "agents/openhands-agent-server"
}

source "openhands-runtime" "agent_server" {
  runtime              = "agent-server"
  agent_server_version = var.agent_server_version
  base_image           = "ubuntu:24.04"
  platforms            = ["linux/amd64", "linux/arm64"]
  vscode_server_sha256_by_platform = {
    "linux/amd64" = var.vscode_server_sha256_x64
    "linux/arm64" = var.vscode_server_sha256_arm64
  }
}

build {
  sources = ["source.openhands-runtime.agent_server"]

  post-processor "openhands-ecr" {
    region     = var.region
    repository = var.repository
    tags       = [var.agent_server_version]
  }
}
