"""Self-supervised training of the denoiser on period pairs (one period the input, the other the
target, and the reverse), with model selection on a validation split by the SNR against /clean.

    /usr/bin/python3 models/signal-denoiser/train.py --train a.h5 b.h5 --val v.h5 --minutes 30 -o ckpt.pt
"""
import argparse
import json
import math
import sys
import time

import torch

from data import load, snr_db
from model import Denoiser


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", nargs="+", required=True)
    p.add_argument("--val", nargs="+", required=True)
    p.add_argument("--features", type=int, default=16, help="C, feature channels")
    p.add_argument("--alpha", type=float, default=0.5, help="L_GD weight (0: N2N, L1 only)")
    p.add_argument("--beta", type=float, default=0.01, help="L_TV weight")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--minutes", type=float, default=30, help="training time budget")
    p.add_argument("--eval-every", type=int, default=200, help="steps between validations")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="checkpoint (state_dict and recipe)")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
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

    budget = a.minutes * 60
    start, step, best, best_state, history = time.time(), 0, -math.inf, None, []
    while time.time() - start < budget:
        order = torch.randperm(len(inputs))
        for i in range(0, len(order) - a.batch + 1, a.batch):
            elapsed = time.time() - start
            if elapsed >= budget:
                break
            for group in optimizer.param_groups:  # cosine decay over the time budget
                group["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
            idx = order[i:i + a.batch]
            loss = model.training_loss(inputs[idx], targets[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % a.eval_every == 0:
                snr = validate()
                history.append({"step": step, "seconds": round(time.time() - start), "loss": loss.item(), "val_snr_db": snr})
                print(f"step {step} {time.time() - start:.0f} s loss {loss.item():.4f} val SNR {snr:.2f} dB", flush=True)
                if snr > best:
                    best, best_state = snr, {k: v.clone() for k, v in model.state_dict().items()}
    snr = validate()
    if snr > best:
        best, best_state = snr, model.state_dict()
    recipe = {k: getattr(a, k) for k in ("train", "val", "features", "alpha", "beta", "dropout", "batch", "lr",
                                          "minutes", "threads", "seed")}
    recipe.update(optimizer="AdamW, cosine decay over the time budget", steps=step, best_val_snr_db=best)
    torch.save({"state": best_state, "recipe": recipe, "history": history}, a.output)
    print(json.dumps(recipe), flush=True)


if __name__ == "__main__":
    sys.exit(main())
