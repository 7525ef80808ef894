import CFFTW
import Foundation

/// Forward real-to-complex FFT of fixed length over FFTW (single precision), as MDF's
/// Fourier-transformed data and MPIReco's measurement preparation use it: V real samples give
/// V/2 + 1 complex frequencies, unnormalised (FFTW's and numpy's `rfft` convention).
///
/// An instance owns its plan and buffers; use one per thread.
public final class RealFFT {
    public let length: Int
    public var outputLength: Int { length / 2 + 1 }
    private let input: UnsafeMutablePointer<Float>
    private let output: OpaquePointer
    private let plan: fftwf_plan


    public init(length: Int) {
        precondition(length > 0, "FFT length must be positive")
        self.length = length
        let realBuffer = fftwf_alloc_real(length)!
        let complexBuffer = fftwf_alloc_complex(length / 2 + 1)!
        input = realBuffer
        output = OpaquePointer(complexBuffer)
        plan = FFTWPlanner.lock.withLock {
            fftwf_plan_dft_r2c_1d(Int32(length), realBuffer, complexBuffer, UInt32(FFTW_ESTIMATE))
        }
    }

    deinit {
        FFTWPlanner.lock.withLock { fftwf_destroy_plan(plan) }
        fftwf_free(input)
        fftwf_free(UnsafeMutableRawPointer(output))
    }

    /// The spectrum of `samples` (exactly `length` of them).
    public func forward(_ samples: some Collection<Float>) -> [Complex<Float>] {
        precondition(samples.count == length, "RealFFT of length \(length) given \(samples.count) samples")
        _ = UnsafeMutableBufferPointer(start: input, count: length).initialize(from: samples)
        fftwf_execute(plan)
        let pairs = UnsafeRawPointer(output).assumingMemoryBound(to: Complex<Float>.self)
        return Array(UnsafeBufferPointer(start: pairs, count: outputLength))
    }
}

/// FFTW's planner is not thread-safe (plan execution is): every plan is made and destroyed under this lock.
public enum FFTWPlanner {
    public static let lock = NSLock()
}
