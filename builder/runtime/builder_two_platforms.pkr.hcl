
source "openhands-runtime" "image" {
  base_image       = "openhands-rig/debian:bookworm-r3"
  pull             = false
  network_mode     = "none"
  source_dir       = "/tmp/TestAccBuilderTwoPlatforms1802099644/001/openhands-src"
  image_repository = "openhands-acc-platforms-11688"
  micromamba_path    = "/work/main/internal/rig/standins/micromamba"
  uv_path            = "/work/main/internal/rig/standins/uv"
  vscode_server_path = "/tmp/openhands-rig-vscode-2b4eb7d42dfa/openvscode-server-v1.98.2-linux-x64.tar.gz"
  tags = ["acc"]
  platforms = ["linux/amd64", "linux/arm64"]
  base_images = { "linux/arm64" = "openhands-rig/debian-arm64:bookworm-r1" }
  system_packages = false
}

build {
  sources = ["source.openhands-runtime.image"]

}
