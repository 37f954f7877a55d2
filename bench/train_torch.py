"""The training benchmark's network in PyTorch, one thread: the reference for
`npm run bench:train`. Reads the network plan (space/plan.ts's NetworkPlan as
JSON) so both frameworks run the same layers, trains with SGD-momentum on a
seeded random batch like the tfjs side, and prints one JSON line.

usage: /usr/bin/python3 train_torch.py PLAN.json BATCH MAX_STEPS MAX_SECONDS
"""
import json
import sys
import time

import torch
from torch import nn

plan = json.load(open(sys.argv[1]))
batch, max_steps, max_seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(1)
torch.manual_seed(1)


def activation(name):
    return {"relu6": nn.ReLU6(), "hswish": nn.Hardswish()}.get(name, nn.Identity())


def conv_bn(c):
    groups = c["outChannels"] if c["depthwise"] else 1
    return nn.Sequential(
        nn.Conv2d(c["inChannels"], c["outChannels"], c["kernel"], c["stride"], c["kernel"] // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c["outChannels"], eps=1e-3, momentum=0.1),
        activation(c["activation"]),
    )


class SqueezeExcite(nn.Module):
    def __init__(self, se):
        super().__init__()
        self.reduce = nn.Conv2d(se["channels"], se["squeezed"], 1)
        self.expand = nn.Conv2d(se["squeezed"], se["channels"], 1)

    def forward(self, x):
        s = torch.relu(self.reduce(x.mean((2, 3), keepdim=True)))
        return x * nn.functional.hardsigmoid(self.expand(s))


class Block(nn.Module):
    def __init__(self, b):
        super().__init__()
        layers = [conv_bn(b["expand"])] if b["expand"] else []
        layers.append(conv_bn(b["depthwise"]))
        if b["squeezeExcite"]:
            layers.append(SqueezeExcite(b["squeezeExcite"]))
        layers.append(conv_bn(b["project"]))
        self.body = nn.Sequential(*layers)
        self.residual = b["residual"]

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


model = nn.Sequential(
    conv_bn(plan["stem"]),
    *[Block(b) for b in plan["blocks"]],
    conv_bn(plan["head"]),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(plan["classifier"]["inFeatures"], plan["classifier"]["outFeatures"]),
)
params = sum(p.numel() for p in model.parameters()) + sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
size = plan["resolution"]
x = torch.randn(batch, plan["inputChannels"], size, size)
y = torch.randint(0, plan["numClasses"], (batch,))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()


def step():
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


model.train()
for _ in range(2):
    step()
steps = 0
t0 = time.perf_counter()
while steps < max_steps and time.perf_counter() - t0 < max_seconds:
    step()
    steps += 1
train_ips = steps * batch / (time.perf_counter() - t0)

model.eval()
images = torch.randn(256, plan["inputChannels"], size, size)
best = float("inf")
with torch.no_grad():
    for _ in range(3):
        s = time.perf_counter()
        model(images)
        best = min(best, time.perf_counter() - s)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": params, "trainImagesPerSecond": train_ips, "trainSteps": steps, "inferImagesPerSecond": 256 / best}))
