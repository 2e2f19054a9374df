"""Small plain-torch versions of published architectures for the coverage benchmark.

Each keeps its family's distinctive ops (hard-swish and squeeze-excite, channel shuffle,
grouped and dense connections, LRN, ConvTranspose, a BiLSTM, attention, a DFL head) at
reduced width and input size so the whole matrix compiles and simulates in minutes.
No torchvision: the definitions are written from the papers' block descriptions.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def trained_statistics(model: nn.Module, batch: torch.Tensor, seed: int = 0) -> nn.Module:
    """Give every BatchNorm what training leaves behind, so folding it is not a no-op.

    Seeded weights alone leave BN at identity (mean 0, var 1, gamma 1, beta 0): activations
    shrink layer by layer and folded depthwise kernels keep equal per-channel ranges, unlike
    any published checkpoint. Here gamma is log-normal and beta small (seeded), and the
    running statistics are measured on `batch` (calibration-style inputs) as training would.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model.eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.exp(0.5 * torch.randn(bn.num_features, generator=gen)))
            bn.bias.copy_(0.1 * torch.randn(bn.num_features, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the batches below
        model.train()
        model(batch)
    return model.eval()


def cbn(
    cin: int, cout: int, k: int = 3, s: int = 1, g: int = 1, act: type[nn.Module] | None = nn.ReLU
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, s, k // 2, groups=g, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, gate: type[nn.Module] = nn.Hardsigmoid) -> None:
        super().__init__()
        self.fc1, self.fc2, self.gate = nn.Conv2d(c, c // 4, 1), nn.Conv2d(c // 4, c, 1), gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(F.relu(self.fc1(s))))


class MBConv(nn.Module):
    """Inverted residual with optional squeeze-excite (MobileNetV3 / EfficientNet)."""

    def __init__(
        self,
        cin: int,
        mid: int,
        cout: int,
        k: int,
        s: int,
        se: bool,
        act: type[nn.Module],
        gate: type[nn.Module] = nn.Hardsigmoid,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [] if mid == cin else [cbn(cin, mid, 1, act=act)]
        layers.append(cbn(mid, mid, k, s, mid, act=act))
        if se:
            layers.append(SqueezeExcite(mid, gate))
        layers.append(cbn(mid, cout, 1, act=None))
        self.body, self.res = nn.Sequential(*layers), s == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.res else y


class MobileNetV3(nn.Module):
    def __init__(self, large: bool = False, classes: int = 100) -> None:
        super().__init__()
        hs, re = nn.Hardswish, nn.ReLU
        cfg = (
            [
                (16, 64, 24, 3, 2, False, re),
                (24, 72, 24, 3, 1, False, re),
                (24, 72, 40, 5, 2, True, re),
                (40, 120, 40, 5, 1, True, re),
                (40, 240, 80, 3, 2, False, hs),
                (80, 200, 80, 3, 1, False, hs),
                (80, 480, 112, 3, 1, True, hs),
                (112, 672, 160, 5, 2, True, hs),
            ]
            if large
            else [
                (16, 16, 16, 3, 2, True, re),
                (16, 72, 24, 3, 2, False, re),
                (24, 88, 24, 3, 1, False, re),
                (24, 96, 40, 5, 2, True, hs),
                (40, 240, 40, 5, 1, True, hs),
                (40, 120, 48, 5, 1, True, hs),
                (48, 288, 96, 5, 2, True, hs),
            ]
        )
        blocks: list[nn.Module] = [cbn(3, 16, 3, 2, act=hs)]
        if large:
            blocks.append(MBConv(16, 16, 16, 3, 1, False, re))
        blocks += [MBConv(*c) for c in cfg]
        last = cfg[-1][2]
        blocks.append(cbn(last, last * 6, 1, act=hs))
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Linear(last * 6, 256), nn.Hardswish(), nn.Linear(256, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class EfficientNetB0(nn.Module):
    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        si = nn.SiLU
        cfg = [
            (32, 32, 16, 3, 1),
            (16, 96, 24, 3, 2),
            (24, 144, 24, 3, 1),
            (24, 144, 40, 5, 2),
            (40, 240, 80, 3, 2),
            (80, 480, 112, 5, 1),
            (112, 672, 192, 5, 2),
            (192, 1152, 320, 3, 1),
        ]
        blocks: list[nn.Module] = [cbn(3, 32, 3, 2, act=si)]
        blocks += [MBConv(a, b, c, k, s, True, si, nn.Sigmoid) for a, b, c, k, s in cfg]
        blocks.append(cbn(320, 640, 1, act=si))
        self.features, self.fc = nn.Sequential(*blocks), nn.Linear(640, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class ResNeXt(nn.Module):
    """ResNeXt bottlenecks with cardinality 8."""

    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        self.stem = nn.Sequential(cbn(3, 32, 3, 2), nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.ModuleList()
        self.shorts = nn.ModuleList()
        cin = 32
        for width, s in ((64, 1), (128, 2), (256, 2)):
            self.blocks.append(
                nn.Sequential(
                    cbn(cin, width, 1),
                    cbn(width, width, 3, s, 8),
                    cbn(width, width * 2, 1, act=None),
                )
            )
            self.shorts.append(cbn(cin, width * 2, 1, s, act=None))
            cin = width * 2
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for b, sc in zip(self.blocks, self.shorts, strict=True):
            x = F.relu(b(x) + sc(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DenseNet(nn.Module):
    def __init__(self, growth: int = 16, classes: int = 100) -> None:
        super().__init__()
        self.stem = cbn(3, 32, 3, 2)
        self.stages = nn.ModuleList()
        self.trans = nn.ModuleList()
        c = 32
        for n in (3, 3):
            layers = nn.ModuleList()
            for _ in range(n):
                layers.append(
                    nn.Sequential(
                        nn.BatchNorm2d(c),
                        nn.ReLU(),
                        nn.Conv2d(c, 4 * growth, 1),
                        nn.BatchNorm2d(4 * growth),
                        nn.ReLU(),
                        nn.Conv2d(4 * growth, growth, 3, 1, 1),
                    )
                )
                c += growth
            self.stages.append(layers)
            self.trans.append(
                nn.Sequential(
                    nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1), nn.AvgPool2d(2)
                )
            )
            c //= 2
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layers, t in zip(self.stages, self.trans, strict=True):
            for layer in layers:
                x = torch.cat([x, layer(x)], 1)
            x = t(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Fire(nn.Module):
    def __init__(self, cin: int, sq: int, ex: int) -> None:
        super().__init__()
        self.sq, self.e1, self.e3 = (
            nn.Conv2d(cin, sq, 1),
            nn.Conv2d(sq, ex, 1),
            nn.Conv2d(sq, ex, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.relu(self.sq(x))
        return torch.cat([F.relu(self.e1(s)), F.relu(self.e3(s))], 1)


class SqueezeNet(nn.Module):
    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 3, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(64, 16, 64),
            Fire(128, 16, 64),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(128, 32, 128),
            Fire(256, 48, 192),
            nn.Conv2d(384, classes, 1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.net(x), 1)


class ShuffleUnit(nn.Module):
    def __init__(self, cin: int, cout: int, s: int) -> None:
        super().__init__()
        half = cout // 2
        self.s = s
        bin_ = cin if s == 2 else cin // 2
        self.branch = nn.Sequential(
            cbn(bin_, half, 1), cbn(half, half, 3, s, half, act=None), cbn(half, half, 1)
        )
        self.proj = (
            nn.Sequential(cbn(cin, cin, 3, 2, cin, act=None), cbn(cin, half, 1)) if s == 2 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is None:
            a, b = x.chunk(2, 1)
            y = torch.cat([a, self.branch(b)], 1)
        else:
            y = torch.cat([self.proj(x), self.branch(x)], 1)
        n, c, h, w = y.shape
        return y.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleNetV2(nn.Module):
    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        units: list[nn.Module] = [cbn(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1)]
        cin = 24
        for cout, n in ((48, 2), (96, 2), (192, 2)):
            units += [ShuffleUnit(cin, cout, 2)] + [
                ShuffleUnit(cout, cout, 1) for _ in range(n - 1)
            ]
            cin = cout
        units.append(cbn(cin, 512, 1))
        self.features, self.fc = nn.Sequential(*units), nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))


class ConvNeXtBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw, self.norm = nn.Conv2d(c, c, 7, 1, 3, groups=c), nn.LayerNorm(c)
        self.pw1, self.pw2 = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        self.gamma = nn.Parameter(torch.full((c,), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        y = self.gamma * self.pw2(F.gelu(self.pw1(y)))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtT(nn.Module):
    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        dims = (32, 64, 128)
        layers: list[nn.Module] = [nn.Conv2d(3, dims[0], 4, 4)]
        for i, d in enumerate(dims):
            if i:
                layers.append(nn.Conv2d(dims[i - 1], d, 2, 2))
            layers += [ConvNeXtBlock(d), ConvNeXtBlock(d)]
        self.features, self.norm, self.fc = (
            nn.Sequential(*layers),
            nn.LayerNorm(dims[-1]),
            nn.Linear(dims[-1], classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(self.features(x).mean((2, 3))))


class YoloTiny(nn.Module):
    """YOLOv8-style: SiLU conv backbone, upsample + concat neck, DFL box head."""

    def __init__(self, classes: int = 8, reg: int = 8) -> None:
        super().__init__()
        si = nn.SiLU
        self.reg = reg
        self.b1 = nn.Sequential(
            cbn(3, 16, 3, 2, act=si), cbn(16, 32, 3, 2, act=si), cbn(32, 32, 3, 1, act=si)
        )
        self.b2 = nn.Sequential(cbn(32, 64, 3, 2, act=si), cbn(64, 64, 3, 1, act=si))
        self.neck = cbn(96, 64, 3, 1, act=si)
        self.box = nn.Conv2d(64, 4 * reg, 1)
        self.cls = nn.Conv2d(64, classes, 1)
        self.register_buffer("proj", torch.arange(reg, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p3 = self.b1(x)
        p4 = self.b2(p3)
        f = self.neck(torch.cat([F.interpolate(p4, scale_factor=2.0, mode="nearest"), p3], 1))
        n, _, h, w = f.shape
        box = self.box(f).view(n, 4, self.reg, h * w).softmax(2)
        dist = (box * self.proj.view(1, 1, -1, 1)).sum(2)
        return torch.cat([dist, self.cls(f).view(n, -1, h * w).sigmoid()], 1)


class SSDLite(nn.Module):
    """SSD-lite: MobileNetV2 blocks, depthwise-separable heads on two scales."""

    def __init__(self, classes: int = 8, anchors: int = 4) -> None:
        super().__init__()
        r6 = nn.ReLU6
        self.s1 = nn.Sequential(
            cbn(3, 16, 3, 2, act=r6),
            MBConv(16, 64, 24, 3, 2, False, r6),
            MBConv(24, 96, 32, 3, 2, False, r6),
        )
        self.s2 = nn.Sequential(MBConv(32, 128, 64, 3, 2, False, r6))
        self.heads = nn.ModuleList(
            nn.Sequential(cbn(c, c, 3, 1, c, act=r6), nn.Conv2d(c, anchors * (4 + classes), 1))
            for c in (32, 64)
        )
        self.k = 4 + classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.s1(x)
        f2 = self.s2(f1)
        outs = [
            h(f).permute(0, 2, 3, 1).reshape(1, -1, self.k)
            for h, f in zip(self.heads, (f1, f2), strict=True)
        ]
        return torch.cat(outs, 1)


class UNetT(nn.Module):
    """Three-level U-Net with 2x2 stride-2 ConvTranspose upsampling."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        w = (16, 32, 64)
        self.down = nn.ModuleList()
        cin = 3
        for c in w:
            self.down.append(nn.Sequential(cbn(cin, c), cbn(c, c)))
            cin = c
        self.up = nn.ModuleList(nn.ConvTranspose2d(w[i + 1], w[i], 2, 2) for i in (1, 0))
        self.dec = nn.ModuleList(
            nn.Sequential(cbn(2 * w[i], w[i]), cbn(w[i], w[i])) for i in (1, 0)
        )
        self.head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, d in enumerate(self.down):
            x = d(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.dec, strict=True):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


class CRNN(nn.Module):
    """Text-line recogniser: conv stack, height pooled away, BiLSTM, per-column classes."""

    def __init__(self, classes: int = 37, hidden: int = 48) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            cbn(1, 32),
            nn.MaxPool2d(2),
            cbn(32, 64),
            nn.MaxPool2d(2),
            cbn(64, 96),
            nn.MaxPool2d((2, 1)),
        )
        self.rnn = nn.LSTM(96, hidden, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv(x).mean(2).permute(0, 2, 1)
        return self.fc(self.rnn(f)[0])


class EncoderBlock(nn.Module):
    def __init__(self, d: int, heads: int, causal: bool = False) -> None:
        super().__init__()
        self.h, self.causal = heads, causal
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = q @ k.transpose(-1, -2) * (d // self.h) ** -0.5
        if self.causal:
            a = a + torch.triu(torch.full((t, t), -1e4), 1)
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class ViTTiny(nn.Module):
    def __init__(self, d: int = 96, depth: int = 2, classes: int = 100) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, d, 8, 8)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, 17, d) * 0.02)
        self.blocks = nn.Sequential(*[EncoderBlock(d, 3) for _ in range(depth)])
        self.norm, self.fc = nn.LayerNorm(d), nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], 1) + self.pos
        return self.fc(self.norm(self.blocks(t))[:, 0])


class GPT2Block(nn.Module):
    """Token embedding + one causal GPT-2 block + tied LM head, input token ids."""

    def __init__(self, vocab: int = 512, d: int = 128, seq: int = 32) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.block, self.ln = EncoderBlock(d, 4, causal=True), nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.block(self.wte(ids) + self.wpe)))


class InceptionModule(nn.Module):
    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int) -> None:
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, c1, 1), nn.ReLU())
        self.b3 = nn.Sequential(
            nn.Conv2d(cin, c3r, 1), nn.ReLU(), nn.Conv2d(c3r, c3, 3, 1, 1), nn.ReLU()
        )
        self.b5 = nn.Sequential(
            nn.Conv2d(cin, c5r, 1), nn.ReLU(), nn.Conv2d(c5r, c5, 5, 1, 2), nn.ReLU()
        )
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, pp, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class InceptionLRN(nn.Module):
    """GoogLeNet-v1 stem with local response normalisation and two inception modules."""

    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 7, 2, 3),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
            nn.Conv2d(32, 64, 3, 1, 1),
            nn.ReLU(),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
            nn.MaxPool2d(3, 2, 1),
        )
        self.inc = nn.Sequential(
            InceptionModule(64, 32, 48, 64, 8, 16, 16), InceptionModule(128, 64, 64, 96, 16, 32, 32)
        )
        self.fc = nn.Linear(224, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.inc(self.stem(x)), 1), 1))
