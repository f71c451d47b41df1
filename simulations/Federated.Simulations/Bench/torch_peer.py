#!/usr/bin/env python3
"""PyTorch peer of `federated bench --only training`: the same LoRA fine-tuning step in plain PyTorch.

A Llama decoder (RMSNorm, rotary positions, causal attention, SwiGLU, tied embeddings) with frozen f32
weights and LoRA factors A [r, in], B [out, r] (B = 0, y += alpha/r * x A^T B^T) on q, k, v, o, gate,
up and down; next-token cross-entropy over full logits, gradients clipped to norm 1, torch.optim.AdamW
(weight decay 0) on the factors only. What a user writes with PyTorch alone (no PEFT): the bench runs it
in the same invocation and compares tokens/s and peak resident memory above a baseline taken after
import and a warm-up, before the model exists.

Prints one JSON object on its last line of stdout.
"""

import argparse
import json
import math
import os
import resource
import threading
import time

import torch
import torch.nn.functional as F


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak():
    """Resets the kernel's peak resident size (VmHWM); False where /proc/self/clear_refs refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def kernel_peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class Sampler:
    """Fallback peak reading: resident size every millisecond (libtorch ops release the GIL)."""

    def __init__(self):
        self.peak = resident_bytes()
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.001)

    def stop(self):
        self.stopped = True
        self.thread.join()
        return self.peak


def blas_libraries():
    """The BLAS/LAPACK/OpenMP libraries mapped into this process (what torch's GEMM actually calls)."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if any(key in name for key in ("blas", "lapack", "mkl", "gomp", "omp", "dnnl")):
                found.add(os.path.realpath(path))
    return sorted(found)


class LoraLinear(torch.nn.Module):
    def __init__(self, inputs, outputs, rank, alpha):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(outputs, inputs).normal_(0, 1 / math.sqrt(inputs)), requires_grad=False)
        bound = 1 / math.sqrt(inputs)
        self.a = torch.nn.Parameter(torch.empty(rank, inputs).uniform_(-bound, bound))
        self.b = torch.nn.Parameter(torch.zeros(outputs, rank))
        self.scaling = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.a), self.b) * self.scaling


class RmsNorm(torch.nn.Module):
    def __init__(self, size, eps=1e-6):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(size), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class Layer(torch.nn.Module):
    def __init__(self, args):
        super().__init__()
        d, hd = args.dim, args.dim // args.heads
        self.heads, self.kv_heads, self.head_dim = args.heads, args.kv_heads, hd
        lora = lambda i, o: LoraLinear(i, o, args.rank, args.alpha)
        self.q, self.k, self.v = lora(d, args.heads * hd), lora(d, args.kv_heads * hd), lora(d, args.kv_heads * hd)
        self.o = lora(args.heads * hd, d)
        self.gate, self.up, self.down = lora(d, args.mlp), lora(d, args.mlp), lora(args.mlp, d)
        self.attention_norm, self.mlp_norm = RmsNorm(d), RmsNorm(d)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.attention_norm(x)
        q = rotate(self.q(h).view(b, t, self.heads, self.head_dim).transpose(1, 2), cos, sin)
        k = rotate(self.k(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2), cos, sin)
        v = self.v(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.kv_heads != self.heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2.0 and later
            attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # 1.13 (Debian bookworm): what Hugging Face's Llama does there
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim) + mask
            attended = torch.softmax(scores, dim=-1) @ v
        x = x + self.o(attended.transpose(1, 2).reshape(b, t, -1))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self, args):
        super().__init__()
        self.embedding = torch.nn.Parameter(torch.empty(args.vocab, args.dim).normal_(0, 1), requires_grad=False)
        self.layers = torch.nn.ModuleList(Layer(args) for _ in range(args.layers))
        self.norm = RmsNorm(args.dim)
        with torch.no_grad():
            self.norm.weight.fill_(1 / math.sqrt(args.dim))
        hd = args.dim // args.heads
        inverse = 1.0 / (args.theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        angles = torch.outer(torch.arange(args.seq, dtype=torch.float64), inverse)
        doubled = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", doubled.cos().float(), persistent=False)
        self.register_buffer("sin", doubled.sin().float(), persistent=False)
        self.register_buffer("mask", torch.full((args.seq, args.seq), float("-inf")).triu(1), persistent=False)

    def forward(self, ids):
        x = F.embedding(ids, self.embedding)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return F.linear(self.norm(x), self.embedding)  # tied head


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in [("dim", 512), ("layers", 6), ("heads", 8), ("kv-heads", 8), ("mlp", 1376), ("vocab", 8192), ("seq", 256),
                          ("batch", 8), ("rank", 16), ("alpha", 32), ("threads", 2), ("warmup", 2), ("steps", 8)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--theta", type=float, default=10000.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    # Warm-up before the baseline, as the bench's own side does: thread pool started, GEMM code paged in.
    warm = torch.randn(256, 256, requires_grad=True)
    (warm @ warm).sum().backward()
    del warm
    baseline = resident_bytes()
    exact = reset_peak()
    sampler = None if exact else Sampler()

    model = Model(args)
    factors = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(factors, lr=args.lr, weight_decay=0.0)
    ids = torch.randint(0, args.vocab, (64, args.seq + 1), generator=torch.Generator().manual_seed(5))
    losses, times = [], []
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start, usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        rows = torch.arange(step * args.batch, (step + 1) * args.batch) % ids.shape[0]
        batch = ids[rows]
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(factors, 1.0)
        optimizer.step()
        losses.append(loss.item())
        del logits, loss
    seconds = time.perf_counter() - start
    end = resource.getrusage(resource.RUSAGE_SELF)
    peak = kernel_peak() if exact else sampler.stop()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_libraries(),
        "attention": "scaled_dot_product_attention" if hasattr(F, "scaled_dot_product_attention") else "matmul + softmax",
        "tokens_per_second": args.steps * args.batch * args.seq / seconds,
        "peak_above_baseline": peak - baseline,
        "peak_reading": "VmHWM after clear_refs" if exact else "sampled every ms",
        "minor_faults": end.ru_minflt - usage.ru_minflt,
        "user_seconds": end.ru_utime - usage.ru_utime,
        "kernel_seconds": end.ru_stime - usage.ru_stime,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }))


if __name__ == "__main__":
    main()
