import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct MDFBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdf",
        abstract: "Time writing and reading a system-matrix MDF file of a given size.",
        discussion: """
            Writes a complex64 system matrix (J x C x K x N = 1 x 2 x 817 x N, the OpenMPIData 2D
            receiver) with MDFWriter, which includes validating the file before it is moved into
            place, then reads it back whole with MDFReader. Each repeat writes a new file (the last
            one is deleted outside the timing). Prints the median of the repeats.

            Example:
              magpie bench mdf --megabytes 150 --repeats 5
            """
    )

    @Option(help: "Size of the measurement data in MB (10^6 bytes).")
    var megabytes = 150

    @Option(help: "Repeats; the median is reported.")
    var repeats = 3

    @Option(help: "Directory for the temporary file.")
    var directory = NSTemporaryDirectory()

    func validate() throws {
        guard megabytes > 0, repeats > 0 else { throw ValidationError("--megabytes and --repeats must be positive") }
    }

    func run() throws {
        let frequencies = DemoFiles.samples / 2 + 1, channels = DemoFiles.channels
        let frames = max(megabytes * 1_000_000 / (frequencies * channels * 8), DemoFiles.backgroundFrames + 1)
        let positions = frames - DemoFiles.backgroundFrames
        let shape = [1, channels, frequencies, frames]
        let data = NDArray(shape: shape, storage: (0..<NDArray<Int>.count(of: shape)).map {
            Complex(Float($0 % 1013) * 1e-3, Float($0 % 997) * -1e-3)
        })
        var mdf = DemoFiles.metadata(frames: frames, description: "magpie bench mdf")
        mdf.measurement = MDF.Measurement(data: .complex64(data), isBackgroundFrame: (0..<frames).map { $0 >= positions },
                                          isFastFrameAxis: true, isFourierTransformed: true)
        mdf.calibration = MDF.Calibration(method: "simulation", size: [positions, 1, 1], fieldOfView: [0.03, 0.001, 0.001],
                                          fieldOfViewCenter: [0, 0, 0])
        let path = (directory as NSString).appendingPathComponent("magpie-bench-\(MDF.newUUID()).mdf")
        defer { try? FileManager.default.removeItem(atPath: path) }

        let bytes = Double(data.count * 8)
        var writes: [Double] = [], reads: [Double] = []
        for repeat_ in 1...repeats {
            let start = DispatchTime.now()
            try MDFWriter.write(mdf, to: path)
            let written = DispatchTime.now()
            let read = try MDFReader.read(path)
            let done = DispatchTime.now()
            guard read.measurement?.data == mdf.measurement?.data else { throw ValidationError("data read back differs") }
            writes.append(seconds(start, written))
            reads.append(seconds(written, done))
            try FileManager.default.removeItem(atPath: path) // outside the timing: each repeat writes a new file
            print(String(format: "repeat %d/%d: write %.3f s, read %.3f s", repeat_, repeats, writes.last!, reads.last!))
        }
        let write = median(writes), read = median(reads)
        print(String(format: "magpie mdf: %.1f MB (shape %@) write %.3f s (%.0f MB/s), read %.3f s (%.0f MB/s)",
                     bytes / 1e6, shape.map(String.init).joined(separator: "x"), write, bytes / 1e6 / write, read, bytes / 1e6 / read))
    }
}
