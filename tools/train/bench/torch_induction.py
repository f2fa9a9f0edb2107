"""Reference probe for the induction question in models/README.md: the trainer's repeat task and
tiny side config (2 layers, d 128, 4 heads, 2 KV heads, ffn 256, vocab 4096, RoPE base 500000,
16 x 128 tokens a step, AdamW lr 3e-3 after 30 warm-up steps, wd 0.1, clip 1, GPT-2 init) in
Debian's PyTorch, loss on the copied tokens only. Prints copy accuracy every 50 steps, to compare
with tools/train on the same task (/tmp-style side run: 2% -> 8% in 800 steps).
  apt-get install -y python3-torch libopenblas0-pthread
  /usr/bin/python3 tools/train/bench/torch_induction.py --steps 800
  /usr/bin/python3 tools/train/bench/torch_induction.py --task recall --alphabet 256 --steps 550 [--untied]
"""
import argparse
import math
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_step import Model, rms_norm  # noqa: E402  the same architecture as the speed comparison


def repeat_batch(rng, batch, length, vocab, alphabet):
    tokens = torch.zeros(batch, length, dtype=torch.long)
    targets = torch.zeros(batch, length, dtype=torch.long)
    weights = torch.zeros(batch, length)
    for b in range(batch):
        hi = max(5, length // 2)
        period = min(max(4, int(math.exp(math.log(4) + rng.random() * (math.log(hi) - math.log(4))))), max(4, length // 2))
        x = [rng.randrange(alphabet) for _ in range(period)]
        while len(x) < length + 1:
            x.append(x[len(x) - period])
        tokens[b] = torch.tensor(x[:length])
        targets[b] = torch.tensor(x[1:length + 1])
        for i in range(length):
            weights[b, i] = 1.0 if i + 1 >= period else 0.0
    return tokens, targets, weights


def recall_batch(rng, batch, length, vocab, alphabet):
    """The trainer's `recall` (BatchSource.Recall): distinct-key pairs "k v", then keys asked again, loss on the values."""
    tokens = torch.zeros(batch, length, dtype=torch.long)
    targets = torch.zeros(batch, length, dtype=torch.long)
    weights = torch.zeros(batch, length)
    for b in range(batch):
        pairs = min(max(2, 8 + rng.randrange(max(1, length // 4 - 7))), alphabet)
        keys = rng.sample(range(alphabet), pairs)
        values = [rng.randrange(alphabet) for _ in keys]
        x, recalled = [], []
        for k, v in zip(keys, values):
            if len(x) + 1 > length:
                break
            x += [k, v]
            recalled += [False, False]
        while len(x) + 1 <= length:
            q = rng.randrange(pairs)
            x += [keys[q], values[q]]
            recalled += [False, True]
        if len(x) == length:
            x.append(keys[rng.randrange(pairs)])
            recalled.append(False)
        tokens[b] = torch.tensor(x[:length])
        targets[b] = torch.tensor(x[1:length + 1])
        weights[b] = torch.tensor([1.0 if r else 0.0 for r in recalled[1:length + 1]])
    return tokens, targets, weights


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--rope-base", type=float, default=500000.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--alphabet", type=int, default=4096, help="copied tokens are drawn from the first N ids")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--task", choices=["repeat", "recall"], default="repeat")
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--untied", action="store_true", help="a separate output matrix (a control: the built-in model ties them)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    vocab, d, layers, heads, kv, ffn, batch, length = 4096, a.dim, 2, 4, 2, 2 * a.dim, a.batch, a.length
    model = Model(vocab, d, layers, heads, kv, ffn)
    if a.untied:
        model.out = torch.nn.Linear(d, vocab, bias=False)

        def untied_forward(tokens, cos, sin, mask):
            x = model.embed(tokens)
            for blk in model.blocks:
                x = blk(x, cos, sin, mask)
            return model.out(rms_norm(x, model.norm))
        model.forward = untied_forward
    for name, prm in model.named_parameters():
        if prm.dim() == 2:
            std = 0.02 / math.sqrt(2 * layers) if name.endswith(("wo.weight", "w_down.weight")) else 0.02
            torch.nn.init.normal_(prm, 0.0, std)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    hd = d // heads
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    inv = a.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    cos, sin = torch.cos(pos * inv), torch.sin(pos * inv)
    mask = torch.full((length, length), float("-inf")).triu(1)
    rng = random.Random(1)
    t0, hits, count, loss_sum, n = time.time(), 0.0, 0.0, 0.0, 0
    for step in range(1, a.steps + 1):
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, step / 30)
        make = repeat_batch if a.task == "repeat" else recall_batch
        tokens, targets, weights = make(rng, batch, length, vocab, a.alphabet)
        logits = model(tokens, cos, sin, mask)
        ce = F.cross_entropy(logits.view(-1, vocab), targets.view(-1), reduction="none")
        w = weights.view(-1)
        loss = (ce * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            hit = (logits.view(-1, vocab).argmax(-1) == targets.view(-1)).float()
            hits += (hit * w).sum().item()
            count += w.sum().item()
            loss_sum += loss.item()
            n += 1
        if step % 50 == 0:
            print(f"step {step:5d}  copy loss {loss_sum / n:.3f}  copy accuracy {hits / count:.3f}  {time.time() - t0:.0f} s", flush=True)
            hits, count, loss_sum, n = 0.0, 0.0, 0.0, 0


if __name__ == "__main__":
    main()
