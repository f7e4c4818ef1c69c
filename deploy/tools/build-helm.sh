#!/usr/bin/env bash
# Builds the pinned helm into .cache/helm/<version>/ (see build-go-tool.sh).
#   deploy/tools/build-helm.sh [--path]
exec bash "$(dirname "${BASH_SOURCE[0]}")/build-go-tool.sh" helm "$@"
