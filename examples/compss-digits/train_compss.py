"""The DDP example's PyCOMPSs twin: data-parallel training as COMPSs tasks. Each epoch, one task
per shard trains a copy of the current weights on its shard (a few SGD steps of softmax
regression, numpy only); compss_wait_on gathers them and their average becomes the next
weights (weights merged, as in GRM's seed, Figure 1). COMPSs runs the tasks on the job's nodes.
Submit:  grm sbatch --runtime=compss -N 2 examples/compss-digits/train_compss.py"""
import numpy as np
from pycompss.api.api import compss_wait_on
from pycompss.api.task import task
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SHARDS, EPOCHS, LR = 4, 30, 0.5


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@task(returns=1)
def train_shard(w, x, y, steps=10):
    """A few full-batch gradient steps of softmax regression on one shard, from weights w."""
    onehot = np.eye(10)[y]
    for _ in range(steps):
        w = w - LR * x.T @ (softmax(x @ w) - onehot) / len(x)
    return w


def main():
    digits = load_digits()  # bundled with scikit-learn: no download
    x = np.hstack([digits.data / 16.0, np.ones((len(digits.data), 1))])  # bias column
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0)
    w = np.zeros((x.shape[1], 10))
    for epoch in range(1, EPOCHS + 1):
        futures = [train_shard(w, x_train[s::SHARDS], y_train[s::SHARDS]) for s in range(SHARDS)]
        w = np.mean(compss_wait_on(futures), axis=0)  # weights merged
        loss = -np.log(softmax(x_train @ w)[np.arange(len(y_train)), y_train] + 1e-12).mean()
        accuracy = (softmax(x_test @ w).argmax(axis=1) == y_test).mean()
        print(f"GRM_METRIC loss={loss:.4f} accuracy={accuracy:.4f} step={epoch}", flush=True)
    print(f"test accuracy {accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
