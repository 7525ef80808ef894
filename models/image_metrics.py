"""The image comparison every deblurring exporter records and `magpie bench deblur` reproduces:
PSNR and SSIM with data range 1 (skimage; Gaussian-weighted SSIM, sigma 1.5, as Wang et al.)."""
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def ssim(reference, output, full=False):
    """SSIM of two 2D float arrays in [0, 1]; with `full`, (mean, per-pixel map)."""
    return structural_similarity(reference, output, data_range=1, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, full=full)


def mean_psnr_ssim(pairs):
    """Mean PSNR and SSIM over (reference, output) pairs of 2D float arrays in [0, 1]."""
    psnrs, ssims = [], []
    for reference, output in pairs:
        psnrs.append(peak_signal_noise_ratio(reference, output, data_range=1))
        ssims.append(ssim(reference, output))
    return {"images": len(psnrs), "psnr": round(float(np.mean(psnrs)), 3), "ssim": round(float(np.mean(ssims)), 4)}
