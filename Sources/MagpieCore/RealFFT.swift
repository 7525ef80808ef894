import CFFTW
import Foundation

/// Real-to-complex FFT of fixed length over FFTW (single precision), as MDF's Fourier-transformed
/// data and MPIReco's measurement preparation use it: V real samples give V/2 + 1 complex
/// frequencies, unnormalised (FFTW's and numpy's `rfft` convention); `inverse` is numpy's `irfft`.
///
/// An instance owns its plan and buffers; use one per thread.
public final class RealFFT {
    public let length: Int
    public var outputLength: Int { length / 2 + 1 }
    private let input: UnsafeMutablePointer<Float>
    private let output: OpaquePointer
    private let plan: fftwf_plan
    private let inversePlan: fftwf_plan

    public init(length: Int) {
        precondition(length > 0, "FFT length must be positive")
        self.length = length
        let realBuffer = fftwf_alloc_real(length)!
        let complexBuffer = fftwf_alloc_complex(length / 2 + 1)!
        input = realBuffer
        output = OpaquePointer(complexBuffer)
        (plan, inversePlan) = FFTWPlanner.lock.withLock {
            (fftwf_plan_dft_r2c_1d(Int32(length), realBuffer, complexBuffer, UInt32(FFTW_ESTIMATE)),
             fftwf_plan_dft_c2r_1d(Int32(length), complexBuffer, realBuffer, UInt32(FFTW_ESTIMATE)))
        }
    }

    deinit {
        FFTWPlanner.lock.withLock {
            fftwf_destroy_plan(plan)
            fftwf_destroy_plan(inversePlan)
        }
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

    /// The `length` samples whose spectrum is `spectrum` (exactly `outputLength` values), scaled by
    /// 1 / length so that `inverse(forward(x))` is x. The imaginary parts of the DC and (even
    /// length) Nyquist bins are ignored, as numpy's `irfft` ignores them.
    public func inverse(_ spectrum: some Collection<Complex<Float>>) -> [Float] {
        precondition(spectrum.count == outputLength, "inverse RealFFT of length \(length) given \(spectrum.count) frequencies")
        let pairs = UnsafeMutableRawPointer(output).assumingMemoryBound(to: Complex<Float>.self)
        _ = UnsafeMutableBufferPointer(start: pairs, count: outputLength).initialize(from: spectrum)
        fftwf_execute(inversePlan)
        let scale = 1 / Float(length)
        return UnsafeBufferPointer(start: input, count: length).map { $0 * scale }
    }
}

/// FFTW's planner is not thread-safe (plan execution is): every plan is made and destroyed under this lock.
public enum FFTWPlanner {
    public static let lock = NSLock()
}
