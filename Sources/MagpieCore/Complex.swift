// Complex numbers come from swift-numerics; `Complex<Float>` is laid out as (real, imaginary),
// the layout of C's complex types, FFTW's fftwf_complex and the MDF compound {r, i}.
@_exported import Numerics
