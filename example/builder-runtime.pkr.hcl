# The runtime image built from a Dockerfile rendered from the install plan, named by content
# (a second `packer build` with unchanged inputs builds nothing), then verified and pushed to
# Amazon ECR with its content tags.
packer {
  required_plugins {
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
  default = "nikolaik/python-nodejs:python3.12-nodejs22"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "repository" {
  type    = string
  default = "agents/openhands-runtime"
}

source "openhands-runtime" "image" {
  base_image           = var.base_image
  source_dir           = var.source_dir
  vscode_server_sha256 = var.vscode_server_sha256
  image_repository     = "openhands-runtime"
  tags                 = ["latest"]
  dockerfile_path      = "${path.root}/Dockerfile.rendered"
}

build {
  sources = ["source.openhands-runtime.image"]

  post-processor "openhands-ecr" {
    region     = var.region
    repository = var.repository
    tags       = ["latest"]
  }
}
