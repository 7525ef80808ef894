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
