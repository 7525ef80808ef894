"""Trains the DC-GAN on unpaired images from `magpie simulate dataset deblur --unpaired`: domain X
is /native (native 3 T/m x-space images), domain Y is /sharp (deconvolved 6 T/m images of other
phantoms); no pair is ever formed. The validation set (paired: native images and their phantoms)
scores G every --eval-every steps, run on tiles of the training crop as export.py runs it
(model.Tiled): PSNR and SSIM against the phantom of outputs scaled to a maximum of 1, as the bench
and the exporter compare them, and the output's median where the phantom is 0 (the background).
The checkpoint holds G's last weights and the weights with the best validation SSIM: the
adversarial game keeps the background level swinging by a few percent of the peak from one
evaluation to the next, and SSIM against an empty background counts every percent.

    /usr/bin/python3 models/dcgan/train.py --train train.h5 --val val.h5 --minutes 60 -o dcgan.ckpt

Objective (DCLGAN weights): 1 x LSGAN + 2 x dual PatchNCE + 1 x identity (L1), per direction.
Adam (0.5, 0.999) at 2e-4, decayed linearly to 0 over the second half of the time budget (CUT).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as nnf

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
import training  # noqa: E402
from image_metrics import mean_psnr_ssim  # noqa: E402
from model import DCGAN, Tiled  # noqa: E402


def load(paths, name, limit=None):
    """`name` from each file (the first `limit` records of each), concatenated, as N x 1 x H x W."""
    return training.load_datasets(paths, name, limit=limit).unsqueeze(1)


def peak_scaled(image):
    """An output scaled to a maximum of 1 and clipped to [0, 1], as every method compared with the phantom."""
    peak = image.max()
    return np.clip(image / peak, 0, 1) if peak > 0 else np.zeros_like(image)


def compare(generator, native, phantom):
    """PSNR, SSIM against the phantom and the median background (where the phantom is 0) of G's outputs."""
    with torch.no_grad():
        out = torch.cat([generator(native[i:i + 25]) for i in range(0, len(native), 25)])
    out = [peak_scaled(o[0].numpy().astype(np.float64)) for o in out]
    truth = [t[0].numpy().astype(np.float64) for t in phantom]
    metrics = mean_psnr_ssim(zip(truth, out))
    metrics["background"] = round(float(np.mean([np.median(o[t == 0]) for o, t in zip(out, truth)])), 4)
    return metrics


def batch(images, size, crop, generator):
    """`size` random images, randomly flipped (the PSF is symmetric), cropped to `crop` pixels."""
    idx = torch.randint(0, len(images), (size,), generator=generator)
    x = images[idx]
    if torch.rand(1, generator=generator).item() < 0.5:
        x = x.flip(-1)
    if torch.rand(1, generator=generator).item() < 0.5:
        x = x.flip(-2)
    h, w = x.shape[-2:]
    if crop < h or crop < w:
        top = int(torch.randint(0, h - crop + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - crop + 1, (1,), generator=generator))
        x = x[..., top:top + crop, left:left + crop]
    return x


def with_image_noise(x, low, high, generator):
    """White Gaussian noise of variance mean(x^2) / 10^(snr/10), snr uniform in [low, high] dB per
    image: `magpie simulate dataset deblur --image-snr`'s noise, drawn afresh for every batch."""
    snr = low + (high - low) * torch.rand(len(x), 1, 1, 1, generator=generator)
    power = (x ** 2).mean(dim=(1, 2, 3), keepdim=True)
    return x + (power / 10 ** (snr / 10)).sqrt() * torch.randn(x.shape, generator=generator)


class ImagePool:
    """The last `size` generated images (Shrivastava et al.; CycleGAN): the discriminator sees, for
    each new image, with probability 1/2 an older one it replaces, so it judges the generator's
    recent history rather than only its latest step, which damps the oscillation between the two.
    A pool of size 0 passes the batch through."""

    def __init__(self, size: int, generator):
        self.size, self.images, self.generator = size, [], generator

    def __call__(self, batch):
        if self.size == 0:
            return batch.detach()
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand(1, generator=self.generator).item() < 0.5:
                k = int(torch.randint(0, self.size, (1,), generator=self.generator))
                out.append(self.images[k])
                self.images[k] = image
            else:
                out.append(image)
        return torch.stack(out)


def lsgan(scores, real: bool):
    return nnf.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_standard_arguments(p, minutes=60, eval_every=200)
    p.add_argument("--val-count", type=int, default=50, help="records used from each validation set")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--disc-norm", default="instance", choices=["instance", "spectral", "none"])
    p.add_argument("--nonnegative", action="store_true", help="generators ending in a ReLU instead of a linear output")
    p.add_argument("--pool", type=int, default=0, help="generated images kept for the discriminators (0: none)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--patches", type=int, default=128, help="sampled locations per contrastive layer")
    p.add_argument("--lambda-gan", type=float, default=1.0)
    p.add_argument("--lambda-nce", type=float, default=2.0)
    p.add_argument("--lambda-idt", type=float, default=1.0)
    p.add_argument("--image-snr", type=float, nargs=2, default=[25.0, 50.0], metavar=("LO", "HI"),
                   help="white noise added to a domain-X batch with probability 1/2, SNR per image drawn from LO-HI dB")
    p.add_argument("--lr", type=float, default=2e-4)
    a = p.parse_args()
    if a.pool < 0:
        p.error(f"--pool {a.pool}: the number of kept images must be 0 or more")

    generator = training.start(a)
    domain_x, domain_y = load(a.train, "native"), load(a.train, "sharp")
    val_native, val_phantom = load(a.val, "native", a.val_count), load(a.val, "phantom", a.val_count)
    net = DCGAN(a.width, a.blocks, disc_norm=a.disc_norm, nonnegative=a.nonnegative)
    # G's weights with the best validation SSIM, beside its last ones.
    best = training.Selection(higher_is_better=True)
    best.offer(-1.0, net.G, step=0)
    pool_x, pool_y = ImagePool(a.pool, generator), ImagePool(a.pool, generator)
    generators = [q for m in (net.G, net.F, net.H_X, net.H_Y) for q in m.parameters()]
    discriminators = [q for m in (net.D_X, net.D_Y) for q in m.parameters()]
    opt_g = torch.optim.Adam(generators, lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminators, lr=a.lr, betas=(0.5, 0.999))
    print(f"DC-GAN: {len(domain_x)} X and {len(domain_y)} Y images (unpaired), G has "
          f"{sum(q.numel() for q in net.G.parameters())} parameters; validation against the phantom: "
          f"native {compare(lambda x: x, val_native, val_phantom)}", flush=True)

    tiled = Tiled(net.G, a.crop)  # as export.py runs G by default

    def validate():
        net.G.eval()
        metrics = compare(tiled, val_native, val_phantom)
        net.G.train()
        return metrics

    recipe = training.recipe(a, "train", "val", "val_count", "width", "blocks", "nonnegative", "disc_norm", "pool", "batch", "crop", "patches",
                             "lambda_gan", "lambda_nce", "lambda_idt", "image_snr", "lr", "minutes", "threads", "seed",
                             optimizer="Adam (0.5, 0.999), lr constant for half the budget, then linearly to 0",
                             loss="LSGAN + dual PatchNCE (temperature 0.07) + identity L1, both directions; last weights and best-validation-SSIM weights kept")

    def save(path, step, history):
        training.save_checkpoint(path, net.G.state_dict(), dict(recipe, steps=step), history, best_state_dict=best.state_dict,
                                 best_step=best_step, full=net.state_dict())

    budget, step, history, best_step = training.Budget(a.minutes), 0, [], 0
    while not budget.spent:
        rate = a.lr * min(1.0, 2 * (1 - budget.elapsed / budget.seconds))
        for opt in (opt_g, opt_d):
            training.set_rate(opt, rate)
        x = batch(domain_x, a.batch, a.crop, generator)
        if torch.rand(1, generator=generator).item() < 0.5:
            x = with_image_noise(x, a.image_snr[0], a.image_snr[1], generator)
        y = batch(domain_y, a.batch, a.crop, generator)

        fake_y, fake_x = net.G(x), net.F(y)
        # Generators, heads: fool the discriminators, keep the patches' content, leave the target domain alone.
        for d in (net.D_X, net.D_Y):
            d.requires_grad_(False)
        gan = lsgan(net.D_Y(fake_y), True) + lsgan(net.D_X(fake_x), True)
        nce = net.nce(x, fake_y, net.G, net.F, net.H_X, net.H_Y, a.patches) + \
            net.nce(y, fake_x, net.F, net.G, net.H_Y, net.H_X, a.patches)
        idt = nnf.l1_loss(net.G(y), y) + nnf.l1_loss(net.F(x), x)
        loss_g = a.lambda_gan * gan + a.lambda_nce * nce + a.lambda_idt * idt
        training.descend(opt_g, loss_g)
        # Discriminators: real against the generators' current outputs.
        for d in (net.D_X, net.D_Y):
            d.requires_grad_(True)
        loss_d = 0.5 * (lsgan(net.D_Y(y), True) + lsgan(net.D_Y(pool_y(fake_y)), False)
                        + lsgan(net.D_X(x), True) + lsgan(net.D_X(pool_x(fake_x)), False))
        training.descend(opt_d, loss_d)
        step += 1
        if step % a.eval_every == 0:
            val = validate()
            if best.offer(val["ssim"], net.G, step=step):
                best_step = step
            history.append({"step": step, "seconds": round(budget.elapsed), "gan": gan.item(), "nce": nce.item(),
                            "idt": idt.item(), "d": loss_d.item(), "val_phantom": val})
            print(f"step {step} {budget.elapsed:.0f} s GAN {gan.item():.3f} NCE {nce.item():.3f} idt {idt.item():.4f} "
                  f"D {loss_d.item():.3f} val PSNR {val['psnr']:.2f} SSIM {val['ssim']:.3f} background {val['background']:.1%}",
                  flush=True)
            save(a.output + ".partial", step, history)
    history.append({"step": step, "seconds": round(budget.elapsed), "val_phantom": validate()})
    save(a.output, step, history)
    print(f"saved {a.output} after {step} steps ({step * a.batch / len(domain_x):.1f} epochs of X)", flush=True)


if __name__ == "__main__":
    main()
