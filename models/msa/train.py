"""Trains a deblurring network (MSA-transformer or the compact Restormer it is compared with) on
pairs from `magpie simulate dataset deblur`, selecting the weights by validation PSNR.

    /usr/bin/python3 models/msa/train.py --arch msa --train train.h5 --val val.h5 --minutes 60 --augment dihedral --nonnegative -o msa.ckpt

Both networks get the same recipe: whole 120 x 120 images (--crop 120; the size they are run at:
attention learnt on smaller crops does not carry over to the whole image), batch 4, Adam
(0.5, 0.999) (the paper's), the learning rate decayed by a cosine over the time budget (the paper:
1e-4 -> 1e-5 over 200 epochs; here 3e-4 -> 1e-5 over the budget, as the budget is about an epoch).
"""
import argparse
import math
import time

import h5py
import numpy as np
import torch

from losses import DeblurLoss
from model import build


def load(path, limit=None):
    with h5py.File(path, "r") as f:
        native = torch.from_numpy(np.asarray(f["native"][:limit], dtype=np.float32)).unsqueeze(1)
        sharp = torch.from_numpy(np.asarray(f["sharp"][:limit], dtype=np.float32)).unsqueeze(1)
    return native, sharp


def psnrs(output, label):
    """PSNR of each image of the batch, the output clipped to [0, 1] (data range 1)."""
    mse = ((output.clamp(0, 1) - label) ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(1 / mse.clamp_min(1e-12))


def psnr(output, label):
    return psnrs(output, label).mean().item()


def crops(native, sharp, indices, size, generator, dihedral=False):
    """Random crops of the pairs at `indices`; with `dihedral`, each pair also gets one of the eight
    flips and transpositions of the square (the scanner's x and y are alike: equal gradients and
    nearly equal drive frequencies, so a transformed pair is a pair the scanner could have made)."""
    h, w = native.shape[-2:]
    ys = torch.randint(0, (h - size) // 4 + 1, (len(indices),), generator=generator) * 4
    xs = torch.randint(0, (w - size) // 4 + 1, (len(indices),), generator=generator) * 4
    a = torch.stack([native[i, :, y:y + size, x:x + size] for i, y, x in zip(indices.tolist(), ys.tolist(), xs.tolist())])
    b = torch.stack([sharp[i, :, y:y + size, x:x + size] for i, y, x in zip(indices.tolist(), ys.tolist(), xs.tolist())])
    if dihedral:
        def turn(t, flip_y, flip_x, transpose):
            t = t.flip([d for d, on in ((-2, flip_y), (-1, flip_x)) if on]) if flip_y or flip_x else t
            return t.transpose(-2, -1) if transpose else t
        draws = torch.randint(0, 2, (len(indices), 3), generator=generator).tolist()
        a = torch.stack([turn(t, *d) for t, d in zip(a, draws)])
        b = torch.stack([turn(t, *d) for t, d in zip(b, draws)])
    return a, b


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=["msa", "restormer"], required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--val-count", type=int, default=200, help="validation images used for selection")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=120, help="square crops of this size (120: whole images)")
    p.add_argument("--augment", choices=["none", "dihedral"], default="none",
                   help="dihedral: a random flip / transposition of each training pair")
    p.add_argument("--nonnegative", action="store_true", help="a ReLU on the output (model.nonnegative)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--lr-end", type=float, default=1e-5)
    p.add_argument("--beta1", type=float, default=0.5, help="Adam's first-moment decay (the paper's 0.5)")
    p.add_argument("--minutes", type=float, default=45)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", help="start from these weights (a checkpoint or an exported TorchScript model)")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    generator = torch.Generator().manual_seed(a.seed)
    if not 0 <= a.beta1 < 1:
        p.error(f"--beta1 {a.beta1}: Adam's first-moment decay is in [0, 1)")
    native, sharp = load(a.train)
    if a.crop % 4 or a.crop > min(native.shape[-2:]):
        p.error(f"--crop {a.crop}: a crop is a multiple of 4 pixels, at most the images' {tuple(native.shape[-2:])}")
    val_native, val_sharp = load(a.val, a.val_count)
    model = build(a.arch, a.width, a.nonnegative)
    if a.init:
        source = torch.load(a.init)["state_dict"] if a.init.endswith(".ckpt") else torch.jit.load(a.init).state_dict()
        model.load_state_dict(source)
    criterion = DeblurLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(a.beta1, 0.999))
    print(f"{a.arch}: {len(native)} training pairs, {len(val_native)} validation, "
          f"{sum(q.numel() for q in model.parameters())} parameters; native PSNR on validation "
          f"{psnr(val_native, val_sharp):.2f} dB", flush=True)

    def validate():
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(val_native[i:i + 25]) for i in range(0, len(val_native), 25)])
        model.train()
        return psnr(out, val_sharp)

    budget = a.minutes * 60
    start, step, best, history = time.time(), 0, -math.inf, []
    recipe = {k: getattr(a, k) for k in ("arch", "train", "val", "val_count", "width", "batch", "crop", "augment",
                                          "nonnegative", "lr", "lr_end", "minutes", "threads", "seed", "init")}
    recipe.update(optimizer=f"Adam ({a.beta1}, 0.999), cosine decay lr -> lr_end over the time budget",
                  loss="Charbonnier + 0.05 edge (Laplacian) + 0.0005 contrastive (fixed Gaussian-derivative features)")
    while time.time() - start < budget:
        order = torch.randperm(len(native), generator=generator)
        for i in range(0, len(order) - a.batch + 1, a.batch):
            elapsed = time.time() - start
            if elapsed >= budget:
                break
            for group in optimizer.param_groups:
                group["lr"] = a.lr_end + (a.lr - a.lr_end) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
            x, y = crops(native, sharp, order[i:i + a.batch], a.crop, generator, a.augment == "dihedral")
            loss = criterion(model(x), y, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % a.eval_every == 0:
                val = validate()
                history.append({"step": step, "seconds": round(time.time() - start), "loss": loss.item(), "val_psnr": val})
                print(f"step {step} {time.time() - start:.0f} s loss {loss.item():.4f} val PSNR {val:.2f} dB", flush=True)
                if val > best:
                    best = val
                    torch.save({"state_dict": model.state_dict(), "recipe": dict(recipe, steps=step, best_val_psnr=best),
                                "history": history}, a.output + ".partial")
    val = validate()
    if val > best:
        best = val
        torch.save({"state_dict": model.state_dict(), "recipe": {}, "history": history}, a.output + ".partial")
    state = torch.load(a.output + ".partial")["state_dict"]
    recipe.update(steps=step, epochs=round(step * a.batch / len(native), 2), best_val_psnr=best)
    torch.save({"state_dict": state, "recipe": recipe, "history": history}, a.output)
    print(f"saved {a.output}: best validation PSNR {best:.2f} dB after {step} steps", flush=True)


if __name__ == "__main__":
    main()
