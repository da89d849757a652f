"""PyTorch eager reference for the benchmarks: the CLIP vision tower (HF architecture, random weights).
Usage: /usr/bin/python3 torch_clip.py <preset> <batch> <mode: forward|ln-step> <repeats> <threads>
Prints one JSON line: {"seconds": [...], "peak_rss_mb": ...}. Debian's python3-torch; no transformers needed."""
import json, math, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "ViT-B/32": dict(d=768, mlp=3072, heads=12, layers=12, img=224, patch=32),
    "ViT-B/16": dict(d=768, mlp=3072, heads=12, layers=12, img=224, patch=16),
    "ViT-L/14": dict(d=1024, mlp=4096, heads=16, layers=24, img=224, patch=14),
}

class Layer(nn.Module):
    def __init__(s, d, mlp, heads):
        super().__init__()
        s.heads = heads
        s.layer_norm1, s.layer_norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.q, s.k, s.v, s.o = (nn.Linear(d, d) for _ in range(4))
        s.fc1, s.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)
    def forward(s, h):
        n, t, d = h.shape
        a = s.layer_norm1(h)
        sp = lambda x: x.view(n, t, s.heads, d // s.heads).transpose(1, 2)
        q, k, v = sp(s.q(a) * (d // s.heads) ** -0.5), sp(s.k(a)), sp(s.v(a))
        p = torch.softmax(q @ k.transpose(-1, -2), -1)
        h = h + s.o((p @ v).transpose(1, 2).reshape(n, t, d))
        m = s.fc1(s.layer_norm2(h))
        return h + s.fc2(m * torch.sigmoid(1.702 * m))

class Vision(nn.Module):
    def __init__(s, c):
        super().__init__()
        g = c["img"] // c["patch"]
        s.patch = nn.Conv2d(3, c["d"], c["patch"], c["patch"], bias=False)
        s.cls = nn.Parameter(torch.randn(c["d"]))
        s.pos = nn.Parameter(torch.randn(g * g + 1, c["d"]))
        s.pre_layrnorm, s.post_layernorm = nn.LayerNorm(c["d"]), nn.LayerNorm(c["d"])
        s.layers = nn.ModuleList(Layer(c["d"], c["mlp"], c["heads"]) for _ in range(c["layers"]))
    def forward(s, x):
        p = s.patch(x).flatten(2).transpose(1, 2)
        h = torch.cat([s.cls.expand(x.shape[0], 1, -1), p], 1) + s.pos
        h = s.pre_layrnorm(h)
        for l in s.layers: h = l(h)
        return s.post_layernorm(h[:, 0])

def main():
    preset, batch, mode, repeats, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = PRESETS[preset]
    m = Vision(c)
    head = nn.Linear(c["d"], 2)
    x = torch.randn(batch, 3, c["img"], c["img"])
    y = torch.randint(0, 2, (batch,))
    for name, p in m.named_parameters():
        p.requires_grad = mode == "ln-step" and ("norm" in name or "layrnorm" in name)
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad] + list(head.parameters()), lr=8e-5) if mode == "ln-step" else None
    def step():
        if mode == "forward":
            with torch.no_grad(): m(x)
        else:
            z = F.normalize(m(x), dim=1)
            loss = F.cross_entropy(head(z), y)
            opt.zero_grad(); loss.backward(); opt.step()
    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": times, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__}))

main()
