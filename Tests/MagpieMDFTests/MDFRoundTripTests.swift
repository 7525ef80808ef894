import Foundation
import MagpieCore
import Testing
@testable import MagpieMDF

@Suite struct MDFRoundTripTests {
    /// Writes, validates and reads back; the file read must equal the one written.
    func roundTrip(_ mdf: MDFFile) throws -> MDFFile {
        let dir = try TemporaryDirectory()
        let path = dir.file("file.mdf")
        try MDFWriter.write(mdf, to: path)
        #expect(try MDFValidator.validate(path) == [])
        let read = try MDFReader.read(path)
        #expect(read == mdf)
        return read
    }

    @Test(arguments: [MDFElementType.int16, .int32, .float32, .float64])
    func rawMeasurementWithBackgroundFrames(type: MDFElementType) throws {
        var mdf = exampleMetadata(frames: 5, periods: 2, channels: 3, samples: 16)
        let shape = [5, 2, 3, 16]
        let data: MDFData
        switch type {
        case .int16: data = .int16(ramp(shape) { Int16($0 - 400) })
        case .int32: data = .int32(ramp(shape) { Int32($0) * 70_000 })
        case .float32: data = .float32(ramp(shape) { Float($0) * 0.25 })
        default: data = .float64(ramp(shape) { Double($0) * 1e-6 })
        }
        mdf.measurement = MDF.Measurement(data: data, isBackgroundFrame: [false, false, false, true, true])
        let read = try roundTrip(mdf)
        #expect(read.kind == .measurement)
        #expect(read.measurement?.data.elementType == type)
        #expect(read.measurement?.axisLetters == ["N", "J", "C", "V"])
        #expect(read.measurement?.numBackgroundFrames == 2)
        #expect(read.acquisition.receiver.dataConversionFactor?.shape == [3, 2])
    }

    @Test func fourierTransformedFrequencySelectedPermutedMeasurement() throws {
        var mdf = exampleMetadata(frames: 4, samples: 32)
        let selection: [Int64] = [2, 5, 9, 17]
        mdf.measurement = MDF.Measurement(
            data: .complex64(ramp([4, 1, 2, selection.count]) { Complex(Float($0), Float(-$0)) }),
            isBackgroundFrame: [true, false, false, true],
            isBackgroundCorrected: true, isFourierTransformed: true, isSpectralLeakageCorrected: true,
            isTransferFunctionCorrected: true, framePermutation: [2, 3, 1, 4], frequencySelection: selection)
        let read = try roundTrip(mdf)
        #expect(read.measurement?.isFrequencySelection == true)
        #expect(read.measurement?.isFramePermutation == true)
        #expect(read.measurement?.axisLetters == ["N", "J", "C", "K"])
    }

    @Test func systemMatrixWithCalibrationGroup() throws {
        let samples = 20, grid = [3, 2, 1], background = 2
        let positions = grid.reduce(1, *)
        var mdf = exampleMetadata(frames: positions + background, samples: samples)
        mdf.measurement = MDF.Measurement(
            data: .complex128(ramp([1, 2, samples / 2 + 1, positions + background]) { Complex(Double($0), 0.5) }),
            isBackgroundFrame: (0..<(positions + background)).map { $0 >= positions },
            isFastFrameAxis: true, isFourierTransformed: true)
        mdf.calibration = MDF.Calibration(
            method: "robot", size: grid, fieldOfView: [0.03, 0.02, 0.001], fieldOfViewCenter: [0, 0.001, 0],
            positions: ramp([positions, 3]) { Double($0) * 1e-3 }, deltaSampleSize: [0.002, 0.002, 0.001],
            snr: ramp([1, 2, samples / 2 + 1]) { Double($0) }, offsetFields: NDArray(repeating: 0, shape: [positions, 3]))
        let read = try roundTrip(mdf)
        #expect(read.kind == .systemMatrix)
        #expect(read.measurement?.axisLetters == ["J", "C", "K", "N"])
        #expect(read.measurement?.numFrames == positions + background)
    }

    @Test func reconstruction() throws {
        var mdf = exampleMetadata(frames: 2)
        mdf.reconstruction = MDF.Reconstruction(
            data: .float32(ramp([2, 12, 1]) { Float($0) / 7 }), fieldOfView: [0.03, 0.04, 0.001],
            fieldOfViewCenter: [0, 0, 0], size: [3, 4, 1],
            positions: ramp([12, 3]) { Double($0) }, isOverscanRegion: (0..<12).map { $0 % 5 == 0 })
        let read = try roundTrip(mdf)
        #expect(read.kind == .reconstruction)
    }

    @Test func metadataOnlyReadKeepsShapeAndType() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("m.mdf")
        var mdf = exampleMetadata(frames: 3)
        mdf.measurement = MDF.Measurement(data: .int16(ramp([3, 1, 2, 64]) { Int16($0 % 100) }), isBackgroundFrame: [false, false, true])
        try MDFWriter.write(mdf, to: path)
        let read = try MDFReader.read(path, options: .init(loadData: false))
        #expect(read.measurement?.data == .notLoaded(shape: [3, 1, 2, 64], elementType: .int16))
        #expect(read.measurement?.isBackgroundFrame == [false, false, true])
        // A file read without its data cannot be written back by mistake.
        #expect(throws: MDFError.self) { try MDFWriter.write(read, to: dir.file("copy.mdf")) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("copy.mdf")))
    }
}

@Suite struct MDFWriterTests {
    @Test func refusesAnInconsistentFileAndLeavesNothingBehind() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("bad.mdf")
        var mdf = exampleMetadata(frames: 4)
        // Three frames of data, but numFrames says four; and background before foreground.
        mdf.measurement = MDF.Measurement(data: .int16(ramp([3, 1, 2, 64]) { Int16($0 % 7) }), isBackgroundFrame: [true, false, false])
        do {
            try MDFWriter.write(mdf, to: path)
            Issue.record("an inconsistent file was written")
        } catch let MDFError.notValid(file, deviations) {
            #expect(file == path)
            #expect(deviations.contains { $0.path == "/measurement/data" && $0.message.contains("N=4") })
            #expect(deviations.contains { $0.path == "/measurement/isBackgroundFrame" })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
    }

    @Test func refusesToOverwriteUnlessAsked() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("once.mdf")
        let mdf = exampleMetadata(frames: 1)
        try MDFWriter.write(mdf, to: path)
        #expect(throws: MDFError.self) { try MDFWriter.write(mdf, to: path) }
        var changed = mdf
        changed.study.name = "second"
        try MDFWriter.write(changed, to: path, overwrite: true)
        #expect(try MDFReader.read(path).study.name == "second")
    }

    @Test func userDefinedGroupsAreAllowed() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("user.mdf")
        try MDFWriter.write(exampleMetadata(frames: 1), to: path)
        do {
            let file = try HDF5File.open(path, mode: .readWrite)
            try file.write(scalar: 0.01, to: "/_reconstruction/lambda")
            try file.write("kaczmarz", to: "/acquisition/_solver")
        }
        #expect(try MDFValidator.validate(path) == [])
    }
}
