import Foundation
import MagpieCore
@testable import MagpieMDF

/// A fresh directory per test, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "magpie-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Tests/Fixtures: MDF files written by third-party software.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// Metadata for a small 2-channel FFP scanner; every test file builds on it.
func exampleMetadata(frames: Int, periods: Int = 1, channels: Int = 2, samples: Int = 64) -> MDFFile {
    let perPeriod = [periods, 2, 1]
    return MDFFile(
        study: MDF.Study(name: "Größe µ-Studie", number: 7, description: "unit test"),
        experiment: MDF.Experiment(name: "round trip", number: 3, description: "", subject: "phantom", isSimulation: true),
        tracer: MDF.Tracer(batch: ["b1", "b2"], name: ["Perimag", "Resovist"], solute: ["Fe", "Fe"], vendor: ["micromod", "Bayer"],
                           concentration: [0.1, 0.5], volume: [1e-4, 2e-4], injectionTime: ["2026-11-21T10:00:00.000", "2026-11-21T10:00:01.500"]),
        scanner: MDF.Scanner(facility: "UKE", manufacturer: "Bruker", name: "preclinical", operator: "tester", topology: "FFP", boreSize: 0.118),
        acquisition: MDF.Acquisition(
            numAverages: 2, numFrames: frames, numPeriodsPerFrame: periods,
            gradient: NDArray(shape: [periods, 1, 3, 3], storage: (0..<(periods * 9)).map { Double($0) }),
            offsetField: NDArray(shape: [periods, 1, 3], storage: (0..<(periods * 3)).map { Double($0) * 1e-3 }),
            driveField: MDF.DriveField(
                baseFrequency: 2.5e6, cycle: 1632 / 2.5e6,
                divider: NDArray(shape: [2, 1], storage: [102, 96]), numChannels: 2,
                phase: NDArray(repeating: Double.pi / 2, shape: perPeriod),
                strength: NDArray(repeating: 0.012, shape: perPeriod),
                waveform: NDArray(shape: [2, 1], storage: ["sine", "sine"])),
            receiver: MDF.Receiver(
                bandwidth: 1.25e6, numChannels: channels, numSamplingPoints: samples, unit: "V",
                dataConversionFactor: NDArray(shape: [channels, 2], storage: (0..<channels).flatMap { [0.5 + Double($0), 0.25] }),
                inductionFactor: (0..<channels).map { 1 + Double($0) },
                transferFunction: NDArray(shape: [channels, samples / 2 + 1],
                                          storage: (0..<(channels * (samples / 2 + 1))).map { Complex(Double($0), -Double($0) / 3) }))))
}

func ramp<T>(_ shape: [Int], _ make: (Int) -> T) -> NDArray<T> {
    NDArray(shape: shape, storage: (0..<NDArray<T>.count(of: shape)).map(make))
}

/// Writes `mdf`, then copies it into a second file in which `alter` writes its own versions of
/// some datasets first (those win over the originals) and `removing` paths are left out: a way
/// to make files that Magpie's writer would refuse, the way other software writes them.
func alteredCopy(of mdf: MDFFile, in dir: TemporaryDirectory, removing: Set<String> = [],
                 alter: (HDF5File) throws -> Void) throws -> String {
    let original = dir.file("original-\(UUID().uuidString.prefix(8)).mdf")
    try MDFWriter.write(mdf, to: original)
    let copy = dir.file("altered-\(UUID().uuidString.prefix(8)).mdf")
    let target = try HDF5File.create(copy)
    try alter(target)
    try copyDatasets(from: HDF5File.open(original), to: target, group: "/", skipping: removing)
    return copy
}

private func copyDatasets(from source: HDF5File, to target: HDF5File, group: String, skipping: Set<String>) throws {
    for name in try source.members(of: group) {
        let path = group == "/" ? "/\(name)" : "\(group)/\(name)"
        if skipping.contains(path) { continue }
        if try source.kind(of: path) == .group {
            try copyDatasets(from: source, to: target, group: path, skipping: skipping)
            continue
        }
        if target.exists(path) { continue }
        switch try source.info(path).type {
        case .string: try target.write(try source.readStrings(path), to: path)
        case .integer(_, 1): try target.write(try source.read(path, as: Int8.self), to: path)
        case .integer(_, 2): try target.write(try source.read(path, as: Int16.self), to: path)
        case .integer: try target.write(try source.read(path, as: Int64.self), to: path)
        case .float: try target.write(try source.read(path, as: Double.self), to: path)
        case .complex: try target.write(try source.read(path, as: Complex<Double>.self), to: path)
        case .other: break
        }
    }
}
