"""Self-supervised training of the denoiser on period pairs (one period the input, the other the
target, and the reverse), with model selection on a validation split by the SNR against /clean.

    /usr/bin/python3 models/signal-denoiser/train.py --train a.h5 b.h5 --val v.h5 --minutes 30 -o ckpt.pt
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
import training  # noqa: E402
from data import load, snr_db  # noqa: E402
from model import Denoiser  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_standard_arguments(p, minutes=30, eval_every=200)
    p.add_argument("--features", type=int, default=16, help="C, feature channels")
    p.add_argument("--alpha", type=float, default=0.5, help="L_GD weight (0: N2N, L1 only)")
    p.add_argument("--beta", type=float, default=0.01, help="L_TV weight")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    a = p.parse_args()

    training.start(a)
    x, y, _ = load(a.train)
    vx, _, vclean = load(a.val)
    # Both directions of every pair: (period 1 -> period 2) and (period 2 -> period 1).
    inputs, targets = torch.cat([x, y]), torch.cat([y, x])
    model = Denoiser(a.features, a.dropout, a.alpha, a.beta)
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr)
    print(f"{len(inputs)} training pairs of {inputs.shape[-1]} samples, {len(vx)} validation periods, "
          f"{sum(q.numel() for q in model.parameters())} parameters", flush=True)

    def validate():
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(vx[i:i + 64]) for i in range(0, len(vx), 64)])
        model.train()
        return snr_db(out, vclean).mean().item()

    budget, selection, step = training.Budget(a.minutes), training.Selection(higher_is_better=True), 0
    for idx in budget.batches(len(inputs), a.batch):
        budget.cosine(optimizer, a.lr)
        loss = model.training_loss(inputs[idx], targets[idx])
        training.descend(optimizer, loss)
        step += 1
        if step % a.eval_every == 0:
            snr = validate()
            selection.offer(snr, model, step=step, seconds=round(budget.elapsed), loss=loss.item(), val_snr_db=snr)
            print(f"step {step} {budget.elapsed:.0f} s loss {loss.item():.4f} val SNR {snr:.2f} dB", flush=True)
    selection.offer(validate(), model, step=step, seconds=round(budget.elapsed))
    recipe = training.recipe(a, "train", "val", "features", "alpha", "beta", "dropout", "batch", "lr", "minutes", "threads", "seed",
                             optimizer="AdamW, cosine decay over the time budget", steps=step, best_val_snr_db=selection.best)
    training.save_checkpoint(a.output, selection.state_dict, recipe, selection.history)
    print(json.dumps(recipe), flush=True)


if __name__ == "__main__":
    sys.exit(main())
