# The runtime image built from a Dockerfile rendered from the install plan, named by content:
# a second `packer build` with unchanged inputs builds nothing.
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

variable "base_image" {
  type    = string
  default = "nikolaik/python-nodejs:python3.12-nodejs22"
}

variable "registry_repository" {
  type        = string
  description = "Where docker-tag names the image for a later push."
  default     = "registry.example.com/agents/openhands-runtime"
}

source "openhands-runtime" "image" {
  base_image       = var.base_image
  source_dir       = var.source_dir
  image_repository = "openhands-runtime"
  tags             = ["latest"]
  dockerfile_path  = "${path.root}/Dockerfile.rendered"
}

build {
  sources = ["source.openhands-runtime.image"]

  post-processor "docker-tag" {
    repository = var.registry_repository
    tags       = ["latest"]
  }
}
