"""Trains the score network by denoising score matching on phantom images, keeping an EMA of the
weights and selecting the EMA by the validation loss (fixed timesteps and noise, so comparable).

    /usr/bin/python3 models/score/train.py --train a.h5 b.h5 --val v.h5 --minutes 60 -o ckpt.pt
"""
import argparse
import copy
import math
import time

import torch

from data import augment, load
from model import Diffusion, ScoreUNet


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", nargs="+", required=True)
    p.add_argument("--val", nargs="+", required=True)
    p.add_argument("--features", type=int, default=32, help="nf, channels of the first level")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--scale-low", type=float, default=0.5, help="intensity augmentation, lower bound")
    p.add_argument("--scale-high", type=float, default=1.5, help="intensity augmentation, upper bound")
    p.add_argument("--minutes", type=float, default=60, help="training time budget")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
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

    budget = a.minutes * 60
    start, step, best, best_state, history = time.time(), 0, math.inf, None, []
    while time.time() - start < budget:
        order = torch.randperm(len(x))
        for i in range(0, len(order) - a.batch + 1, a.batch):
            elapsed = time.time() - start
            if elapsed >= budget:
                break
            warmup = min(1.0, (step + 1) / 500)
            for group in optimizer.param_groups:  # warm-up, then cosine decay over the time budget
                group["lr"] = a.lr * warmup * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
            loss = diffusion.loss(model, augment(x[order[i:i + a.batch]], size, a.scale_low, a.scale_high))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            decay = min(a.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for e, m in zip(ema.parameters(), model.parameters()):
                    e.mul_(decay).add_(m, alpha=1 - decay)
            if step % a.eval_every == 0:
                val = validate()
                history.append({"step": step, "seconds": round(time.time() - start), "loss": loss.item(), "val_loss": val})
                print(f"step {step} {time.time() - start:.0f} s loss {loss.item():.4f} val {val:.4f}", flush=True)
                if val < best:
                    best, best_state = val, copy.deepcopy(ema.state_dict())
                    torch.save({"state_dict": best_state, "recipe": {}, "history": history}, a.output + ".partial")
    val = validate()
    if val < best:
        best, best_state = val, ema.state_dict()
    recipe = {k: getattr(a, k) for k in ("train", "val", "features", "dropout", "batch", "lr", "ema", "scale_low",
                                          "scale_high", "minutes", "threads", "seed")}
    recipe.update(optimizer="AdamW, 500-step warm-up, cosine decay over the time budget, gradient clipping 1.0",
                  objective="denoising score matching (epsilon MSE, t uniform)", diffusion=diffusion.describe(),
                  steps=step, best_val_loss=best, image_size=list(size))
    torch.save({"state_dict": best_state, "recipe": recipe, "history": history}, a.output)
    print(f"saved {a.output}: best validation loss {best:.4f} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
