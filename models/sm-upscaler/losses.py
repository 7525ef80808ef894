"""The FSC loss of the SM super-resolution paper (eq. 9-13), and nRMSE (eq. 14).

Over non-overlapping patches p of output X and label Y (each of the real and imaginary channels):
  L_AD(p) = E(|mu_X - mu_Y| / (mu_X^2 + mu_Y^2 + c1))                           (eq. 9)
  S_AD(p) = E(|sigma_XY - sigma_X sigma_Y| / (sigma_X^2 + sigma_Y^2 + c2))       (eq. 10)
  SSIM_AD = mean over patches of L_AD(p) S_AD(p)                                  (eq. 12)
  FSC     = SSIM_AD * l1(X, Y)                                                    (eq. 13)
The paper's E(.) makes each factor 1 when its term is 0 ("L_AD approaches 1" as the means agree),
so that the product keeps the other factors effective; we read it as E(t) = 1 + t.

S_AD as written (`structure="covariance"`) is 0 wherever the output patch is flat (sigma_X = 0 makes
both sigma_XY and sigma_X sigma_Y vanish): a blurred output is "structurally perfect" and only the
l1 factor pulls towards the label's contrast; trained with it the upscalers stayed at bicubic's
error. The paper derives S_AD from SSIM's contrast-structure term (2 sigma_XY + c2) /
(sigma_X^2 + sigma_Y^2 + c2) (its eq. 8); that term's absolute difference from 1,
  S_AD = E(|sigma_X^2 + sigma_Y^2 - 2 sigma_XY| / (sigma_X^2 + sigma_Y^2 + c2))    (`structure="contrast"`)
is the variance of X - Y on the patch over the patches' variances: 0 only where the output follows
the label up to an offset, near 1 for a flat output against a textured label. The images are
scaled by the label's largest magnitude first, so c1 and c2 mean the same for every frequency. The
paper does not give c1 and c2; SSIM's (0.01)^2 and (0.03)^2 made the factors reach 100 and more
on patches whose real or imaginary mean is near 0 (most of an SM's) and training diverged from
the bicubic start (validation nRMSE 84 % -> 165 % at 4x in 100 steps). With 0.01, L_AD's slope on
those near-zero means still dominated the gradient and held the network at bicubic's error; the
4x model trained with c1 = 1 (train.py --c1) and c2 = 0.01 beats l1 (models/README.md).
"""
import torch


def patch_moments(x: torch.Tensor, y: torch.Tensor, patch: int):
    b, c, h, w = x.shape

    def patches(t):
        return t.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 1, 2, 4, 3, 5).reshape(b, c, -1, patch * patch)

    px, py = patches(x), patches(y)
    mx, my = px.mean(-1), py.mean(-1)
    vx, vy = px.var(-1, unbiased=False), py.var(-1, unbiased=False)
    cov = ((px - mx.unsqueeze(-1)) * (py - my.unsqueeze(-1))).mean(-1)
    return mx, my, vx, vy, cov


def label_scale(label: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(label[:, 0] ** 2 + label[:, 1] ** 2).amax(dim=(1, 2)).clamp_min(1e-30).reshape(-1, 1, 1, 1)


class FSCLoss(torch.nn.Module):
    STRUCTURES = ("covariance", "contrast")

    def __init__(self, patch: int = 4, c1: float = 0.01, c2: float = 0.01, structure: str = "covariance"):
        super().__init__()
        assert structure in self.STRUCTURES, structure
        self.patch, self.c1, self.c2, self.structure = patch, c1, c2, structure

    def forward(self, output: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        scale = label_scale(label)
        x, y = output / scale, label / scale
        mx, my, vx, vy, cov = patch_moments(x, y, self.patch)
        l_ad = 1 + (mx - my).abs() / (mx ** 2 + my ** 2 + self.c1)
        if self.structure == "contrast":
            s_ad = 1 + (vx + vy - 2 * cov).abs() / (vx + vy + self.c2)
        else:
            s_ad = 1 + (cov - (vx.clamp_min(0) * vy.clamp_min(0)).sqrt()).abs() / (vx + vy + self.c2)
        ssim_ad = (l_ad * s_ad).mean(dim=(1, 2))
        l1 = (x - y).abs().mean(dim=(1, 2, 3))
        return (ssim_ad * l1).mean()


class L1Loss(torch.nn.Module):
    """The ablation: plain l1 on the same scaled images."""

    def forward(self, output: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        scale = label_scale(label)
        return ((output - label) / scale).abs().mean()


def nrmse(output: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Per image (one frequency component, real and imaginary): ||A^ - A||_F / ||A||_F."""
    return ((output - label) ** 2).sum(dim=(1, 2, 3)).sqrt() / (label ** 2).sum(dim=(1, 2, 3)).sqrt().clamp_min(1e-30)
