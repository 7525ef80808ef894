import Foundation
import MagpieMDF

/// The human-readable form of `magpie inspect`.
enum InspectText {
    static func summary(_ s: MDFSummary) -> String {
        var lines = ["\(s.file)"]
        func row(_ label: String, _ value: String) {
            lines.append("  " + label.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
        }
        row("kind", "\(s.kind.rawValue), MDF \(s.version.isEmpty ? "(no version)" : s.version)")
        row("created", s.time.isEmpty ? "(no time)" : "\(s.time) UTC")
        row("study", s.study)
        row("experiment", "\(s.experiment)\(s.isSimulation ? ", simulated" : "")")
        row("scanner", "\(s.scanner.isEmpty ? "(unnamed)" : s.scanner), \(s.topology.isEmpty ? "no topology" : s.topology)")
        if !s.tracers.isEmpty { row("tracer", s.tracers.joined(separator: "; ")) }
        let channels = s.driveChannels.map {
            "\(frequency($0.frequencyHz)) (divider \($0.divider)) \(String(format: "%.3g", $0.strength * 1e3)) mT \($0.waveform)"
        }
        row("drive field", "\(s.driveChannels.count) channel\(s.driveChannels.count == 1 ? "" : "s"): " + channels.joined(separator: ", "))
        row("", "base \(frequency(s.baseFrequencyHz)), cycle \(duration(s.cycleSeconds))")
        row("receiver", "\(s.receiveChannels) channel\(s.receiveChannels == 1 ? "" : "s"), \(s.samplesPerPeriod) samples per period, "
            + "bandwidth \(frequency(s.bandwidthHz)) (\(frequency(2 * s.bandwidthHz).replacingOccurrences(of: "Hz", with: "S/s"))), unit \(s.unit.isEmpty ? "?" : s.unit)")
        if let factor = s.dataConversionFactor {
            row("", "dataConversionFactor " + factor.map { "[\($0.map { String(format: "%g", $0) }.joined(separator: ", "))]" }.joined(separator: " "))
        }
        row("frames", "\(s.frames) (\(s.backgroundFrames) background), \(s.periodsPerFrame) period\(s.periodsPerFrame == 1 ? "" : "s") per frame, \(s.averages) average\(s.averages == 1 ? "" : "s")")
        if let data = s.measurement {
            row("measurement", "\(axes(data)), \(data.elementType.rawValue), \(data.domain) domain")
            if !s.measurementFlags.isEmpty { row("", s.measurementFlags.joined(separator: ", ")) }
        }
        if let grid = s.calibrationGrid {
            row("calibration", "\(s.calibrationMethod ?? "?") grid \(grid.map(String.init).joined(separator: " x "))"
                + " over \(millimetres(s.calibrationFieldOfView)) mm, centre (\(millimetres(s.calibrationCenter, separator: ", "))) mm")
        }
        if let data = s.reconstruction {
            row("reconstruction", "\(axes(data)), \(data.elementType.rawValue)")
            if let grid = s.reconstructionGrid {
                row("", "grid \(grid.map(String.init).joined(separator: " x ")) over \(millimetres(s.reconstructionFieldOfView)) mm")
            }
        }
        lines.append(s.deviations.isEmpty
            ? "  valid MDF \(MDF.specVersion)"
            : "  \(s.deviations.count) deviation\(s.deviations.count == 1 ? "" : "s") from MDF \(MDF.specVersion):")
        lines += s.deviations.map { "    \($0)" }
        return lines.joined(separator: "\n")
    }

    static func validation(_ file: String, _ deviations: [MDFDeviation]) -> String {
        guard !deviations.isEmpty else { return "\(file): valid MDF \(MDF.specVersion)" }
        return (["\(file): \(deviations.count) deviation\(deviations.count == 1 ? "" : "s") from MDF \(MDF.specVersion)"]
            + deviations.map { "  \($0)" }).joined(separator: "\n")
    }

    private static func axes(_ data: MDFSummary.Data) -> String {
        data.axes.map(\.letter).joined(separator: " x ") + " = " + data.axes.map { String($0.length) }.joined(separator: " x ")
    }

    static func frequency(_ hertz: Double) -> String {
        switch abs(hertz) {
        case 1e6...: return String(format: "%.6g MHz", hertz / 1e6)
        case 1e3...: return String(format: "%.6g kHz", hertz / 1e3)
        default: return String(format: "%.6g Hz", hertz)
        }
    }

    static func duration(_ seconds: Double) -> String {
        switch abs(seconds) {
        case 1...: return String(format: "%.6g s", seconds)
        case 1e-3...: return String(format: "%.6g ms", seconds * 1e3)
        default: return String(format: "%.6g µs", seconds * 1e6)
        }
    }

    private static func millimetres(_ metres: [Double]?, separator: String = " x ") -> String {
        (metres ?? []).map { String(format: "%g", $0 * 1e3) }.joined(separator: separator)
    }
}
