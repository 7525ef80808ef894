import CBLAS
import CFFTW

/// Versions of the numerical libraries reconstruction runs on, for `magpie --version` and provenance.
public enum NumericalLibraries {
    /// FFTW's own version string, e.g. "fftw-3.3.10-sse2-avx".
    public static var fftw: String { String(cString: mp_fftw_version()) }

    /// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var openBLAS: String { String(cString: openblas_get_config()) }
}
