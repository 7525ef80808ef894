import MagpieCore

/// A time-domain measurement in physical units, as the reconstructions take it: N frames of
/// C channels x V samples (one drive-field period per frame), some of them background frames.
public struct MeasuredFrames: Sendable {
    /// N x C x V.
    public var data: NDArray<Float>
    public var isBackgroundFrame: [Bool]

    /// `raw` is N x C x V; `conversion` (C x 2, MDF's dataConversionFactor) maps raw values to
    /// physical ones as a * raw + b per channel.
    public init(raw: NDArray<Float>, isBackgroundFrame: [Bool], conversion: NDArray<Double>? = nil) throws {
        guard raw.rank == 3 else { throw ReconstructionError.measurement("frames must be N x C x V, got shape \(raw.shape)") }
        let (frames, channels, samples) = (raw.shape[0], raw.shape[1], raw.shape[2])
        guard isBackgroundFrame.count == frames else {
            throw ReconstructionError.measurement("\(frames) frames but \(isBackgroundFrame.count) background flags")
        }
        var data = raw
        if let conversion { try Self.convert(&data, conversion: conversion) }
        self.data = data
        self.isBackgroundFrame = isBackgroundFrame
    }

    /// Raw values (N x C x V) to physical ones, a * raw + b per channel, `conversion` being MDF's
    /// C x 2 dataConversionFactor: the one place where both the daemon and `magpie reconstruct` convert.
    public static func convert(_ frames: inout NDArray<Float>, conversion: NDArray<Double>) throws {
        let (count, channels, samples) = (frames.shape[0], frames.shape[1], frames.shape[2])
        guard conversion.shape == [channels, 2] else {
            throw ReconstructionError.measurement("dataConversionFactor has shape \(conversion.shape), \(channels) channels need [\(channels), 2]")
        }
        for n in 0..<count {
            for c in 0..<channels {
                let a = Float(conversion[c, 0]), b = Float(conversion[c, 1]), base = (n * channels + c) * samples
                for v in base..<(base + samples) { frames.storage[v] = a * frames.storage[v] + b }
            }
        }
    }

    public var frames: Int { data.shape[0] }
    public var channels: Int { data.shape[1] }
    public var samples: Int { data.shape[2] }
    public var foregroundFrames: [Int] { (0..<frames).filter { !isBackgroundFrame[$0] } }

    /// MPIReco's measurement preparation in the time domain (every step is linear, so it commutes
    /// with the Fourier transform the system-matrix methods apply next): each of `frames`
    /// (0-based, all foreground frames by default) minus its background from the background
    /// frames (see `BackgroundInterpolation`; none without background frames), then the mean of
    /// each run of `average` consecutive frames. Q x C x V, Q = frames / average (a shorter
    /// last run is dropped).
    public func prepared(frames selected: [Int]? = nil, average: Int = 1) throws -> NDArray<Float> {
        let selected = selected ?? foregroundFrames
        guard !foregroundFrames.isEmpty else { throw ReconstructionError.measurement("no foreground frames: all \(frames) frames are background frames") }
        guard !selected.isEmpty else { throw ReconstructionError.measurement("no frames selected") }
        if let bad = selected.first(where: { $0 < 0 || $0 >= frames }) {
            throw ReconstructionError.measurement("frame \(bad) does not exist; frames are numbered 0 to \(frames - 1)")
        }
        if let bad = selected.first(where: { isBackgroundFrame[$0] }) {
            throw ReconstructionError.measurement("frame \(bad) is a background frame")
        }
        guard average >= 1, average <= selected.count else {
            throw ReconstructionError.measurement("cannot average \(average) frames out of \(selected.count) selected")
        }
        let size = channels * samples, outputs = selected.count / average
        let interpolation = BackgroundInterpolation(isBackgroundFrame: isBackgroundFrame)
        var blockMeans = [[Double]](repeating: [Double](repeating: 0, count: size), count: interpolation.blocks.count)
        for (b, block) in interpolation.blocks.enumerated() {
            for n in block {
                for i in 0..<size { blockMeans[b][i] += Double(data.storage[n * size + i]) }
            }
            for i in 0..<size { blockMeans[b][i] /= Double(block.count) }
        }
        var result = NDArray<Float>(repeating: 0, shape: [outputs, channels, samples])
        var sum = [Double](repeating: 0, count: size)
        for q in 0..<outputs {
            for i in 0..<size { sum[i] = 0 }
            for n in selected[(q * average)..<((q + 1) * average)] {
                for i in 0..<size { sum[i] += Double(data.storage[n * size + i]) }
                for (block, weight) in interpolation.weights(frame: n) {
                    for i in 0..<size { sum[i] -= weight * blockMeans[block][i] }
                }
            }
            for i in 0..<size { result.storage[q * size + i] = Float(sum[i] / Double(average)) }
        }
        return result
    }
}

extension FrequencyRow {
    /// The measurement vectors u of prepared frames (Q x C x V): each channel's real FFT over
    /// time, at `rows`. Q x M. `fft`, when its length is V, saves planning a transform (a caller
    /// that runs frame after frame keeps one).
    public static func measurementVectors(_ prepared: NDArray<Float>, rows: [FrequencyRow], fft given: RealFFT? = nil) throws -> NDArray<Complex<Float>> {
        guard prepared.rank == 3 else { throw ReconstructionError.measurement("prepared frames must be Q x C x V, got \(prepared.shape)") }
        let (frames, channels, samples) = (prepared.shape[0], prepared.shape[1], prepared.shape[2])
        guard samples > 0 else { throw ReconstructionError.measurement("frames of 0 samples have no spectrum") }
        if let row = rows.first(where: { $0.channel >= channels || $0.bin > samples / 2 }) {
            throw ReconstructionError.mismatch("the system matrix uses channel \(row.channel + 1) at bin \(row.bin); the measurement has \(channels) channels of \(samples) samples")
        }
        let fft = given?.length == samples ? given! : RealFFT(length: samples)
        var u = NDArray<Complex<Float>>(repeating: .zero, shape: [frames, rows.count])
        for q in 0..<frames {
            let spectra = (0..<channels).map { c in
                let start = (q * channels + c) * samples
                return fft.forward(prepared.storage[start..<(start + samples)])
            }
            for (i, row) in rows.enumerated() { u.storage[q * rows.count + i] = spectra[row.channel][row.bin] }
        }
        return u
    }
}

extension SystemMatrix {
    /// The measurement vectors u of prepared frames (Q x C x V) at this matrix's rows. Q x M.
    public func measurementVectors(_ prepared: NDArray<Float>) throws -> NDArray<Complex<Float>> {
        try FrequencyRow.measurementVectors(prepared, rows: rows)
    }
}
