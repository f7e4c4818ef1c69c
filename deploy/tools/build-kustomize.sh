#!/usr/bin/env bash
# Builds the pinned kustomize into .cache/kustomize/<version>/ (see build-go-tool.sh).
#   deploy/tools/build-kustomize.sh [--path]
exec bash "$(dirname "${BASH_SOURCE[0]}")/build-go-tool.sh" kustomize "$@"
