#!/usr/bin/env bash
# Installs, idempotently, every Debian package effv2vk needs, and says what it
# installs. Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  # Vulkan: loader, lavapipe (CPU Vulkan 1.3), validation layers, vulkaninfo
  mesa-vulkan-drivers libvulkan-dev vulkan-validationlayers vulkan-tools
  # shader compiler and validator (go generate ./shaders)
  glslc spirv-tools
  # GLFW build (effv2vk visualize) and a virtual display for its tests
  libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dev
  xvfb x11-apps
  # the default dataset
  dataset-fashion-mnist
  # the PyTorch CPU reference for parity tests and `make bench`
  python3-torch python3-torchvision python3-numpy
  # libjpeg-turbo (TurboJPEG API) for the ImageFolder JPEG decoder
  libturbojpeg0-dev
  # build tools
  gcc make git pkg-config ca-certificates
  # multi-rank training (mpirun) and its tests; effv2vk itself starts without it
  openmpi-bin libopenmpi-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} Debian packages already installed"
else
  echo "deps: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: not root and no sudo: install them yourself: apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "deps: Go is missing: install Go 1.26 from https://go.dev/dl/ into /usr/local/go" >&2
  exit 1
fi
