#pragma once
// OpenBLAS (CBLAS interface plus its own controls) and LAPACKE.
#include <cblas.h>
#include <lapacke.h>
