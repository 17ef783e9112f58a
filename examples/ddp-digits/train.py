#!/usr/bin/python3
"""Data-parallel training (PyTorch DDP over gloo) of a small classifier on scikit-learn's
bundled digits: one rank per node, started by ddp.sh through srun. Every rank trains on its
own shard of the training set; DDP averages the gradients, so all ranks hold the same model.
Prints its loss and accuracy as GRM_METRIC lines: GRM stores and plots them per rank."""
import os

import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

rank, world = int(os.environ["SLURM_PROCID"]), int(os.environ["SLURM_NTASKS"])
dist.init_process_group("gloo", rank=rank, world_size=world)  # MASTER_ADDR/PORT from ddp.sh
torch.manual_seed(0)

digits = load_digits()  # 1,797 8x8 images, no download
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
x_shard, y_shard = x_train[rank::world], y_train[rank::world]  # this rank's share

model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)))
optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(1, 31):
    for i in range(0, len(x_shard), 32):
        optimiser.zero_grad()
        loss = loss_fn(model(x_shard[i:i + 32]), y_shard[i:i + 32])
        loss.backward()  # gradients averaged across ranks here
        optimiser.step()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"GRM_METRIC loss={loss.item():.4f} accuracy={accuracy:.4f} step={epoch}", flush=True)

print(f"rank {rank} of {world}: test accuracy {accuracy:.4f}", flush=True)
dist.destroy_process_group()
