"""The trainer's model in Debian's PyTorch, for the speed comparison in models/README.md.

Same architecture as tools/train (RMSNorm, RoPE on adjacent pairs, SwiGLU, GQA, tied
embeddings), forward + backward + AdamW on random tokens, loss on every token.
Needs: apt-get install -y python3-torch libopenblas0-pthread (run with /usr/bin/python3).
  /usr/bin/python3 tools/train/bench/torch_step.py --layers 1 --batch 16 --length 512
"""
import argparse
import math
import resource
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, d, heads, kv_heads, ffn):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.wq = torch.nn.Linear(d, heads * self.hd, bias=False)
        self.wk = torch.nn.Linear(d, kv_heads * self.hd, bias=False)
        self.wv = torch.nn.Linear(d, kv_heads * self.hd, bias=False)
        self.wo = torch.nn.Linear(heads * self.hd, d, bias=False)
        self.ffn_norm = torch.nn.Parameter(torch.ones(d))
        self.w_gate = torch.nn.Linear(d, ffn, bias=False)
        self.w_up = torch.nn.Linear(d, ffn, bias=False)
        self.w_down = torch.nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        h = rms_norm(x, self.attn_norm)
        q = self.wq(h).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.wk(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        v = self.wv(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        o = torch.softmax(scores, dim=-1) @ v
        x = x + self.wo(o.transpose(1, 2).reshape(b, t, d))
        h = rms_norm(x, self.ffn_norm)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    # adjacent pairs (2i, 2i+1), as llama.cpp's normal mode
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Model(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads, kv_heads, ffn):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads, kv_heads, ffn) for _ in range(layers))
        self.norm = torch.nn.Parameter(torch.ones(d))

    def forward(self, tokens, cos, sin, mask):
        x = self.embed(tokens)
        for blk in self.blocks:
            x = blk(x, cos, sin, mask)
        return rms_norm(x, self.norm) @ self.embed.weight.t()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=704)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--length", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=30)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model(a.vocab, a.dim, a.layers, a.heads, a.kv_heads, a.ffn)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    hd = a.dim // a.heads
    pos = torch.arange(a.length, dtype=torch.float32)[:, None]
    inv = 500000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    cos, sin = torch.cos(pos * inv), torch.sin(pos * inv)
    mask = torch.full((a.length, a.length), float("-inf")).triu(1)
    tokens = torch.randint(0, a.vocab, (a.batch, a.length))
    targets = torch.randint(0, a.vocab, (a.batch, a.length))

    def step():
        logits = model(tokens, cos, sin, mask)
        loss = F.cross_entropy(logits.view(-1, a.vocab), targets.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    r0, t0, n = resource.getrusage(resource.RUSAGE_SELF), time.time(), 0
    while time.time() - t0 < a.seconds:
        step()
        n += 1
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    tokens_done = a.batch * a.length * n
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}: {a.layers} layer(s) d {a.dim} vocab {a.vocab} ({params / 1e6:.2f} M params), "
          f"{a.batch}x{a.length}: {tokens_done / wall:7.0f} tokens/s wall, {tokens_done / cpu * a.threads:7.0f} per {a.threads} CPU-seconds "
          f"({n} steps, {wall / max(n, 1):.2f} s/step)")


if __name__ == "__main__":
    main()
