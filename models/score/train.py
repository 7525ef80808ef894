"""Trains the score network by denoising score matching on phantom images, keeping an EMA of the
weights and selecting the EMA by the validation loss (fixed timesteps and noise, so comparable).

    /usr/bin/python3 models/score/train.py --train a.h5 b.h5 --val v.h5 --minutes 60 -o ckpt.pt
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
import training  # noqa: E402
from data import augment, load  # noqa: E402
from model import Diffusion, ScoreUNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_standard_arguments(p, minutes=60, eval_every=500)
    p.add_argument("--features", type=int, default=32, help="nf, channels of the first level")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--scale-low", type=float, default=0.5, help="intensity augmentation, lower bound")
    p.add_argument("--scale-high", type=float, default=1.5, help="intensity augmentation, upper bound")
    a = p.parse_args()

    training.start(a)
    x, size = load(a.train)
    vx, _ = load(a.val)
    diffusion = Diffusion()
    model = ScoreUNet(a.features, dropout=a.dropout)
    ema = copy.deepcopy(model).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0)
    print(f"{len(x)} training images of {tuple(x.shape[-2:])} ({size[0]} x {size[1]} padded), {len(vx)} validation, "
          f"{sum(q.numel() for q in model.parameters())} parameters", flush=True)

    def validate():
        state = torch.random.get_rng_state()
        torch.manual_seed(1234)
        with torch.no_grad():
            loss = sum(diffusion.loss(ema, vx[i:i + 256]).item() * len(vx[i:i + 256]) for i in range(0, len(vx), 256))
        torch.random.set_rng_state(state)
        return loss / len(vx)

    budget, step = training.Budget(a.minutes), 0
    selection = training.Selection(higher_is_better=False, partial=a.output + ".partial")
    for idx in budget.batches(len(x), a.batch):
        budget.cosine(optimizer, a.lr, warmup=min(1.0, (step + 1) / 500))
        loss = diffusion.loss(model, augment(x[idx], size, a.scale_low, a.scale_high))
        training.descend(optimizer, loss, clip=1.0)
        step += 1
        decay = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, m in zip(ema.parameters(), model.parameters()):
                e.mul_(decay).add_(m, alpha=1 - decay)
        if step % a.eval_every == 0:
            val = validate()
            selection.offer(val, ema, step=step, seconds=round(budget.elapsed), loss=loss.item(), val_loss=val)
            print(f"step {step} {budget.elapsed:.0f} s loss {loss.item():.4f} val {val:.4f}", flush=True)
    selection.offer(validate(), ema, step=step, seconds=round(budget.elapsed))
    recipe = training.recipe(a, "train", "val", "features", "dropout", "batch", "lr", "ema", "scale_low", "scale_high", "minutes", "threads", "seed",
                             optimizer="AdamW, 500-step warm-up, cosine decay over the time budget, gradient clipping 1.0",
                             objective="denoising score matching (epsilon MSE, t uniform)", diffusion=diffusion.describe(),
                             steps=step, best_val_loss=selection.best, image_size=list(size))
    training.save_checkpoint(a.output, selection.state_dict, recipe, selection.history)
    print(f"saved {a.output}: best validation loss {selection.best:.4f} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
