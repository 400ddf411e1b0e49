#!/usr/bin/python3
"""Plain-PyTorch twin of robustness/attacks/texture_patch_attack_benchmark.cc, timed the same way.

One Texture Patch Attack agent run for exactly 3 RL steps of 500 queries, written the way the
reference (Chenglin-Yang/PatchAttack, research/patch_attack.md sections 2 and 6) does its step:
the policy as a one-layer nn.LSTM stepped once per action with an embedding of the previous
action, categorical samples, the 500 images built by a Python loop that pastes one patch per
sample, the victim queried in eval mode without gradients, rewards log(1 - p_y + eps)
standardised over the batch, and one Adam step of REINFORCE (backward with retain_graph, as the
reference). Same shapes, victims and threads as the C++ benchmark; prints queries/s:

  /usr/bin/python3 tools/side_by_side/tpa_reference.py [--min_time 3]

Compare with items_per_second of BM_AgentOnly/28, BM_AgentOnly/224 and
BM_Agent_ResNet18w16_28px from
  bazel run -c opt //robustness/attacks:texture_patch_attack_benchmark -- --benchmark_min_time=3
"""
import argparse
import math
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_reference  # noqa: E402

QUERIES, STEPS, HIDDEN, TEXTURES = 500, 3, 30, 30
EPS = torch.finfo(torch.float32).eps


class Linear(nn.Module):
    """attacks_internal::LinearClassifier: dropout(linear((x - 0.5) / 0.25)) (eval: no dropout)."""

    def __init__(self, features, classes=10):
        super().__init__()
        self.fc = nn.Linear(features, classes)

    def forward(self, x):
        return self.fc((x.flatten(1) - 0.5) / 0.25)


class Policy(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.sizes = sizes
        self.start = nn.Embedding(224, HIDDEN)
        self.start.weight.requires_grad_(False)
        self.lstm = nn.LSTM(HIDDEN, HIDDEN)
        self.heads = nn.ModuleList(nn.Linear(HIDDEN, n) for n in sizes)
        self.embeds = nn.ModuleList(nn.Embedding(n, HIDDEN) for n in sizes[:-1])

    def sample(self, batch):
        x = self.start(torch.zeros(batch, dtype=torch.long)).unsqueeze(0)
        state, actions, log_probs = None, [], []
        for i in range(len(self.sizes)):
            out, state = self.lstm(x, state)
            dist = torch.distributions.Categorical(logits=self.heads[i](out.squeeze(0)))
            a = dist.sample()
            actions.append(a)
            log_probs.append(dist.log_prob(a))
            if i + 1 < len(self.sizes):
                x = self.embeds[i](a).unsqueeze(0)
        return torch.stack(actions, 1), torch.stack(log_probs, 1)


def agent(victim, image, label, textures):
    c, h, w = image.shape
    t = textures.shape[-1]
    s = int(math.sqrt(h * w * 0.025))
    policy = Policy([h - s, w - s, TEXTURES, t - s, t - s])
    adam = torch.optim.Adam(policy.parameters(), lr=0.03)
    best, best_reward = None, -1000.0
    for _ in range(STEPS):
        actions, log_probs = policy.sample(QUERIES)
        images = image.unsqueeze(0).repeat(QUERIES, 1, 1, 1)
        for b in range(QUERIES):  # the reference's paste loop
            r, col, k, u, v = actions[b].tolist()
            images[b, :, r:r + s, col:col + s] = textures[k, :, u:u + s, v:v + s]
        with torch.no_grad():
            p = torch.softmax(victim(images), 1)[:, label]
        reward = torch.log(1 - p + EPS)
        top = reward.argmax().item()
        if reward[top].item() > best_reward:
            best_reward, best = reward[top].item(), actions[top]
        returns = reward.unsqueeze(1).expand(-1, 5)
        advantage = (returns - returns.mean()) / (returns.std() + EPS)
        loss = -(log_probs * advantage).sum() / QUERIES
        adam.zero_grad()
        loss.backward(retain_graph=True)
        adam.step()
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min_time", type=float, default=3.0, help="seconds per case")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {QUERIES} queries x "
          f"{STEPS} steps per agent")
    cases = [("AgentOnly/28", lambda: Linear(28 * 28), 1, 28),
             ("AgentOnly/224", lambda: Linear(3 * 224 * 224), 3, 224),
             ("Agent_ResNet18w16_28px", models_reference.ResNet, 1, 28)]
    for name, make, channels, size in cases:
        torch.manual_seed(0)
        victim = make().eval()
        data = torch.Generator().manual_seed(0)
        image = torch.rand(channels, size, size, generator=data)
        textures = torch.rand(TEXTURES, channels, size, size, generator=data)
        with torch.no_grad():
            label = victim(image.unsqueeze(0)).argmax(1).item()
        n, t = models_reference.time_loop(lambda: agent(victim, image, label, textures),
                                          args.min_time)
        print(f"{name:<24} {1000 * t / n:9.1f} ms/agent  {n * STEPS * QUERIES / t:9.0f} queries/s")


if __name__ == "__main__":
    main()
