"""Trains the SM super-resolution network for one scale factor on `models/sm-upscaler/datasets.sh` data,
choosing the weights by validation nRMSE (noise-free and 20 dB inputs, mean of the two).

    /usr/bin/python3 models/sm-upscaler/train.py --factor 4 --loss fsc --train train.h5 --val val.h5 --minutes 12 -o x4.ckpt

Each step draws frequency images, applies one of the eight flips/transposes to the fine image,
and takes the input as every factor-th point of it: of the noise-free SM or of the 20 dB one
(half each), the label always noise-free. Training runs on crops of 8 x 8 coarse points (the
whole image at 4x and 8x); the weights do not depend on the image size, and the exported model
takes the whole 32 x 32 grid. AdamW (the paper's) with a cosine schedule over the time budget.
"""
import argparse
import math
import time

import h5py
import numpy as np
import torch

from losses import FSCLoss, L1Loss, nrmse
from model import SMUpscaler, bicubic as bicubic_upscale


def load(path):
    with h5py.File(path, "r") as f:
        return torch.from_numpy(f["clean"][:]), torch.from_numpy(f["high"][:])


def coarse(fine: torch.Tensor, factor: int) -> torch.Tensor:
    return fine[..., ::factor, ::factor]


def evaluate(upscale, clean, noisy, factor, batch=256):
    """Mean nRMSE over the images, for noise-free and for 20 dB input."""
    results = []
    with torch.no_grad():
        for source in (clean, noisy):
            errors = [nrmse(upscale(coarse(source[i:i + batch], factor)), clean[i:i + batch]) for i in range(0, len(clean), batch)]
            results.append(torch.cat(errors).mean().item())
    return results


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    if k & 4:
        x = x.transpose(-2, -1)
    return torch.rot90(x, k & 3, dims=(-2, -1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--factor", type=int, choices=[2, 4, 8], required=True)
    p.add_argument("--loss", choices=["fsc", "l1"], default="fsc")
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--val-count", type=int, default=1000, help="validation images used for selection")
    p.add_argument("--crop", type=int, default=8, help="coarse points per side of a training crop")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-end", type=float, default=1e-5)
    p.add_argument("--minutes", type=float, default=12)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    generator = torch.Generator().manual_seed(a.seed)
    clean, noisy = load(a.train)
    val_clean, val_noisy = load(a.val)
    pick = torch.randperm(len(val_clean), generator=torch.Generator().manual_seed(1))[:a.val_count]
    val_clean, val_noisy = val_clean[pick], val_noisy[pick]
    size = clean.shape[-1]
    crop = min(a.crop, size // a.factor)
    model = SMUpscaler(coarse=crop, factor=a.factor)
    full = SMUpscaler(coarse=size // a.factor, factor=a.factor)
    criterion = FSCLoss() if a.loss == "fsc" else L1Loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr)
    full.eval()
    bicubic = evaluate(lambda x: bicubic_upscale(x, full.rows, full.columns), val_clean, val_noisy, a.factor)
    print(f"x{a.factor} {a.loss}: {len(clean)} training images, {len(val_clean)} validation, "
          f"{sum(q.numel() for q in model.parameters())} parameters; bicubic validation nRMSE "
          f"{100 * bicubic[0]:.2f} % / {100 * bicubic[1]:.2f} % (noise-free / 20 dB)", flush=True)

    budget = a.minutes * 60
    start, step, best, history = time.time(), 0, math.inf, []
    recipe = {k: getattr(a, k) for k in ("factor", "loss", "train", "val", "val_count", "crop", "batch", "lr", "lr_end",
                                          "minutes", "threads", "seed")}
    recipe.update(optimizer="AdamW (defaults), cosine decay lr -> lr_end over the time budget",
                  bicubic_val_nrmse=bicubic)
    span = crop * a.factor
    while time.time() - start < budget:
        elapsed = time.time() - start
        for group in optimizer.param_groups:
            group["lr"] = a.lr_end + (a.lr - a.lr_end) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        index = torch.randint(0, len(clean), (a.batch,), generator=generator)
        y0, x0 = (torch.randint(0, (size - span) // a.factor + 1, (2,), generator=generator) * a.factor).tolist()
        k = int(torch.randint(0, 8, (1,), generator=generator))
        label = dihedral(clean[index, :, y0:y0 + span, x0:x0 + span], k)
        source = dihedral(noisy[index, :, y0:y0 + span, x0:x0 + span], k)
        use_noisy = torch.rand(a.batch, generator=generator) < 0.5
        source = torch.where(use_noisy.reshape(-1, 1, 1, 1), source, label)
        # A dihedral turn moves the fine grid's first point; take every factor-th point from there.
        loss = criterion(model(coarse(source, a.factor)), label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % a.eval_every == 0:
            full.load_state_dict(model.state_dict())
            val = evaluate(full, val_clean, val_noisy, a.factor)
            history.append({"step": step, "seconds": round(time.time() - start), "loss": loss.item(), "val_nrmse": val})
            print(f"step {step} {time.time() - start:.0f} s loss {loss.item():.5f} val nRMSE "
                  f"{100 * val[0]:.2f} % / {100 * val[1]:.2f} %", flush=True)
            if sum(val) < best:
                best = sum(val)
                torch.save({"state_dict": model.state_dict(), "history": history}, a.output + ".partial")
    state = torch.load(a.output + ".partial")["state_dict"]
    recipe.update(steps=step, best_val_nrmse=best / 2)
    torch.save({"state_dict": state, "recipe": recipe, "history": history}, a.output)
    print(f"saved {a.output}: best validation nRMSE {100 * best / 2:.2f} % (mean of both inputs) after {step} steps", flush=True)


if __name__ == "__main__":
    main()
