#!/bin/sh
# Install or upgrade HNTH Ops from this bundle, on a server without internet:
#   ./install.sh            (in the unpacked bundle folder, or any folder it was copied to)
# Checks the files against SHA256SUMS, loads the images, and starts or upgrades the stack
# with the .env beside it (a first install creates it from .env.example + .env.bundle and
# stops so the secrets can be filled in).
set -eu
cd "$(dirname "$0")"
sha256sum --check --quiet SHA256SUMS
docker load --input images.tar
if [ ! -f .env ]; then
  cat .env.example .env.bundle > .env
  echo "wrote .env: fill in its secrets, create secrets/ (README), then run ./install.sh again"
  exit 1
fi
# this bundle's image names win over those of an older .env
set -a; . ./.env.bundle; set +a
docker compose up -d --wait --no-build
