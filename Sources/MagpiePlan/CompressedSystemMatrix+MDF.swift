import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco

/// Compressed system matrices in MDF v2.1 (`isSparsityTransformed`): `data` J x C x K x B holds
/// each row's B kept DCT-IV coefficients, `subsamplingIndices` (same shape, 1-based) which
/// grid coefficients they are, `frequencySelection` the K bins; the background is corrected
/// before compression, so no background frames follow (E = 0) and `/calibration/snr` keeps the
/// rows' SNR for the frequency selection at load.
extension CompressedSystemMatrix {
    /// The calibration `mdf` (read into `recorded`) compressed: every channel at each bin that
    /// `selection` keeps for any channel (the file's layout is channels x bins), `keep` of each
    /// row's coefficients. The rest of the file's metadata is kept.
    public static func file(compressing mdf: MDFFile, recorded: RecordedSystemMatrix, selection: FrequencySelection, keep: Double) throws
        -> (file: MDFFile, matrix: CompressedSystemMatrix) {
        let snr = recorded.signalToNoise()   // estimated once (a 3D calibration's takes long), for the selection and the file
        let selected = try selection.rows(channels: recorded.channels, bins: recorded.bins, binSpacing: recorded.binSpacing) { snr }
        let stored = Array(Set(selected.map(\.stored))).sorted()
        let channels = recorded.channels
        let rows = (0..<channels).flatMap { c in stored.map { k in (row: FrequencyRow(channel: c, bin: recorded.bins[k]), stored: k) } }
        let dense = SystemMatrix(recorded, rows: rows)
        let compressed = try CompressedSystemMatrix(dense, grid: recorded.grid, keep: keep)
        let (k, b) = (stored.count, compressed.kept)
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, k, b])
        var indices = NDArray<Int64>(repeating: 0, shape: [1, channels, k, b])
        for i in 0..<rows.count {   // rows are channel-major, as the layout is
            for (j, coefficient) in compressed.coefficients(i).enumerated() {
                data.storage[i * b + j] = coefficient.value
                indices.storage[i * b + j] = Int64(coefficient.index + 1)
            }
        }
        var file = mdf
        file.measurement = MDF.Measurement(data: .complex64(data), isBackgroundFrame: Array(repeating: false, count: b),
                                           isBackgroundCorrected: true, isFastFrameAxis: true, isFourierTransformed: true,
                                           isSparsityTransformed: true,
                                           // `recorded` has the chain's transfer function divided out already, when the file carried one.
                                           isTransferFunctionCorrected: mdf.isFreeOfTransferFunction,
                                           frequencySelection: stored.map { Int64(recorded.bins[$0] + 1) },
                                           sparsityTransformation: transformName, subsamplingIndices: indices)
        file.acquisition.numFrames = b
        file.acquisition.receiver.dataConversionFactor = nil   // applied to the values already
        if let snr {
            file.calibration?.snr = NDArray(shape: [1, channels, k], storage: (0..<channels).flatMap { c in stored.map { snr[c, $0] } })
        }
        return (file, compressed)
    }

    /// The rows `selection` keeps of a compressed calibration file.
    public convenience init(_ mdf: MDFFile, path: String, selection: FrequencySelection) throws {
        func failure(_ text: String) -> ReconstructionInputs.Failure { ReconstructionInputs.Failure(description: "\(path): \(text)") }
        guard let calibration = mdf.calibration else { throw failure("no /calibration (no calibration grid): not a system matrix") }
        guard let measurement = mdf.measurement, measurement.isSparsityTransformed, let indices = measurement.subsamplingIndices else {
            throw failure("not a compressed system matrix (isSparsityTransformed with subsamplingIndices)")
        }
        guard !mdf.carriesTransferFunction else {
            throw failure("/acquisition/receiver/transferFunction is recorded but not divided out of the coefficients (isTransferFunctionCorrected = 0); compress the dense matrix with magpie compress-sm, which divides it out first")
        }
        guard measurement.sparsityTransformation == Self.transformName else {
            throw failure("compressed with \"\(measurement.sparsityTransformation ?? "")\"; Magpie reconstructs with \(Self.transformName) compressed matrices")
        }
        let shape = measurement.data.shape
        let (periods, channels, frequencies, frames, kept) = (shape[0], shape[1], shape[2], shape[3], indices.shape[3])
        guard periods == 1 else { throw failure("\(periods) periods per frame; one (J = 1) is supported") }
        guard measurement.isBackgroundCorrected, frames == kept else {
            throw failure("compressed without background correction (\(frames - kept) background frames stored); Magpie needs the background corrected before compression")
        }
        let grid = calibration.size, positions = grid.reduce(1, *)
        guard grid.count == 3, positions >= kept else { throw failure("calibration grid \(grid) for \(kept) coefficients a row") }
        // The image has a value per position whatever few coefficients are stored: a grid beyond
        // 2^24 positions (256^3) is refused rather than allocated.
        guard positions <= 1 << 24 else { throw failure("calibration grid \(grid) of \(positions) positions; at most \(1 << 24) are reconstructed") }
        let receiver = mdf.acquisition.receiver
        let bins = try measurement.selectedBins(file: path, binCount: receiver.numSamplingPoints / 2 + 1) ?? Array(0..<frequencies)
        guard bins.count == frequencies else { throw failure("frequencySelection has \(bins.count) bins for K = \(frequencies)") }
        let snr = calibration.snr.flatMap { $0.shape == [1, channels, frequencies] ? $0.reshaped([channels, frequencies]) : nil }
        let selected: [(row: FrequencyRow, stored: Int)]
        do {
            selected = try selection.rows(channels: channels, bins: bins, binSpacing: receiver.samplingRate / Double(receiver.numSamplingPoints)) { snr }
        } catch {
            throw failure("\(error)")
        }
        let values = try ReconstructionInputs.complexValues(measurement.data, path: path)
        let factor = receiver.dataConversionFactor.flatMap { $0.shape == [channels, 2] ? $0 : nil }
        var keptIndices = [Int32](repeating: 0, count: selected.count * kept), keptValues = [Float](repeating: 0, count: 2 * selected.count * kept)
        for (i, entry) in selected.enumerated() {
            let base = (entry.row.channel * frequencies + entry.stored) * kept
            let scale = Float(factor?[entry.row.channel, 0] ?? 1)
            let order = (0..<kept).sorted { indices.storage[base + $0] < indices.storage[base + $1] }
            var previous: Int64 = 0
            for (j, b) in order.enumerated() {
                let index = indices.storage[base + b]
                guard index >= 1, index <= Int64(positions), index != previous else {
                    throw failure("subsamplingIndices of channel \(entry.row.channel + 1), bin \(entry.row.bin) hold \(index): not distinct indices in 1...\(positions)")
                }
                previous = index
                keptIndices[i * kept + j] = Int32(index - 1)
                keptValues[2 * (i * kept + j)] = scale * values[base + b].real
                keptValues[2 * (i * kept + j) + 1] = scale * values[base + b].imaginary
            }
        }
        self.init(rows: selected.map(\.row), grid: grid, kept: kept, indices: keptIndices, values: keptValues, isBackgroundCorrected: true)
    }
}
