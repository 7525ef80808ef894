import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics
import MagpiePlan
import MagpieReco
import Testing

/// A compressed SM written as MDF v2.1 (isSparsityTransformed) and read back reconstructs as
/// the same compression made at load does, and what cannot use it says so.
@Suite struct CompressedSystemMatrixFileTests {
    /// openmpi-2d on a 16 x 16 grid, as `magpie simulate sm` writes it (50 dB, 6 background frames).
    static let densePath: String = {
        let scanner = ScannerPreset.openmpi2d.scanner
        let sm = try! SystemMatrixSimulator(scanner: scanner, grid: [16, 16, 1], noise: NoiseModel(snr: 50), sampleConcentration: 0.1)
            .simulate(backgroundFrames: 6, seed: 3)
        var file = MDFFile.simulated(scanner: scanner, frames: sm.isBackgroundFrame.count, experiment: "system matrix", description: "", tracerConcentration: 0.1)
        file.measurement = MDF.Measurement(data: .complex64(sm.data), isBackgroundFrame: sm.isBackgroundFrame, isFastFrameAxis: true, isFourierTransformed: true)
        file.calibration = MDF.Calibration(method: "simulation", size: sm.grid, fieldOfView: sm.fieldOfView, fieldOfViewCenter: [0, 0, 0],
                                           positions: sm.positions, deltaSampleSize: sm.deltaSampleSize)
        let path = NSTemporaryDirectory() + "magpie-dense-sm-\(UUID().uuidString).mdf"
        try! MDFWriter.write(file, to: path)
        return path
    }()
    static let measurement = MDFFile.simulatedMeasurement(.openmpi2d, phantom: .shapes, foreground: 3, background: 2, seed: 4)

    static func compressedFile(keep: Double, edit: (inout MDFFile) -> Void = { _ in }) throws -> String {
        let dense = try MDFReader.read(densePath)
        let recorded = try ReconstructionInputs.recordedSystemMatrix(dense, path: densePath)
        var (file, _) = try CompressedSystemMatrix.file(compressing: dense, recorded: recorded, selection: FrequencySelection(), keep: keep)
        edit(&file)
        let path = NSTemporaryDirectory() + "magpie-compressed-sm-\(UUID().uuidString).mdf"
        try MDFWriter.write(file, to: path)
        return path
    }

    static func images(_ step: some PlanStep) throws -> NDArray<Float> {
        let plan = try ReconstructionPlan(steps: [BackgroundStep(mode: .interpolated), step])
        return try PlanRunner(plan, context: PlanContext()).reconstruct(measurement, path: "m.mdf", recordedScanner: nil).images
    }

    @Test func aCompressedFileIsValidMDFAndReconstructsAsCompressionAtLoad() throws {
        let path = try Self.compressedFile(keep: 0.1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let deviations = try MDFValidator.validate(path)
        #expect(deviations.isEmpty, "\(deviations)")
        let read = try MDFReader.read(path)
        let measurement = try #require(read.measurement)
        #expect(measurement.isSparsityTransformed && measurement.sparsityTransformation == "DCT-IV")
        #expect(measurement.data.shape.last == 25 && measurement.subsamplingIndices?.shape.last == 25)   // floor(0.1 x 256)

        let fromFile = try Self.images(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [path])))
        let atLoad = try Self.images(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [Self.densePath],
                                                                                                compression: .init(keep: 0.1))))
        #expect(fromFile.shape == [3, 256] && fromFile.storage == atLoad.storage)
    }

    @Test func keepingEverythingReconstructsAsTheDenseFile() throws {
        let path = try Self.compressedFile(keep: 1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let compressed = try Self.images(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [path]), iterations: 2))
        let dense = try Self.images(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [Self.densePath]), iterations: 2))
        let scale = dense.storage.map(abs).max()!
        let difference = zip(compressed.storage, dense.storage).map { abs($0 - $1) }.max()!
        #expect(difference <= 1e-3 * scale, "max difference \(difference) of \(scale)")
    }

    @Test func whatCannotUseItSaysWhy() throws {
        let path = try Self.compressedFile(keep: 0.1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        func refusal(_ step: some PlanStep) -> String {
            do { _ = try Self.images(step); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal(SystemMatrixStep(.cgnr, matrix: SystemMatrixSettings(systemMatrices: [path]))).contains("cgnr needs the dense one"))
        #expect(refusal(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [path], compression: .init(keep: 0.01))))
            .contains("is compressed already"))

        let otherTransform = try Self.compressedFile(keep: 0.1) { $0.measurement?.sparsityTransformation = "DCT-II" }
        defer { try? FileManager.default.removeItem(atPath: otherTransform) }
        #expect(refusal(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [otherTransform]))).contains("compressed with \"DCT-II\""))

        // An index off the grid: the writer's validation refuses the file, and the reader the rows.
        do {
            _ = try Self.compressedFile(keep: 0.1) { $0.measurement?.subsamplingIndices?.storage[0] = 9999 }
            Issue.record("a file with an index off the grid was written")
        } catch {
            #expect("\(error)".contains("subsamplingIndices"), "\(error)")
        }
        var huge = try MDFReader.read(path)
        huge.calibration?.size = [1 << 20, 1 << 20, 1]
        do {
            _ = try CompressedSystemMatrix(huge, path: "huge.mdf", selection: FrequencySelection(snrThreshold: 0))
            Issue.record("a grid of 2^40 positions was accepted")
        } catch {
            #expect("\(error)".contains("at most 16777216 are reconstructed"), "\(error)")
        }
        var damaged = try MDFReader.read(path)
        damaged.measurement?.subsamplingIndices?.storage[0] = 9999
        do {
            _ = try CompressedSystemMatrix(damaged, path: "damaged.mdf", selection: FrequencySelection(snrThreshold: 0))
            Issue.record("rows with an index off the grid were read")
        } catch {
            #expect("\(error)".contains("not distinct indices in 1...256"), "\(error)")
        }

        // A frequency selection holding Int64.min (where 1-based to 0-based would trap) or a bin
        // beyond V/2: refused in words, compressed or dense.
        for hostile: Int64 in [.min, 0, 1 << 40] {
            var selected = try MDFReader.read(path)
            selected.measurement?.frequencySelection?[0] = hostile
            do {
                _ = try CompressedSystemMatrix(selected, path: "selected.mdf", selection: FrequencySelection(minFrequency: 0, snrThreshold: 0))
                Issue.record("a frequency selection holding \(hostile) was read")
            } catch {
                #expect("\(error)".contains("/measurement/frequencySelection: expected bins in 1...817"), "\(error)")
            }
            var dense = try MDFReader.read(Self.densePath)
            let frequencies = dense.measurement!.data.shape[2]
            dense.measurement?.frequencySelection = [hostile] + (2...frequencies).map(Int64.init)
            do {
                _ = try ReconstructionInputs.recordedSystemMatrix(dense, path: "dense.mdf")
                Issue.record("a dense matrix whose frequency selection holds \(hostile) was read")
            } catch {
                #expect("\(error)".contains("/measurement/frequencySelection: expected bins in 1...817"), "\(error)")
            }
        }

        #expect(refusal(SystemMatrixStep(.kaczmarz, matrix: SystemMatrixSettings(systemMatrices: [Self.densePath]), iterations: 1)) == "accepted")
    }
}
