"""Trains a deblurring network (MSA-transformer or the compact Restormer it is compared with) on
pairs from `magpie simulate dataset deblur`, selecting the weights by validation PSNR.

    /usr/bin/python3 models/msa/train.py --arch msa --train train.h5 --val val.h5 --minutes 60 --augment dihedral --nonnegative -o msa.ckpt

Both networks get the same recipe: whole 120 x 120 images (--crop 120; the size they are run at:
attention learnt on smaller crops does not carry over to the whole image), batch 4, Adam
(0.5, 0.999) (the paper's), the learning rate decayed by a cosine over the time budget (the paper:
1e-4 -> 1e-5 over 200 epochs; here 3e-4 -> 1e-5 over the budget, as the budget is about an epoch).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
import training  # noqa: E402
from losses import DeblurLoss  # noqa: E402
from model import build  # noqa: E402


def load(path, limit=None):
    """/native and /sharp as N x 1 x H x W."""
    native, sharp = training.load_datasets(path, "native", "sharp", limit=limit)
    return native.unsqueeze(1), sharp.unsqueeze(1)


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
    training.add_standard_arguments(p, minutes=45, eval_every=100, many_files=False)
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
    p.add_argument("--init", help="start from these weights (a checkpoint or an exported TorchScript model)")
    a = p.parse_args()

    generator = training.start(a)
    if not 0 <= a.beta1 < 1:
        p.error(f"--beta1 {a.beta1}: Adam's first-moment decay is in [0, 1)")
    native, sharp = load(a.train)
    if a.crop % 4 or a.crop > min(native.shape[-2:]):
        p.error(f"--crop {a.crop}: a crop is a multiple of 4 pixels, at most the images' {tuple(native.shape[-2:])}")
    val_native, val_sharp = load(a.val, a.val_count)
    model = build(a.arch, a.width, a.nonnegative)
    if a.init:
        source = training.load_checkpoint(a.init)["state_dict"] if a.init.endswith(".ckpt") else torch.jit.load(a.init).state_dict()
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

    recipe = training.recipe(a, "arch", "train", "val", "val_count", "width", "batch", "crop", "augment", "nonnegative", "lr", "lr_end",
                             "minutes", "threads", "seed", "init",
                             optimizer=f"Adam ({a.beta1}, 0.999), cosine decay lr -> lr_end over the time budget",
                             loss="Charbonnier + 0.05 edge (Laplacian) + 0.0005 contrastive (fixed Gaussian-derivative features)")
    budget, step = training.Budget(a.minutes), 0
    selection = training.Selection(higher_is_better=True, partial=a.output + ".partial")
    for idx in budget.batches(len(native), a.batch, generator):
        budget.cosine(optimizer, a.lr, a.lr_end)
        x, y = crops(native, sharp, idx, a.crop, generator, a.augment == "dihedral")
        loss = criterion(model(x), y, x)
        training.descend(optimizer, loss)
        step += 1
        if step % a.eval_every == 0:
            val = validate()
            selection.offer(val, model, step=step, seconds=round(budget.elapsed), loss=loss.item(), val_psnr=val)
            print(f"step {step} {budget.elapsed:.0f} s loss {loss.item():.4f} val PSNR {val:.2f} dB", flush=True)
    selection.offer(validate(), model, step=step, seconds=round(budget.elapsed))
    recipe.update(steps=step, epochs=round(step * a.batch / len(native), 2), best_val_psnr=selection.best)
    training.save_checkpoint(a.output, selection.state_dict, recipe, selection.history)
    print(f"saved {a.output}: best validation PSNR {selection.best:.2f} dB after {step} steps", flush=True)


if __name__ == "__main__":
    main()
