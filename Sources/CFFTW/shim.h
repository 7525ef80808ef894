#pragma once
// FFTW3 in double (fftw_*) and single (fftwf_*) precision.
#include <fftw3.h>

// fftw_version is an array of unknown size, which Swift cannot import.
static inline const char *mp_fftw_version(void) { return fftw_version; }
