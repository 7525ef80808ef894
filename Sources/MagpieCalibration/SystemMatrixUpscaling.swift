import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePlan
import MagpieReco

/// Upscales a 2D system-matrix calibration onto a grid `factor` times finer per driven axis:
/// every frequency whose calibration SNR reaches the threshold by the learned network (when one
/// is given), the others, and every frequency when none is, by bicubic interpolation.
///
/// Geometry: the coarse points stay where they were measured; the fine grid interleaves
/// factor - 1 points after each (fine point factor * j is coarse point j, as the network was
/// trained). The fine field of view has the coarse one's extent, its centre moved by
/// (factor - 1) / (2 factor) coarse pitches along each upscaled axis.
///
/// Values: each frequency's mean over the background frames is removed before upscaling and
/// added back after, so an SM that is not background corrected keeps its background frames and
/// meaning. The delta sample is the one measured, so /calibration/deltaSampleSize is kept.
public struct SystemMatrixUpscaling {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Result {
        public var mdf: MDFFile
        /// C x K: 1 where the network upscaled the frequency, 0 where bicubic did.
        public var learned: NDArray<Int8>
        public var seconds: Double
    }

    public let factor: Int
    public let snrThreshold: Double
    /// nil: bicubic for every frequency.
    public let upscaler: SystemMatrixUpscaler?

    public init(factor: Int, snrThreshold: Double = 5, upscaler: SystemMatrixUpscaler? = nil) throws {
        guard [2, 4, 8].contains(factor) else { throw Failure(description: "upscaling factor \(factor): 2, 4 and 8 are supported") }
        if let upscaler, upscaler.factor != factor {
            throw Failure(description: "model \(upscaler.model.name) upscales \(upscaler.factor)x; \(factor)x was asked for")
        }
        guard snrThreshold.isFinite else { throw Failure(description: "SNR threshold must be finite") }
        self.factor = factor
        self.snrThreshold = snrThreshold
        self.upscaler = upscaler
    }

    /// `mdf` read from `path`; `progress(done, total)` counts frequency images.
    public func upscale(_ mdf: MDFFile, path: String, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let start = Date()
        guard let calibration = mdf.calibration else {
            throw Failure(description: "\(path) is not a system matrix (no /calibration group)")
        }
        guard calibration.order == "xyz", calibration.isMeanderingGrid != true, mdf.measurement?.framePermutation == nil else {
            throw Failure(description: "\(path): frames must follow the grid in xyz order (this calibration has order \(calibration.order)\(calibration.isMeanderingGrid == true ? ", a meandering grid" : "")\(mdf.measurement?.framePermutation != nil ? ", a frame permutation" : ""))")
        }
        let recorded: RecordedSystemMatrix
        do {
            recorded = try ReconstructionInputs.recordedSystemMatrix(mdf, path: path)
        } catch {
            throw Failure(description: "\(error)")
        }
        let grid = recorded.grid
        let driven = (0..<3).filter { grid[$0] > 1 }
        guard driven.count == 2 else {
            throw Failure(description: "\(path): calibration grid \(grid.map(String.init).joined(separator: " x ")); upscale-sm handles 2D grids (exactly one axis of extent 1)")
        }
        // Frames run x fastest: a frequency image is [grid[driven[1]] rows, grid[driven[0]] columns].
        let (rows, columns) = (grid[driven[1]], grid[driven[0]])
        if let upscaler, upscaler.rows != rows || upscaler.columns != columns {
            throw Failure(description: "model \(upscaler.model.name) takes a \(upscaler.columns) x \(upscaler.rows) grid; \(path) has \(columns) x \(rows) (use --method bicubic, or a model for this grid)")
        }
        let fineCount = rows * columns * factor * factor
        guard fineCount <= 1 << 22 else { throw Failure(description: "\(path): a \(columns * factor) x \(rows * factor) grid is too large") }

        let (channels, frequencies, frames) = (recorded.channels, recorded.spectra.shape[1], recorded.frames)
        let foreground = (0..<frames).filter { !recorded.isBackgroundFrame[$0] }
        let background = (0..<frames).filter { recorded.isBackgroundFrame[$0] }
        let snr = recorded.signalToNoise()
        let bicubic = BicubicUpsampling(coarseRows: rows, coarseColumns: columns, factor: factor)
        let fineFrames = fineCount + background.count
        var fine = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, frequencies, fineFrames])
        var learned = NDArray<Int8>(repeating: 0, shape: [channels, frequencies])

        // Coarse images with their background mean removed; rows to the network go first.
        var networkRows: [Int] = [], offsets = [Complex<Float>](repeating: .zero, count: channels * frequencies)
        for row in 0..<(channels * frequencies) {
            let base = row * frames
            if !background.isEmpty && !recorded.isBackgroundCorrected {
                var sum = Complex<Float>.zero
                for n in background { sum += recorded.spectra.storage[base + n] }
                offsets[row] = Complex(sum.real / Float(background.count), sum.imaginary / Float(background.count))
            }
            let k = row % frequencies
            if upscaler != nil, recorded.bins[k] > 0, (snr?[row / frequencies, k] ?? .infinity) >= snrThreshold {
                networkRows.append(row)
            }
        }
        let total = channels * frequencies
        func coarseImage(_ row: Int) -> (real: [Float], imaginary: [Float]) {
            let base = row * frames, offset = offsets[row]
            let values = foreground.map { recorded.spectra.storage[base + $0] - offset }
            return (values.map(\.real), values.map(\.imaginary))
        }
        func store(_ row: Int, real: [Float], imaginary: [Float]) {
            let base = row * fineFrames, offset = offsets[row]
            for i in 0..<fineCount { fine.storage[base + i] = Complex(real[i] + offset.real, imaginary[i] + offset.imaginary) }
            for (j, n) in background.enumerated() { fine.storage[base + fineCount + j] = recorded.spectra.storage[row * frames + n] }
        }

        if let upscaler, !networkRows.isEmpty {
            let coarseSize = rows * columns
            var input = NDArray<Float>(repeating: 0, shape: [networkRows.count, 2, rows, columns])
            for (b, row) in networkRows.enumerated() {
                let image = coarseImage(row)
                input.storage.replaceSubrange((2 * b * coarseSize)..<((2 * b + 1) * coarseSize), with: image.real)
                input.storage.replaceSubrange(((2 * b + 1) * coarseSize)..<((2 * b + 2) * coarseSize), with: image.imaginary)
            }
            let output: NDArray<Float>
            do {
                output = try upscaler.upscale(input) { done, _ in progress?(done, total) }
            } catch {
                throw Failure(description: "\(error)")
            }
            for (b, row) in networkRows.enumerated() {
                let real = Array(output.storage[(2 * b * fineCount)..<((2 * b + 1) * fineCount)])
                let imaginary = Array(output.storage[((2 * b + 1) * fineCount)..<((2 * b + 2) * fineCount)])
                store(row, real: real, imaginary: imaginary)
                learned.storage[row] = 1
            }
        }
        var done = networkRows.count
        for row in 0..<total where learned.storage[row] == 0 {
            let image = coarseImage(row)
            store(row, real: bicubic.upsample(image.real), imaginary: bicubic.upsample(image.imaginary))
            done += 1
            if done % 256 == 0 || done == total { progress?(done, total) }
        }

        var out = mdf
        out.uuid = MDF.newUUID()
        out.time = MDF.timestamp()
        out.experiment.description += " (upscaled \(factor)x by magpie upscale-sm, \(upscaler.map { "model \($0.model.name)" } ?? "bicubic"))"
        guard var measurement = mdf.measurement else { throw Failure(description: "\(path) has no /measurement") }
        measurement.data = .complex64(fine)
        measurement.isFastFrameAxis = true
        measurement.isBackgroundFrame = Array(repeating: false, count: fineCount) + Array(repeating: true, count: background.count)
        measurement.framePermutation = nil
        out.measurement = measurement
        // The conversion factor is applied to the values written.
        out.acquisition.receiver.dataConversionFactor = NDArray(shape: [channels, 2], storage: (0..<channels).flatMap { _ in [1.0, 0.0] })
        out.acquisition.numFrames = fineFrames
        var size = calibration.size, center = calibration.fieldOfViewCenter
        for axis in driven {
            center[axis] += calibration.fieldOfView[axis] / Double(size[axis]) * Double(factor - 1) / Double(2 * factor)
            size[axis] *= factor
        }
        var positions = gridPositions(size, calibration.fieldOfView)
        for i in 0..<fineCount { for axis in 0..<3 { positions[i, axis] += center[axis] } }
        out.calibration = MDF.Calibration(method: calibration.method, size: size, fieldOfView: calibration.fieldOfView,
                                          fieldOfViewCenter: center, order: calibration.order, positions: positions,
                                          deltaSampleSize: calibration.deltaSampleSize, snr: calibration.snr,
                                          isMeanderingGrid: calibration.isMeanderingGrid)
        return Result(mdf: out, learned: learned, seconds: Date().timeIntervalSince(start))
    }
}
