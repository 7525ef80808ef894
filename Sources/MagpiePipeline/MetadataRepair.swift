import Foundation
import MagpieWire

/// One field of a scan's metadata that would have made its file invalid MDF 2.1.0, and what the
/// file holds instead. A cosmetic fault never costs the scan its frames: the file is written
/// with the repair, and `/_magpie/repairs` keeps the original value.
public struct MetadataRepair: Sendable, Equatable, CustomStringConvertible {
    /// The MDF path of the field, e.g. "/study/uuid".
    public var field: String
    public var original: String
    public var replacement: String

    public var description: String { "\(field) \"\(LogText.escaped(original.prefix(80)))\" -> \"\(replacement)\"" }

    /// Placeholder for a required string that was empty.
    public static let placeholder = "unknown"

    /// `metadata` with every cosmetic fault repaired, and the list of repairs (empty when it was valid).
    public static func repair(_ metadata: ScanMetadata) -> (ScanMetadata, [MetadataRepair]) {
        var m = metadata
        var repairs: [MetadataRepair] = []
        func uuid(_ value: inout String, _ field: String) {
            guard UUID(uuidString: value) == nil else { return }
            let new = UUID().uuidString.lowercased()
            repairs.append(MetadataRepair(field: field, original: value, replacement: new))
            value = new
        }
        func nonEmpty(_ value: inout String, _ field: String) {
            guard value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
            repairs.append(MetadataRepair(field: field, original: value, replacement: placeholder))
            value = placeholder
        }
        uuid(&m.study.uuid, "/study/uuid")
        uuid(&m.experiment.uuid, "/experiment/uuid")
        nonEmpty(&m.study.name, "/study/name")
        nonEmpty(&m.experiment.name, "/experiment/name")
        nonEmpty(&m.scanner.facility, "/scanner/facility")
        nonEmpty(&m.scanner.manufacturer, "/scanner/manufacturer")
        nonEmpty(&m.scanner.name, "/scanner/name")
        nonEmpty(&m.scanner.operator, "/scanner/operator")
        nonEmpty(&m.acquisition.receiver.unit, "/acquisition/receiver/unit")
        if !["FFP", "FFL", "MPS"].contains(m.scanner.topology) {
            // The spec's values; Magpie's x-space and presets are field-free-point scanners.
            repairs.append(MetadataRepair(field: "/scanner/topology", original: m.scanner.topology, replacement: "FFP"))
            m.scanner.topology = "FFP"
        }
        if m.acquisition.numAverages < 1 {
            repairs.append(MetadataRepair(field: "/acquisition/numAverages", original: "\(m.acquisition.numAverages)", replacement: "1"))
            m.acquisition.numAverages = 1
        }
        if let tracer = m.tracer {
            let counts = [tracer.batch.count, tracer.name.count, tracer.solute.count, tracer.vendor.count, tracer.concentration.count, tracer.volume.count]
            if Set(counts).count > 1 {
                repairs.append(MetadataRepair(field: "/tracer", original: "arrays of \(counts) entries", replacement: "left out"))
                m.tracer = nil
            }
        }
        return (m, repairs)
    }
}
