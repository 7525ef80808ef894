import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct SystemMatrixBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sm",
        abstract: "Time Kaczmarz sweeps and CGNR on a system matrix, against memory bandwidth and scanner rates.",
        discussion: """
            With --sm and a measurement: the files' rows as `magpie reconstruct` selects them. With
            --rows and --columns instead: a random complex matrix of that size (to measure a 3D
            calibration's scale without simulating one). Reports, each the median of --repeats:
              - one Kaczmarz sweep of one frame (one core) with each sweep kernel this processor runs
                (the widest is the one Magpie uses), and the bytes of S it streams per second against
                this machine's memcpy bandwidth (one core, STREAM's count: read + write);
              - one sweep for a batch of --batch frames on all cores, as frames per second;
              - CGNR to the residual that --sweeps Kaczmarz sweeps reach, per frame, and its Gram matrix;
              - the scanner frame rates of OpenMPIData 2D (1532/s) and 3D (46/s) for comparison;
              - with --sm, for each --keep fraction: the DCT-IV compressed matrix (time to compress, bytes),
                one sweep of one frame on it, and its image's nRMSE and SSIM against the dense one.
            --peer-sweep SECONDS prints the speed-up over a Python peer's sweep on the same rows,
            measured by scripts/bench-sm.sh in the same run; --export-rows FILE writes those rows,
            the first frame's measurement vector, the effective lambda and Magpie's one-sweep image
            (HDF5: /matrix M x N, /u, /lambda, /image) for such a peer.

            Example:
              magpie bench sm --sm sm.mdf --measurement m.mdf
              magpie bench sm --rows 4000 --columns 6859
            """
    )

    @Option(help: "System-matrix MDF.") var sm: String?
    @Option(help: "Measurement MDF (with --sm).") var measurement: String?
    @Option(help: "Rows of a random matrix (without --sm).") var rows: Int?
    @Option(help: "Columns (voxels) of a random matrix (without --sm).") var columns: Int?
    @Option(help: "Grid of a random matrix's columns, e.g. 19,19,19, to time compressed sweeps on it (random rows do not compress: no image comparison).")
    var grid: String?
    @Option(help: "Frames in the multi-core batch.") var batch = 64
    @Option(help: "Kaczmarz sweeps whose residual CGNR must reach.") var sweeps = 3
    @Option(help: "Repeats; medians are reported.") var repeats = 5
    @Option(help: "A Python peer's seconds per sweep of one frame on the same rows, for the speed-up line.") var peerSweep: Double?
    @Option(help: "Name of the peer in the speed-up line.") var peerName = "python peer"
    @Option(help: "Write the rows, the first frame, lambda and the one-sweep image to this HDF5 file for a peer, and stop.") var exportRows: String?
    @Flag(help: "Leave CGNR out (its Gram matrix takes long on a 3D calibration).") var skipCgnr = false
    @Option(help: "Compression fractions to measure with --sm, comma-separated (none: \"\").") var keep = "0.1,0.01"

    func validate() throws {
        guard (sm != nil) == (measurement != nil), (sm != nil) != (rows != nil && columns != nil) else {
            throw ValidationError("give --sm and --measurement, or --rows and --columns")
        }
        guard batch >= 1, sweeps >= 1, repeats >= 1 else { throw ValidationError("--batch, --sweeps and --repeats must be positive") }
        if grid != nil && (sm != nil || randomGrid.reduce(1, *) != columns) {
            throw ValidationError("--grid is for a random matrix, and its extents must multiply to --columns")
        }
    }

    func run() throws {
        let (matrix, u, grid) = try inputs()
        let frame = NDArray(shape: [1, u.shape[1]], storage: Array(u.storage.prefix(u.shape[1])))
        let megabytes = Double(matrix.bytes) / 1e6
        print(String(format: "system matrix: %d rows x %d voxels, %.1f MB split complex Float32", matrix.rows.count, matrix.columns, megabytes))

        if let exportRows {
            let result = try Kaczmarz(iterations: 1, computeResiduals: false).solve(matrix, frame)
            let file = try HDF5File.create(exportRows, overwrite: true)
            try file.write(matrix.values(), to: "/matrix")
            try file.write(NDArray(shape: [frame.shape[1]], storage: frame.storage), to: "/u")
            try file.write(scalar: result.effectiveLambda, to: "/lambda")
            try file.write(NDArray(shape: [matrix.columns], storage: result.images.storage), to: "/image")
            try file.flush()
            print("wrote \(exportRows)")
            return
        }
        let copy = Self.memcpyBandwidth()
        var sweep = Double.nan
        for kernel in KaczmarzKernel.allCases where kernel.isAvailable {
            let solver = Kaczmarz(iterations: 1, computeResiduals: false, kernel: kernel)
            let seconds = try timed(repeats: repeats) { _ = try solver.solve(matrix, frame) }
            let streamed = Double(matrix.bytes) / seconds
            print(String(format: "kaczmarz, 1 frame, 1 sweep, %@ kernel: %.3f ms = %.0f frames/s; streams S at %.2f GB/s, %.0f%% of memcpy %.2f GB/s",
                         kernel.rawValue, seconds * 1e3, 1 / seconds, streamed / 1e9, 100 * streamed / copy, copy / 1e9))
            if kernel == .best { sweep = seconds }
        }
        if let peerSweep {
            print(String(format: "%@, 1 sweep, 1 frame: %.1f ms; magpie (%@ kernel, 1 core) is %.0f x faster", peerName, peerSweep * 1e3,
                         KaczmarzKernel.best.rawValue, peerSweep / sweep))
        }

        let oneSweep = Kaczmarz(iterations: 1, computeResiduals: false)
        let batchU = NDArray(shape: [batch, u.shape[1]], storage: (0..<batch).flatMap { _ in frame.storage })
        let batchSweep = try timed(repeats: repeats) { _ = try oneSweep.solve(matrix, batchU) }
        let rate = Double(batch) / batchSweep
        print(String(format: "kaczmarz, %d frames on %d cores, 1 sweep: %.3f ms per frame = %.0f frames/s (%.2f x 2D scanner 1532/s, %.1f x 3D scanner 46/s)",
                     batch, ProcessInfo.processInfo.activeProcessorCount, batchSweep / Double(batch) * 1e3, rate, rate / 1532, rate / 46))

        if let grid { try compressed(matrix, frame: frame, grid: grid, copy: copy) }
        let kaczmarzSweeps = try timed(repeats: repeats) { _ = try Kaczmarz(iterations: sweeps, computeResiduals: false).solve(matrix, frame) }
        print(String(format: "kaczmarz, %d sweeps, 1 frame: %.3f ms", sweeps, kaczmarzSweeps * 1e3))
        let gramBytes = Double(matrix.columns) * Double(matrix.columns) * 8
        guard !skipCgnr else { return }
        guard gramBytes <= 4e9 else {
            print(String(format: "cgnr: not run, its Gram matrix would take %.1f GB", gramBytes / 1e9))
            return
        }
        let target = try Kaczmarz(iterations: sweeps).solve(matrix, frame).residuals[0].last!
        let gramStart = DispatchTime.now()
        let gram = CGNR.Gram(matrix)
        let gramSeconds = seconds(gramStart)
        let cgnr = CGNR(iterations: 1000, tolerance: 0)
        let trace = try cgnr.solve(matrix, frame, gram: gram).residuals[0]
        guard let needed = trace.firstIndex(where: { $0 <= target }).map({ $0 + 1 }) else {
            print(String(format: "cgnr: does not reach Kaczmarz's residual %.4f after %d iterations (best %.4f)", target, trace.count, trace.min() ?? .nan))
            return
        }
        let solver = CGNR(iterations: needed)
        let single = try timed(repeats: repeats) { _ = try solver.solve(matrix, frame, gram: gram) }
        let batched = try timed(repeats: repeats) { _ = try solver.solve(matrix, batchU, gram: gram) }
        print(String(format: "cgnr to the residual of %d Kaczmarz sweeps (%.4f): %d iterations, %.3f ms for 1 frame, %.3f ms per frame in a batch of %d (%.0f frames/s); Gram matrix %.2f s once",
                     sweeps, target, needed, single * 1e3, batched / Double(batch) * 1e3, batch, Double(batch) / batched, gramSeconds))
    }

    private var randomGrid: [Int] {
        let extents = grid?.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? []
        return extents.count == 3 && extents.allSatisfy { $0 >= 1 } ? extents : []
    }

    /// Per --keep fraction: compression time and size, one sweep, and the image against the dense one.
    private func compressed(_ matrix: SystemMatrix, frame: NDArray<Complex<Float>>, grid: [Int], copy: Double) throws {
        let fractions = try keep.split(separator: ",").map { part -> Double in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value > 0, value <= 1 else {
                throw ValidationError("--keep: \"\(part)\" is not a fraction above 0 and up to 1")
            }
            return value
        }
        let solver = Kaczmarz(iterations: 1, computeResiduals: false)
        let dense = try solver.solve(matrix, frame).images.storage.map(Double.init)
        for fraction in fractions {
            let start = DispatchTime.now()
            let compressed = try CompressedSystemMatrix(matrix, grid: grid, keep: fraction)
            let compressSeconds = seconds(start)
            let sweep = try timed(repeats: repeats) { _ = try solver.solve(compressed, frame) }
            let timing = String(format: "compressed, keep %g (%d of %d coefficients a row, %.1f MB, %.1f %% of dense; compressed in %.2f s): 1 sweep, 1 frame %.3f ms = %.0f frames/s, streams %.2f GB/s (%.0f%% of memcpy)",
                                fraction, compressed.kept, compressed.columns, Double(compressed.bytes) / 1e6, 100 * Double(compressed.bytes) / Double(matrix.bytes),
                                compressSeconds, sweep * 1e3, 1 / sweep, Double(compressed.bytes) / sweep / 1e9, 100 * Double(compressed.bytes) / sweep / copy)
            guard sm != nil else {
                print(timing + " (random rows: no image comparison)")
                continue
            }
            let image = try solver.solve(compressed, frame).images.storage.map(Double.init)
            let range = (dense.max() ?? 0) - (dense.min() ?? 0)
            // SSIM per z slice (x fastest), averaged: the 2D metric on each plane of a volume.
            let plane = grid[0] * grid[1]
            let ssim = (0..<grid[2]).map { z in
                ImageMetrics.ssim(Array(image[(z * plane)..<((z + 1) * plane)]), reference: Array(dense[(z * plane)..<((z + 1) * plane)]),
                                  rows: grid[1], columns: grid[0], dataRange: range)
            }.reduce(0, +) / Double(grid[2])
            print(timing + String(format: "; image against dense: nRMSE %.4f, SSIM %.4f", ImageMetrics.nrmse(image, reference: dense), ssim))
        }
    }

    private func inputs() throws -> (SystemMatrix, NDArray<Complex<Float>>, grid: [Int]?) {
        if let sm, let measurement {
            let smFile = try MDFReader.read(sm), mFile = try MDFReader.read(measurement)
            try ReconstructionInputs.checkCompatible(systemMatrix: smFile, smPath: sm, measurement: mFile, measurementPath: measurement)
            let recorded = try ReconstructionInputs.recordedSystemMatrix(smFile, path: sm)
            let matrix = try SystemMatrix(recorded, selection: FrequencySelection())
            let prepared = try ReconstructionInputs.measuredFrames(mFile, path: measurement).prepared()
            let u = try matrix.measurementVectors(prepared)
            return (matrix, u, recorded.grid)
        }
        let (m, n) = (rows!, columns!)
        var random = SeededRandom(seed: 1)
        let spectra = NDArray(shape: [1, m, n], storage: (0..<(m * n)).map { _ in Complex(Float(random.normal()), Float(random.normal())) })
        let recorded = try RecordedSystemMatrix(spectra: spectra, samplesPerPeriod: 2 * m, samplingRate: Double(2 * m),
                                                isBackgroundFrame: Array(repeating: false, count: n), grid: [n, 1, 1])
        let matrix = try SystemMatrix(recorded, selection: FrequencySelection(minFrequency: 0, snrThreshold: 0))
        let truth = (0..<n).map { _ in Float(random.uniform(0...1)) }
        return (matrix, NDArray(shape: [1, m], storage: matrix.apply(truth)), randomGrid.isEmpty ? nil : randomGrid)
    }

    /// Bytes per second memcpy moves between two 256 MB buffers (read + write counted), best of 5.
    static func memcpyBandwidth() -> Double {
        let size = 256 << 20
        let a = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), b = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { a.deallocate(); b.deallocate() }
        memset(a, 1, size)
        memset(b, 2, size)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now()
            memcpy(b, a, size)
            best = min(best, seconds(start))
        }
        return 2 * Double(size) / best
    }
}
