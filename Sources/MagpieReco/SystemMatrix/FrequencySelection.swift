import MagpieCore

/// One row of the reconstruction's linear system: a frequency bin of a receive channel.
public struct FrequencyRow: Hashable, Sendable, Codable {
    public var channel: Int
    public var bin: Int

    public init(channel: Int, bin: Int) {
        self.channel = channel
        self.bin = bin
    }
}

/// Which (frequency, channel) pairs enter the reconstruction, as MPIReco chooses them: receive
/// channels, a frequency band, and an SNR threshold on the calibration's SNR.
public struct FrequencySelection: Sendable, Codable, Equatable {
    /// Hz; the default keeps the drive-frequency feed-through (and its first harmonics) out.
    public var minFrequency: Double
    /// Hz; nil: up to the receive bandwidth.
    public var maxFrequency: Double?
    /// 0-based receive channels; nil: all.
    public var channels: [Int]?
    /// Rows whose calibration SNR is below this are dropped (0 keeps every row of the band).
    public var snrThreshold: Double

    public init(minFrequency: Double = 80e3, maxFrequency: Double? = nil, channels: [Int]? = nil, snrThreshold: Double = 2) {
        self.minFrequency = minFrequency
        self.maxFrequency = maxFrequency
        self.channels = channels
        self.snrThreshold = snrThreshold
    }

    /// The selected rows of `matrix`, ordered by channel, then frequency (MPIFiles' order), each
    /// with the index of its frequency in the matrix's stored bins.
    public func rows(of matrix: RecordedSystemMatrix) throws -> [(row: FrequencyRow, stored: Int)] {
        try rows(channels: matrix.channels, bins: matrix.bins, binSpacing: matrix.binSpacing, snr: matrix.signalToNoise)
    }

    /// The selected rows of a matrix of `channelCount` channels at `bins`, with its SNR (C x K
    /// over those bins; asked for only when the threshold is above 0).
    public func rows(channels channelCount: Int, bins: [Int], binSpacing: Double, snr signalToNoise: () -> NDArray<Double>?) throws
        -> [(row: FrequencyRow, stored: Int)] {
        let channels = self.channels ?? Array(0..<channelCount)
        if let bad = channels.first(where: { $0 < 0 || $0 >= channelCount }) {
            throw ReconstructionError.selection("receive channel \(bad + 1) does not exist; the system matrix has \(channelCount)")
        }
        if let maxFrequency, maxFrequency < minFrequency {
            throw ReconstructionError.selection("maximum frequency \(maxFrequency) Hz is below the minimum \(minFrequency) Hz")
        }
        let snr: NDArray<Double>?
        if snrThreshold > 0 {
            guard let estimate = signalToNoise() else {
                throw ReconstructionError.selection("the system matrix stores no SNR and has no background frames to estimate it; use an SNR threshold of 0")
            }
            snr = estimate
        } else {
            snr = nil
        }
        var rows: [(FrequencyRow, Int)] = []
        for c in channels.sorted() {
            for (k, bin) in bins.enumerated() {
                let frequency = Double(bin) * binSpacing
                guard frequency >= minFrequency, frequency <= (maxFrequency ?? .infinity) else { continue }
                if let snr, !(snr[c, k] >= snrThreshold) { continue }
                rows.append((FrequencyRow(channel: c, bin: bin), k))
            }
        }
        guard !rows.isEmpty else {
            throw ReconstructionError.selection("no frequency of channels \(channels.map { String($0 + 1) }.joined(separator: ", ")) between "
                + "\(minFrequency) Hz and \(maxFrequency.map { "\($0) Hz" } ?? "the bandwidth") has SNR >= \(snrThreshold)")
        }
        return rows
    }
}
