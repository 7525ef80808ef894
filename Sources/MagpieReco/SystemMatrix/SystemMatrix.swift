import Foundation
import MagpieCore

/// The reconstruction's system matrix S (M selected rows x N voxels), background corrected and
/// ready for the solvers: each row stored contiguously as split complex Float32, the N real
/// parts then the N imaginary parts, each padded with zeros to `stride` columns and 64-byte
/// aligned, so the solvers stream a row with aligned SIMD loads.
public final class SystemMatrix: @unchecked Sendable {  // its aligned buffer (`storage`) is written in init only, then read
    public let rows: [FrequencyRow]
    /// N: voxels, the calibration positions in order (x fastest).
    public let columns: Int
    /// Padded column count: the distance from a row's real parts to its imaginary parts.
    public let stride: Int
    /// |s_i|^2 per row.
    public let rowEnergy: [Float]
    /// ||S||_F^2.
    public let frobeniusSquared: Double
    let storage: UnsafeMutablePointer<Float>

    /// Real parts of row i; its imaginary parts follow at `+ stride`.
    @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(storage) + 2 * stride * i }

    /// Whether the rows are free of the empty scanner's signal (corrected here or by the recorder).
    public let isBackgroundCorrected: Bool

    /// Builds S from its values: `value(r, n)` is row r at voxel n.
    init(rows: [FrequencyRow], columns: Int, isBackgroundCorrected: Bool, value: (Int, Int) -> Complex<Float>) {
        self.rows = rows
        self.columns = columns
        self.isBackgroundCorrected = isBackgroundCorrected
        stride = (columns + PlanarKernels.width - 1) / PlanarKernels.width * PlanarKernels.width
        let count = 2 * stride * rows.count
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        storage.initialize(repeating: 0, count: count)
        var energy = [Float](repeating: 0, count: rows.count), total = 0.0
        for r in 0..<rows.count {
            let re = storage + 2 * stride * r, im = re + stride
            var sum = 0.0
            for n in 0..<columns {
                let z = value(r, n)
                re[n] = z.real
                im[n] = z.imaginary
                sum += Double(z.real) * Double(z.real) + Double(z.imaginary) * Double(z.imaginary)
            }
            energy[r] = Float(sum)
            total += sum
        }
        rowEnergy = energy
        frobeniusSquared = total
    }

    deinit { storage.deallocate() }

    /// Bytes of matrix data one pass over all rows reads (padding excluded).
    public var bytes: Int { rows.count * columns * 2 * MemoryLayout<Float>.size }

    /// S from a recorded calibration: the selected rows of its foreground frames, minus the
    /// background interpolated from its background frames (unless the recorder corrected it
    /// already or it has no background frames; `isBackgroundCorrected` says which).
    public convenience init(_ recorded: RecordedSystemMatrix, selection: FrequencySelection) throws {
        self.init(recorded, rows: try selection.rows(of: recorded))
    }

    /// S from these rows of a recorded calibration (each with the index of its stored bin).
    public convenience init(_ recorded: RecordedSystemMatrix, rows selected: [(row: FrequencyRow, stored: Int)]) {
        let frames = recorded.frames, spectra = recorded.spectra.storage, frequencies = recorded.spectra.shape[1]
        let foreground = (0..<frames).filter { !recorded.isBackgroundFrame[$0] }
        let interpolation = BackgroundInterpolation(isBackgroundFrame: recorded.isBackgroundFrame)
        let correct = !recorded.isBackgroundCorrected && !interpolation.isEmpty
        // Per selected row, the mean of each background block.
        var blockMeans = [[Complex<Float>]](repeating: [], count: selected.count)
        if correct {
            for (r, entry) in selected.enumerated() {
                let base = (entry.row.channel * frequencies + entry.stored) * frames
                blockMeans[r] = interpolation.blocks.map { block in
                    var sum = Complex<Double>.zero
                    for n in block { sum += Complex(Double(spectra[base + n].real), Double(spectra[base + n].imaginary)) }
                    return Complex(Float(sum.real / Double(block.count)), Float(sum.imaginary / Double(block.count)))
                }
            }
        }
        let weights = correct ? foreground.map { interpolation.weights(frame: $0) } : []
        self.init(rows: selected.map(\.row), columns: foreground.count,
                  isBackgroundCorrected: recorded.isBackgroundCorrected || correct) { r, n in
            let base = (selected[r].row.channel * frequencies + selected[r].stored) * frames
            var z = spectra[base + foreground[n]]
            if correct {
                for (block, weight) in weights[n] { z -= Complex(Float(weight), 0) * blockMeans[r][block] }
            }
            return z
        }
    }

    /// S as an M x N array (padding dropped), for peers outside Magpie that take the same rows.
    public func values() -> NDArray<Complex<Float>> {
        var out = NDArray<Complex<Float>>(repeating: .zero, shape: [rows.count, columns])
        for i in 0..<rows.count {
            let re = row(i), im = re + stride
            for n in 0..<columns { out.storage[i * columns + n] = Complex(re[n], im[n]) }
        }
        return out
    }

    /// S x for a real image x (N values): M complex values.
    public func apply(_ x: [Float]) -> [Complex<Float>] {
        precondition(x.count == columns, "image has \(x.count) voxels, the system matrix \(columns)")
        var padded = [Float](repeating: 0, count: stride)
        padded.replaceSubrange(0..<columns, with: x)
        let zeros = [Float](repeating: 0, count: stride)
        return padded.withUnsafeBufferPointer { xr in
            zeros.withUnsafeBufferPointer { xi in
                (0..<rows.count).map { i in
                    let s = row(i)
                    let (re, im) = PlanarKernels.dot(s, s + stride, xr.baseAddress!, xi.baseAddress!, count: stride)
                    return Complex(re, im)
                }
            }
        }
    }
}
