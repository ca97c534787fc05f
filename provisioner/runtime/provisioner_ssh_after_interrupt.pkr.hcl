
source "null" "ec2" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = 35529
  ssh_username         = "ec2-user"
  ssh_private_key_file = "/tmp/TestAccProvisionerInterruptedOverSSH3038832366/001/id_ed25519"
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.ec2"]

  provisioner "openhands-runtime" {
    source_dir      = "/tmp/TestAccProvisionerInterruptedOverSSH3038832366/002/openhands-src"
    micromamba_path    = "/work/wt-rel/internal/rig/standins/micromamba"
    uv_path            = "/work/wt-rel/internal/rig/standins/uv"
    vscode_server_path = "/tmp/openhands-rig-vscode-2b4eb7d42dfa/openvscode-server-v1.98.2-linux-x64.tar.gz"
  }
}
