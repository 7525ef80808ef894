import Foundation
import MagpieCore
import Testing
@testable import MagpieMDF

/// Files damaged in one field at a time, written through the HDF5 layer.
@Suite struct MDFBadInputTests {
    func damagedFile(_ dir: TemporaryDirectory, _ damage: (HDF5File) throws -> Void) throws -> String {
        var mdf = exampleMetadata(frames: 3)
        mdf.measurement = MDF.Measurement(data: .int16(ramp([3, 1, 2, 64]) { Int16($0 % 50) }), isBackgroundFrame: [false, false, true])
        return try alteredCopy(of: mdf, in: dir, alter: damage)
    }

    func expectInvalid(_ path: String, at field: String, _ sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try MDFReader.read(path)
            Issue.record("a damaged file was read", sourceLocation: sourceLocation)
        } catch let MDFError.invalidField(_, failedPath, _, _) {
            #expect(failedPath == field, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        // The validator reports the same field instead of failing.
        let deviations = (try? MDFValidator.validate(path)) ?? []
        #expect(deviations.contains { $0.path == field }, sourceLocation: sourceLocation)
    }

    @Test func stringWhereANumberBelongs() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write("three", to: "/acquisition/numFrames") }
        expectInvalid(path, at: "/acquisition/numFrames")
    }

    @Test func dataOfTheWrongRank() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write(ramp([3, 128]) { Int16($0 % 9) }, to: "/measurement/data") }
        expectInvalid(path, at: "/measurement/data")
    }

    @Test func dataOfTheWrongType() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write(NDArray(repeating: "x", shape: [3, 1, 2, 4]), to: "/measurement/data") }
        expectInvalid(path, at: "/measurement/data")
    }

    @Test func backgroundFlagsOfTheWrongLength() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write(NDArray<Int8>([0, 1]), to: "/measurement/isBackgroundFrame") }
        expectInvalid(path, at: "/measurement/isBackgroundFrame")
    }

    @Test func complexDataWithoutTheFourierFlag() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) {
            try $0.write(ramp([3, 1, 2, 33]) { Complex(Float($0), 0) }, to: "/measurement/data")
        }
        expectInvalid(path, at: "/measurement/data")
    }

    /// A grid of 2^31 x 2^31 x 2^31 positions (more than an Int counts): refused, not a trap.
    @Test func aCalibrationGridTooLargeToCount() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write(NDArray<Int64>([1 << 31, 1 << 31, 1 << 31]), to: "/calibration/size") }
        expectInvalid(path, at: "/calibration/size")
    }

    @Test func narrowerIntegerIsADeviationNotAFailure() throws {
        let dir = try TemporaryDirectory()
        let path = try damagedFile(dir) { try $0.write(scalar: Int32(3), to: "/acquisition/numFrames") }
        #expect(try MDFReader.read(path).acquisition.numFrames == 3)
        #expect(try MDFValidator.validate(path) == [MDFDeviation("/acquisition/numFrames", "stored as Int32, the spec says Int64")])
    }

    @Test func missingRequiredFieldsAreListedByPath() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("sparse.mdf")
        do {
            let file = try HDF5File.create(path)
            try file.write("2.1.0", to: "/version")
            try file.write(scalar: Int64(1), to: "/acquisition/numFrames")
        }
        let mdf = try MDFReader.read(path)
        #expect(mdf.kind == .metadataOnly)
        let deviations = try MDFValidator.validate(path)
        for field in ["/time", "/uuid", "/study", "/experiment", "/scanner", "/acquisition/numAverages", "/acquisition/drivefield"] {
            #expect(deviations.contains { $0.path == field }, "expected a deviation at \(field)")
        }
    }

    @Test func filesThatAreNotMDFAtAll() throws {
        let dir = try TemporaryDirectory()
        let text = dir.file("text.mdf")
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        for path in [text, dir.path, dir.file("absent.mdf")] {
            #expect(throws: MDFError.self) { try MDFReader.read(path) }
            #expect(throws: MDFError.self) { try MDFValidator.validate(path) }
        }
    }
}

@Suite struct MDFQuirkTests {
    @Test func olderFilesFromTheField() throws {
        let dir = try TemporaryDirectory()
        let path = try alteredCopy(of: exampleMetadata(frames: 1), in: dir, removing: ["/acquisition/numPeriodsPerFrame"]) { file in
            try file.write(NDArray<Int64>(shape: [1, 2], storage: [102, 96]), to: "/acquisition/drivefield/divider") // Bruker
            try file.write(scalar: Int64(1), to: "/acquisition/numPeriods")                                       // MDF 2.0
            try file.write("2.0.1", to: "/version")                                                               // MPIFiles
            try file.write("sine", to: "/acquisition/drivefield/waveform")
        }
        let mdf = try MDFReader.read(path)
        #expect(mdf.acquisition.driveField.divider == NDArray(shape: [2, 1], storage: [102, 96]))
        #expect(mdf.acquisition.driveField.waveform == NDArray(shape: [2, 1], storage: ["sine", "sine"]))
        #expect(mdf.acquisition.numPeriodsPerFrame == 1)
        #expect(mdf.version == "2.0.1")
        let paths = Set(try MDFValidator.validate(path).map(\.path))
        #expect(paths == ["/acquisition/drivefield/divider", "/acquisition/drivefield/waveform", "/acquisition/numPeriods",
                          "/acquisition/numPeriodsPerFrame", "/version"])
    }

    @Test func earlyMDF2SystemMatrixFromMPIMeasurements() throws {
        let mdf = try MDFReader.read(fixture("mpimeasurements-example-systemMatrix.mdf"))
        #expect(mdf.kind == .systemMatrix)
        #expect(mdf.version == "2.0")
        #expect(mdf.acquisition.numPeriodsPerFrame == 1)      // from /acquisition/numPeriods
        #expect(mdf.acquisition.numAverages == 1000)
        #expect(mdf.acquisition.driveField.baseFrequency == 125e6)
        #expect(mdf.acquisition.driveField.divider == NDArray(shape: [1, 1], storage: [4864]))
        #expect(mdf.acquisition.driveField.waveform == NDArray(shape: [1, 1], storage: ["sine"]))
        #expect(mdf.acquisition.receiver.bandwidth == 1_953_125)
        #expect(mdf.acquisition.receiver.numSamplingPoints == 152)
        #expect(mdf.tracer?.solute == ["Fe"])
        #expect(mdf.tracer?.injectionTime == ["2018-04-19T09:49:08.841"])
        #expect(mdf.calibration?.size == [9, 1, 1])
        #expect(mdf.calibration?.fieldOfView == [0.09, 0.001, 0.001])
        #expect(mdf.measurement?.data.shape == [9, 1, 1, 152])
        #expect(mdf.measurement?.data.elementType == .float32)
        #expect(mdf.measurement?.isFastFrameAxis == false)   // from /measurement/isTransposed
        let deviations = try MDFValidator.validate(fixture("mpimeasurements-example-systemMatrix.mdf"))
        let paths = Set(deviations.map(\.path))
        #expect(paths.isSuperset(of: ["/version", "/acquisition/numPeriods", "/acquisition/numPeriodsPerFrame",
                                      "/measurement/isTransposed", "/measurement/isFastFrameAxis",
                                      "/measurement/isSparsityTransformed", "/acquisition/gradient"]))
    }

    @Test func metadataWrittenByMPIFiles() throws {
        let path = fixture("mpimeasurements-simulated-v2.1-metadata.mdf")
        let mdf = try MDFReader.read(path)
        #expect(mdf.kind == .metadataOnly)
        #expect(mdf.version == "2.1.0")
        #expect(mdf.scanner.topology == "FFL")
        #expect(mdf.scanner.boreSize == 1.337)
        #expect(mdf.experiment.subject == "Phantom of the Opera")
        #expect(mdf.study.time == "2021-05-30T16:46:28.563")
        #expect(mdf.acquisition.receiver.numSamplingPoints == 625)
        #expect(mdf.acquisition.driveField.strength == NDArray(shape: [1, 1, 1], storage: [0.02]))
        #expect(try MDFValidator.validate(path) == [])
    }
}
