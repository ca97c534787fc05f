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
  changes     = ["CMD [\"/bin/bash\"]", "WORKDIR /openhands/code"]
}

build {
  sources = ["source.docker.runtime"]

  provisioner "openhands-runtime" {
    source_dir = var.source_dir
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
