// One kernel of KaczmarzSweep.c: included once per instruction set with
//   KERNEL(name)  the function name's suffix
//   TARGET        a function attribute (target("...")) or nothing
//   WIDTH         floats per vector (8 or 16); a step covers 16 floats, STEPS = 16 / WIDTH vectors.
// Row i's update of x is fused with the dot product of the next row with the updated x, so x
// is read and written once per row instead of twice, and the next row is already streaming in
// while the update runs.

#define STEPS (16 / WIDTH)
typedef float KERNEL(vec) __attribute__((vector_size(4 * WIDTH)));

static TARGET inline KERNEL(vec) KERNEL(load)(const float *p) {
    KERNEL(vec) v;
    __builtin_memcpy(&v, p, sizeof v);  // unaligned: x lives in ordinary arrays
    return v;
}

static TARGET inline void KERNEL(store)(float *p, KERNEL(vec) v) { __builtin_memcpy(p, &v, sizeof v); }

static TARGET inline float KERNEL(sum)(KERNEL(vec) v) {
    float s = 0;
    for (int l = 0; l < WIDTH; l++) s += v[l];
    return s;
}

/// The partial sums of a complex dot product (a + ib) . (c + id), four products kept apart per
/// vector of the step so that no add waits on another.
typedef struct { KERNEL(vec) rr[STEPS], ii[STEPS], ri[STEPS], ir[STEPS]; } KERNEL(sums);

static TARGET inline void KERNEL(accumulate)(KERNEL(sums) *t, int h, KERNEL(vec) a, KERNEL(vec) b, KERNEL(vec) c, KERNEL(vec) d) {
    t->rr[h] += a * c;
    t->ii[h] += b * d;
    t->ri[h] += a * d;
    t->ir[h] += b * c;
}

static TARGET inline void KERNEL(finish)(const KERNEL(sums) *t, float *tau) {
    KERNEL(vec) re = t->rr[0] - t->ii[0], im = t->ri[0] + t->ir[0];
    for (int h = 1; h < STEPS; h++) { re += t->rr[h] - t->ii[h]; im += t->ri[h] + t->ir[h]; }
    tau[0] = KERNEL(sum)(re);
    tau[1] = KERNEL(sum)(im);
}

/// (tau_re, tau_im) = s . x for s = (sr, si), x = (xr, xi), no conjugation.
static TARGET void KERNEL(dot)(const float *sr, const float *si, const float *xr, const float *xi, int64_t n, float *tau) {
    KERNEL(sums) t = {0};
    for (int64_t j = 0; j < n; j += 16) {
        for (int h = 0; h < STEPS; h++) {
            int64_t o = j + h * WIDTH;
            KERNEL(accumulate)(&t, h, KERNEL(load)(sr + o), KERNEL(load)(si + o), KERNEL(load)(xr + o), KERNEL(load)(xi + o));
        }
    }
    KERNEL(finish)(&t, tau);
}

/// x += alpha conj(s) and, when nr is not NULL, tau = (nr, ni) . x with the updated x. When
/// pr is not NULL, the row after next (pr, pi) is prefetched a cache line per 16 floats, so it
/// streams in from memory while this row's arithmetic runs: one core alone does not keep
/// enough loads in flight to reach the memory's bandwidth on demand misses.
static TARGET void KERNEL(update)(float ar, float ai, const float *sr, const float *si, const float *nr, const float *ni,
                                  const float *pr, const float *pi, float *xr, float *xi, int64_t n, float *tau) {
    KERNEL(vec) r = {0}, i = {0};
    r += ar;
    i += ai;
    if (!nr) {
        for (int64_t j = 0; j < n; j += WIDTH) {
            KERNEL(vec) a = KERNEL(load)(sr + j), b = KERNEL(load)(si + j);
            KERNEL(store)(xr + j, KERNEL(load)(xr + j) + r * a + i * b);
            KERNEL(store)(xi + j, KERNEL(load)(xi + j) + i * a - r * b);
        }
        return;
    }
    KERNEL(sums) t = {0};
    for (int64_t j = 0; j < n; j += 16) {
        if (pr) {
            __builtin_prefetch(pr + j, 0, 2);
            __builtin_prefetch(pi + j, 0, 2);
        }
        for (int h = 0; h < STEPS; h++) {
            int64_t o = j + h * WIDTH;
            KERNEL(vec) a = KERNEL(load)(sr + o), b = KERNEL(load)(si + o);
            KERNEL(vec) c = KERNEL(load)(xr + o) + r * a + i * b;
            KERNEL(vec) d = KERNEL(load)(xi + o) + i * a - r * b;
            KERNEL(store)(xr + o, c);
            KERNEL(store)(xi + o, d);
            KERNEL(accumulate)(&t, h, KERNEL(load)(nr + o), KERNEL(load)(ni + o), c, d);
        }
    }
    KERNEL(finish)(&t, tau);
}

static TARGET void KERNEL(sweep)(const kaczmarz_sweep_args *a) {
    const int64_t stride = a->stride, m = a->rows;
    const float root = __builtin_sqrtf(a->lambda);
    if (a->order_count <= 0) return;
    {
        const float *s = a->matrix + 2 * stride * (int64_t)a->order[0];
        for (int64_t f = 0; f < a->frames; f++) {
            const float *xr = a->x + 2 * stride * f;
            KERNEL(dot)(s, s + stride, xr, xr + stride, stride, a->tau + 2 * f);
        }
    }
    for (int64_t t = 0; t < a->order_count; t++) {
        const int64_t i = a->order[t];
        const float *sr = a->matrix + 2 * stride * i;
        const float *nr = t + 1 < a->order_count ? a->matrix + 2 * stride * (int64_t)a->order[t + 1] : 0;
        // What to prefetch: rows that fit the L2 cache three at a time come a whole row ahead (the
        // row after next); longer rows would be evicted before use, so the next row is fetched
        // 8 KB ahead of where the loop reads it instead.
        const float *pr = 0;
        if (3 * 2 * stride * (int64_t)sizeof(float) <= 384 * 1024) {
            if (t + 2 < a->order_count) pr = a->matrix + 2 * stride * (int64_t)a->order[t + 2];
        } else if (nr) {
            pr = nr + 2048;
        }
        const float denominator = a->row_energy[i] + a->lambda;
        for (int64_t f = 0; f < a->frames; f++) {
            float *xr = a->x + 2 * stride * f, *tau = a->tau + 2 * f;
            const int64_t k = 2 * (f * m + i);
            // An empty row without regularisation carries no equation: skip it (alpha 0).
            float ar = 0, ai = 0;
            if (denominator > 0) {
                ar = (a->u[k] - tau[0] - root * a->v[k]) / denominator;
                ai = (a->u[k + 1] - tau[1] - root * a->v[k + 1]) / denominator;
            }
            // The prefetch once per row, with the first frame.
            const float *p = f == 0 ? pr : 0;
            KERNEL(update)(ar, ai, sr, sr + stride, nr, nr ? nr + stride : 0, p, p ? p + stride : 0, xr, xr + stride, stride, tau);
            a->v[k] += root * ar;
            a->v[k + 1] += root * ai;
        }
    }
}

#undef STEPS
