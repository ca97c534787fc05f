# For full specification on the configuration of this file visit:
# https://github.com/hashicorp/integration-template#metadata-configuration
integration {
  name        = "OpenHands"
  description = "Builds the OpenHands agent runtime the same way everywhere: Docker images and Amazon Linux 2023 AMIs, published to Amazon ECR."
  identifier  = "packer/openhands-runtime/openhands"
  component {
    type = "builder"
    name = "OpenHands Runtime"
    slug = "runtime"
  }
  component {
    type = "provisioner"
    name = "OpenHands Runtime"
    slug = "runtime"
  }
  component {
    type = "post-processor"
    name = "OpenHands ECR"
    slug = "ecr"
  }
}
