#!/usr/bin/env bash
# The speed comparison of models/README.md: the C# trainer against Debian's PyTorch on the same
# model shapes, forward + backward + AdamW, run back to back with nice. Noisy on a shared machine.
#   tools/train/bench/compare.sh [seconds=30]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
s="${1:-30}"
dotnet build tools/train -c Release -v q -nologo >/dev/null
cs() { nice -n 10 dotnet tools/train/bin/Release/net10.0/longctx-train.dll bench-step "$@" seconds="$s"; }
pt() { if /usr/bin/python3 -c "import torch" 2>/dev/null; then nice -n 10 /usr/bin/python3 tools/train/bench/torch_step.py "$@" --seconds "$s"; else echo "torch: not installed (apt-get install -y python3-torch libopenblas0-pthread)"; fi; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
cs layers=1 B=16 T=512;  pt --layers 1 --batch 16 --length 512
cs layers=1 B=4 T=2048;  pt --layers 1 --batch 4 --length 2048
cs layers=6 B=16 T=512;  pt --layers 6 --batch 16 --length 512
cs layers=6 B=4 T=2048;  pt --layers 6 --batch 2 --length 2048
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
