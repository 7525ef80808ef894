"""Intensity profiles across the two tubes (the image row through the phantom's centre) of the
phantom, the native image, Wiener, Richardson-Lucy and a learned deblurrer, one panel per gap;
top row noise-free, bottom row the first 30 dB noise draw. Prints, per gap and method, the dip
between the tubes (1 - centre / lower of the two peaks, centre row) and the median of the image
where the phantom is 0 (the background). Reads the files that `magpie bench deblur --outputs`
wrote for scripts/bench-dcgan.sh.

    /usr/bin/python3 scripts/plot_tube_profiles.py CLEAN.h5 NOISY.h5 MODEL OUT.png
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLES = {"reference": ("phantom", "k", 2.0), "native": ("native", "0.6", 1.2), "wiener": ("Wiener", "tab:orange", 1.2),
          "rl": ("Richardson-Lucy", "tab:blue", 1.2)}


def dip(row):
    centre = len(row) // 2
    return 1 - row[centre] / min(row[:centre].max(), row[centre + 1:].max())


def main():
    clean, noisy, model, out = sys.argv[1:5]
    styles = dict(STYLES, **{model: ("DC-GAN", "tab:red", 1.6)})
    with h5py.File(clean, "r") as a, h5py.File(noisy, "r") as b:
        sets = sorted(a.keys(), key=lambda name: float(name.split("-")[1]))
        fig, axes = plt.subplots(2, len(sets), figsize=(2.6 * len(sets), 5.2), sharey=True)
        for row, (f, suffix) in enumerate(((a, ""), (b, "-30dB"))):
            for column, name in enumerate(sets):
                group = f[name + suffix]
                image = group["reference"][0]
                centre = image.shape[0] // 2
                mm = (np.arange(image.shape[1]) - (image.shape[1] - 1) / 2) * 20.0 / image.shape[1]
                ax = axes[row, column]
                for key, (label, colour, width) in styles.items():
                    ax.plot(mm, group[key][0][centre], color=colour, lw=width, label=label)
                print(f"{name + suffix}: " + ", ".join(
                    f"{styles[k][0]} dip {dip(group[k][0][centre]):.0%} background {np.median(group[k][0][image == 0]):.1%}"
                    for k in styles if k != "reference"))
                ax.set_xlim(-6, 6)
                ax.set_title(f"gap {name.split('-')[1]} mm" + (", 30 dB" if suffix else ""), fontsize=9)
                ax.set_xlabel("x (mm)", fontsize=8)
        axes[0, 0].set_ylabel("intensity (max 1)")
        axes[1, 0].set_ylabel("intensity (max 1)")
        axes[0, -1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
