import Foundation
import MagpieCore
import Testing
@testable import MagpieMDF

@Suite struct HDF5RoundTripTests {
    @Test func numericDatasetsOfEveryTypeAndRank() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("numbers.h5")
        do {
            let file = try HDF5File.create(path)
            try file.write(scalar: Int8(-7), to: "/scalars/int8")
            try file.write(scalar: Int16.min, to: "/scalars/int16")
            try file.write(scalar: Int32.max, to: "/scalars/int32")
            try file.write(scalar: Int64.min, to: "/scalars/int64")
            try file.write(scalar: Float(1.5), to: "/scalars/float32")
            try file.write(scalar: Double.pi, to: "/scalars/float64")
            try file.write(ramp([3]) { Int8($0 - 1) }, to: "/arrays/int8")
            try file.write(ramp([2, 3]) { Int16($0 * 1000 - 3000) }, to: "/arrays/int16")
            try file.write(ramp([2, 3, 4]) { Int32($0) * 100_000 }, to: "/arrays/int32")
            try file.write(ramp([2, 1, 3, 2]) { Int64($0) << 40 }, to: "/arrays/int64")
            try file.write(ramp([5, 2]) { Float($0) / 3 }, to: "/arrays/float32")
            try file.write(ramp([1, 2, 3, 2, 1]) { Double($0) * 1e-9 }, to: "/arrays/float64")
            try file.write(NDArray<Double>(shape: [0, 3], storage: []), to: "/arrays/empty")
        }
        let file = try HDF5File.open(path)
        #expect(try file.readScalar("/scalars/int8", as: Int8.self) == -7)
        #expect(try file.readScalar("/scalars/int16", as: Int16.self) == Int16.min)
        #expect(try file.readScalar("/scalars/int32", as: Int32.self) == Int32.max)
        #expect(try file.readScalar("/scalars/int64", as: Int64.self) == Int64.min)
        #expect(try file.readScalar("/scalars/float32", as: Float.self) == 1.5)
        #expect(try file.readScalar("/scalars/float64", as: Double.self) == Double.pi)
        #expect(try file.read("/arrays/int8", as: Int8.self) == ramp([3]) { Int8($0 - 1) })
        #expect(try file.read("/arrays/int16", as: Int16.self) == ramp([2, 3]) { Int16($0 * 1000 - 3000) })
        #expect(try file.read("/arrays/int32", as: Int32.self) == ramp([2, 3, 4]) { Int32($0) * 100_000 })
        #expect(try file.read("/arrays/int64", as: Int64.self) == ramp([2, 1, 3, 2]) { Int64($0) << 40 })
        #expect(try file.read("/arrays/float32", as: Float.self) == ramp([5, 2]) { Float($0) / 3 })
        #expect(try file.read("/arrays/float64", as: Double.self) == ramp([1, 2, 3, 2, 1]) { Double($0) * 1e-9 })
        #expect(try file.read("/arrays/empty", as: Double.self).shape == [0, 3])
        #expect(try file.info("/scalars/int16").shape == [])
        #expect(try file.info("/scalars/int16").type == .integer(signed: true, bytes: 2))
        #expect(try file.info("/arrays/float32").type == .float(bytes: 4))
        // Widths convert on read: Int16 data reads as Int64, Int32 as Double.
        #expect(try file.read("/arrays/int16", as: Int64.self).storage == ramp([2, 3]) { Int64($0 * 1000 - 3000) }.storage)
        #expect(try file.read("/arrays/int32", as: Double.self).storage.last == 2_300_000)
        #expect(try file.members(of: "/") == ["arrays", "scalars"])
        #expect(try file.members(of: "/scalars").count == 6)
        #expect(try file.kind(of: "/arrays") == .group)
        #expect(try file.kind(of: "/arrays/int8") == .dataset)
        #expect(try file.kind(of: "/arrays/missing/deeper") == nil)
    }

    @Test func complexNumbersAreTheMDFCompound() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("complex.h5")
        let single = ramp([2, 3]) { Complex(Float($0), -Float($0) / 2) }
        let double = ramp([4]) { Complex(Double($0) * 1e-3, .pi) }
        do {
            let file = try HDF5File.create(path)
            try file.write(single, to: "/c64")
            try file.write(double, to: "/c128")
            try file.write(scalar: Complex<Double>(1, 2), to: "/scalar")
        }
        let file = try HDF5File.open(path)
        #expect(try file.info("/c64").type == .complex(bytesPerPart: 4))
        #expect(try file.info("/c128").type == .complex(bytesPerPart: 8))
        #expect(try file.read("/c64", as: Complex<Float>.self) == single)
        #expect(try file.read("/c128", as: Complex<Double>.self) == double)
        #expect(try file.readScalar("/scalar", as: Complex<Double>.self) == Complex(1, 2))
        // Single-precision complex widens to double on read.
        #expect(try file.read("/c64", as: Complex<Double>.self).storage[5] == Complex(5, -2.5))
    }

    @Test func fixedAndVariableLengthUTF8Strings() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("strings.h5")
        let words = NDArray(shape: [2, 2], storage: ["sine", "triangle", "Größe µ", ""])
        do {
            let file = try HDF5File.create(path)
            try file.write("Universitätsklinikum µ", to: "/fixed")
            try file.write("", to: "/empty")
            try file.write(words, to: "/variable")
        }
        let file = try HDF5File.open(path)
        #expect(try file.info("/fixed").type == .string(variableLength: false))
        #expect(try file.info("/variable").type == .string(variableLength: true))
        #expect(try file.readString("/fixed") == "Universitätsklinikum µ")
        #expect(try file.readString("/empty") == "")
        #expect(try file.readStrings("/variable") == words)
    }

    @Test func appendableDatasetGrowsAndReopens() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("append.h5")
        do {
            let file = try HDF5File.create(path)
            let frames = try file.createAppendable("/measurement/data", of: Int16.self, frameShape: [1, 2, 4], framesPerChunk: 2)
            try frames.append(ramp([1, 1, 2, 4]) { Int16($0) })
            try frames.append(ramp([2, 1, 2, 4]) { Int16(8 + $0) })
            #expect(frames.frameCount == 3)
            #expect(throws: HDF5Error.self) { try frames.append(ramp([1, 1, 2, 3]) { Int16($0) }) }
            try file.flush()
        }
        do {
            let file = try HDF5File.open(path, mode: .readWrite)
            let frames = try file.openAppendable("/measurement/data", of: Int16.self)
            #expect(frames.frameCount == 3)
            #expect(frames.frameShape == [1, 2, 4])
            try frames.append(ramp([1, 1, 2, 4]) { Int16(24 + $0) })
            let info = try file.info("/measurement/data")
            #expect(info.maxShape == [nil, 1, 2, 4])
        }
        let data = try HDF5File.open(path).read("/measurement/data", as: Int16.self)
        #expect(data == ramp([4, 1, 2, 4]) { Int16($0) })
    }
}

@Suite struct HDF5ErrorTests {
    @Test func missingFileDirectoryAndForeignFilesAreNamedErrors() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: HDF5Error.self) { try HDF5File.open(dir.file("absent.mdf")) }
        let missing = try? HDF5File.open(dir.file("absent.mdf"))
        #expect(missing == nil)
        do {
            _ = try HDF5File.open(dir.path)
            Issue.record("opening a directory succeeded")
        } catch let error as HDF5Error {
            #expect(error.message.contains("directory"))
        }
        let text = dir.file("notes.mdf")
        try "not HDF5 at all".write(toFile: text, atomically: true, encoding: .utf8)
        do {
            _ = try HDF5File.open(text)
            Issue.record("opening a text file succeeded")
        } catch let error as HDF5Error {
            #expect(error.description == "\(text): not an HDF5 file (no HDF5 signature)")
        }
    }

    @Test func truncatedFileFailsWithAReason() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("whole.h5")
        do {
            let file = try HDF5File.create(path)
            try file.write(ramp([4096]) { Double($0) }, to: "/big")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = dir.file("truncated.h5")
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: truncated))
        do {
            let file = try HDF5File.open(truncated)
            _ = try file.read("/big", as: Double.self)
            Issue.record("reading a truncated file succeeded")
        } catch let error as HDF5Error {
            #expect(error.file == truncated)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func typeMismatchesNameThePath() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("types.h5")
        do {
            let file = try HDF5File.create(path)
            try file.write("twelve", to: "/acquisition/numFrames")
            try file.write(ramp([3]) { Float($0) + 0.5 }, to: "/reals")
            try file.write(ramp([3]) { Int64($0) }, to: "/vector")
        }
        let file = try HDF5File.open(path)
        do {
            _ = try file.readScalar("/acquisition/numFrames", as: Int64.self)
            Issue.record("read a string as Int64")
        } catch let error as HDF5Error {
            #expect(error.path == "/acquisition/numFrames")
            #expect(error.message.contains("String"))
        }
        #expect(throws: HDF5Error.self) { try file.read("/reals", as: Int32.self) }      // would truncate
        #expect(throws: HDF5Error.self) { try file.read("/reals", as: Complex<Float>.self) }
        #expect(throws: HDF5Error.self) { try file.readScalar("/vector", as: Int64.self) } // three values
        #expect(throws: HDF5Error.self) { try file.readStrings("/vector") }
        #expect(throws: HDF5Error.self) { try file.read("/absent", as: Double.self) }
        #expect(throws: HDF5Error.self) { try file.read("relative/path", as: Double.self) }
    }

    @Test func writingNeverOverwritesSilently() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("once.h5")
        let file = try HDF5File.create(path)
        try file.write(scalar: Int64(1), to: "/a/b")
        #expect(throws: HDF5Error.self) { try file.write(scalar: Int64(2), to: "/a/b") }
        #expect(throws: HDF5Error.self) { try file.createGroup("/a/b") }
        #expect(throws: HDF5Error.self) { try HDF5File.create(path) }
        #expect(throws: HDF5Error.self) { try HDF5File.create(dir.path, overwrite: true) }
        #expect(try file.readScalar("/a/b", as: Int64.self) == 1)
    }
}
