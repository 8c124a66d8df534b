#!/bin/sh
# The container image's application folder, built from a workspace that has run `pnpm install`
# and built @tapline/cli and its dependencies: @tapline/cli with every tap and target it runs and
# only their production dependencies (no dev tools, no test kits), `tapline` and the taps',
# targets' and simulators' executables in OUT_DIR/node_modules/.bin.
# The Dockerfile runs it; packages/release-check/test/container.test.ts runs it without Docker.
set -eu
out="${1:?usage: scripts/container/build-app.sh OUT_DIR [pnpm deploy flags]}"
shift
cd "$(dirname "$0")/../.."

# pnpm 10 deploys from the shared lockfile only with injected workspace packages; set here rather
# than in the workspace, whose packages stay linked for development. Injected packages are copies
# of what each package publishes (its `files`), so the folder needs nothing from the repository.
pnpm --config.inject-workspace-packages=true --filter @tapline/cli deploy --prod "$@" "$out"

# The deployed package's own bin is not linked into its node_modules/.bin; PATH reaches it there.
ln -sf ../../bin/tapline.js "$out/node_modules/.bin/tapline"
