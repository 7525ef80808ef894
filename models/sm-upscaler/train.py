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
import os
import sys

import torch

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
import training  # noqa: E402
from losses import FSCLoss, L1Loss, nrmse  # noqa: E402
from model import SMUpscaler, bicubic as bicubic_upscale  # noqa: E402


def load(path):
    """/clean (noise-free) and /high (as measured) frequency images of a dataset file."""
    return training.load_datasets(path, "clean", "high")


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
    p.add_argument("--structure", choices=FSCLoss.STRUCTURES, default="contrast",
                   help="the FSC loss's S_AD: contrast (SSIM's contrast-structure term, losses.py) or covariance (eq. 10 as written)")
    p.add_argument("--c1", type=float, default=1.0,
                   help="the FSC loss's L_AD constant, on images scaled to a largest magnitude of 1 (0.01: the first models' value)")
    training.add_standard_arguments(p, minutes=12, eval_every=100, many_files=False)
    p.add_argument("--val-count", type=int, default=1000, help="validation images used for selection")
    p.add_argument("--crop", type=int, default=8, help="coarse points per side of a training crop")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-end", type=float, default=1e-5)
    a = p.parse_args()

    generator = training.start(a)
    clean, noisy = load(a.train)
    val_clean, val_noisy = load(a.val)
    pick = torch.randperm(len(val_clean), generator=torch.Generator().manual_seed(1))[:a.val_count]
    val_clean, val_noisy = val_clean[pick], val_noisy[pick]
    size = clean.shape[-1]
    crop = min(a.crop, size // a.factor)
    model = SMUpscaler(coarse=crop, factor=a.factor)
    full = SMUpscaler(coarse=size // a.factor, factor=a.factor)
    criterion = FSCLoss(c1=a.c1, structure=a.structure) if a.loss == "fsc" else L1Loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr)
    full.eval()
    bicubic = evaluate(lambda x: bicubic_upscale(x, full.rows, full.columns), val_clean, val_noisy, a.factor)
    print(f"x{a.factor} {a.loss}: {len(clean)} training images, {len(val_clean)} validation, "
          f"{sum(q.numel() for q in model.parameters())} parameters; bicubic validation nRMSE "
          f"{100 * bicubic[0]:.2f} % / {100 * bicubic[1]:.2f} % (noise-free / 20 dB)", flush=True)

    recipe = training.recipe(a, "factor", "loss", *(["structure", "c1"] if a.loss == "fsc" else []), "train", "val", "val_count", "crop", "batch", "lr", "lr_end", "minutes", "threads", "seed",
                             optimizer="AdamW (defaults), cosine decay lr -> lr_end over the time budget", bicubic_val_nrmse=bicubic)
    budget, step = training.Budget(a.minutes), 0
    selection = training.Selection(higher_is_better=False, partial=a.output + ".partial")
    span = crop * a.factor
    while not budget.spent:
        budget.cosine(optimizer, a.lr, a.lr_end)
        index = torch.randint(0, len(clean), (a.batch,), generator=generator)
        y0, x0 = (torch.randint(0, (size - span) // a.factor + 1, (2,), generator=generator) * a.factor).tolist()
        k = int(torch.randint(0, 8, (1,), generator=generator))
        label = dihedral(clean[index, :, y0:y0 + span, x0:x0 + span], k)
        source = dihedral(noisy[index, :, y0:y0 + span, x0:x0 + span], k)
        use_noisy = torch.rand(a.batch, generator=generator) < 0.5
        source = torch.where(use_noisy.reshape(-1, 1, 1, 1), source, label)
        # A dihedral turn moves the fine grid's first point; take every factor-th point from there.
        loss = criterion(model(coarse(source, a.factor)), label)
        training.descend(optimizer, loss)
        step += 1
        if step % a.eval_every == 0:
            full.load_state_dict(model.state_dict())
            val = evaluate(full, val_clean, val_noisy, a.factor)
            # Selected on the mean of the noise-free and the 20 dB nRMSE.
            selection.offer(sum(val) / 2, model, step=step, seconds=round(budget.elapsed), loss=loss.item(), val_nrmse=val)
            print(f"step {step} {budget.elapsed:.0f} s loss {loss.item():.5f} val nRMSE "
                  f"{100 * val[0]:.2f} % / {100 * val[1]:.2f} %", flush=True)
    if selection.state_dict is None:   # no validation within the budget: the last weights
        full.load_state_dict(model.state_dict())
        selection.offer(sum(evaluate(full, val_clean, val_noisy, a.factor)) / 2, model, step=step)
    recipe.update(steps=step, best_val_nrmse=selection.best)
    training.save_checkpoint(a.output, selection.state_dict, recipe, selection.history)
    print(f"saved {a.output}: best validation nRMSE {100 * selection.best:.2f} % (mean of both inputs) after {step} steps", flush=True)


if __name__ == "__main__":
    main()
