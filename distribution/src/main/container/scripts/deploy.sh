#!/bin/sh
# An example script for the rule deploy-devel-example of config/rules.yaml: mounted read-only on
# /opt/scripts. Scripts run as the image's user (uid 10001) with the tools of the image: add
# yours in a derived image (docs/deploying.md, "Adding tools"). Delivery is at-least-once: make
# scripts idempotent.
set -eu
project=$1
build=$2
echo "would deploy build $build of $project to $TARGET"
