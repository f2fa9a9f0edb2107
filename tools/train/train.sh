#!/usr/bin/env bash
# Trains LongCtx's built-in model from a config, resuming from its work directory's checkpoint:
#   tools/train/train.sh CONFIG.json [minutes=150] [workDir=DIR] [fresh=true] [steps=N]
# Runs nice'd on all cores given in the config; re-run the same command to continue after a stop.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
config="$(realpath "$1")"; shift
cd "$root"
dotnet build tools/train -c Release -v q -nologo >/dev/null
exec nice -n 10 dotnet tools/train/bin/Release/net10.0/longctx-train.dll train config="$config" "$@"
