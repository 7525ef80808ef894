"""What every trainer under models/ shares: the standard arguments, the time-budgeted loop with
its learning-rate schedules, selection of the best weights by validation, checkpoints (one key,
"state_dict", for the weights every exporter loads) and the HDF5 dataset loader.

A trainer imports it as `import training` after putting models/ on sys.path (each trainer does
so in its first lines), so it runs as `/usr/bin/python3 models/KIND/train.py ...` from anywhere.
"""
import copy
import math
import time

import h5py
import numpy as np
import torch


def add_standard_arguments(parser, minutes, eval_every, many_files=True):
    """--train/--val (several files pooled, or one), --minutes, --eval-every, --threads, --seed, -o."""
    files = {"nargs": "+"} if many_files else {}
    parser.add_argument("--train", required=True, help="training set(s) from magpie simulate dataset", **files)
    parser.add_argument("--val", required=True, help="validation set(s), used to select the weights", **files)
    parser.add_argument("--minutes", type=float, default=minutes, help="training time budget")
    parser.add_argument("--eval-every", type=int, default=eval_every, help="steps between validations")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (training runs beside other work)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", required=True, help="checkpoint: state_dict, recipe, history")


def start(args):
    """Seeds torch and sets its threads; returns a generator seeded alike, for the trainer's own draws."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    return torch.Generator().manual_seed(args.seed)


def recipe(args, *keys, **more):
    """The arguments that made the weights (what the manifest records), and anything else to record."""
    return dict({k: getattr(args, k) for k in keys}, **more)


def load_datasets(paths, *names, limit=None):
    """Datasets `names` of each HDF5 file (the first `limit` records of each) as float32 tensors,
    concatenated over the files; one tensor per name."""
    if isinstance(paths, str):
        paths = [paths]
    parts = {name: [] for name in names}
    for path in paths:
        with h5py.File(path, "r") as f:
            for name in names:
                if name not in f:
                    raise ValueError(f"{path}: no /{name}; is it a dataset of the right kind?")
                parts[name].append(torch.from_numpy(np.asarray(f[name][:limit], dtype=np.float32)))
    out = tuple(torch.cat(parts[name]) for name in names)
    return out if len(out) > 1 else out[0]


class Budget:
    """The time budget of a run (--minutes): how much is spent, and the learning-rate schedules
    over it that the trainers use."""

    def __init__(self, minutes):
        self.seconds = minutes * 60
        self.began = time.time()

    @property
    def elapsed(self):
        return time.time() - self.began

    @property
    def spent(self):
        return self.elapsed >= self.seconds

    def cosine(self, optimizer, lr, lr_end=0.0, warmup=1.0):
        """lr_end + (lr - lr_end) times a cosine from 1 to 0 over the budget, times `warmup` (<= 1)."""
        rate = lr_end + (lr - lr_end) * warmup * 0.5 * (1 + math.cos(math.pi * min(1.0, self.elapsed / self.seconds)))
        set_rate(optimizer, rate)
        return rate

    def batches(self, count, size, generator=None):
        """Indices of batches of `size` out of `count` examples until the budget is spent: epoch
        after epoch, a fresh permutation each, the last partial batch dropped."""
        while not self.spent:
            order = torch.randperm(count, generator=generator)
            for i in range(0, count - size + 1, size):
                if self.spent:
                    return
                yield order[i:i + size]


def descend(optimizer, loss, clip=None):
    """One optimizer step on `loss` (gradients clipped to norm `clip` if given)."""
    optimizer.zero_grad()
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_([q for g in optimizer.param_groups for q in g["params"]], clip)
    optimizer.step()


def set_rate(optimizer, rate):
    for group in optimizer.param_groups:
        group["lr"] = rate


class Selection:
    """The weights with the best validation score so far (higher or lower is better), the history
    of validations, and, if `partial` is given, a checkpoint there at every improvement so a run
    stopped early still leaves its best weights."""

    def __init__(self, higher_is_better, partial=None):
        self.sign = 1 if higher_is_better else -1
        self.best, self.state_dict, self.history, self.partial = None, None, [], partial

    def offer(self, score, model, **record):
        """Records a validation; keeps the model's weights if `score` is the best so far. Returns whether it was."""
        self.history.append(dict(record, score=score))
        if self.best is not None and self.sign * score <= self.sign * self.best:
            return False
        self.best, self.state_dict = score, copy.deepcopy(model.state_dict())
        if self.partial:
            save_checkpoint(self.partial, self.state_dict, {}, self.history)
        return True


def save_checkpoint(path, state_dict, recipe, history, **more):
    torch.save(dict({"state_dict": state_dict, "recipe": recipe, "history": history}, **more), path)


def load_checkpoint(path):
    """A checkpoint's dict; "state" (the denoiser's key in earlier checkpoints) is read as "state_dict"."""
    checkpoint = torch.load(path)
    if "state_dict" not in checkpoint and "state" in checkpoint:
        checkpoint["state_dict"] = checkpoint.pop("state")
    return checkpoint
