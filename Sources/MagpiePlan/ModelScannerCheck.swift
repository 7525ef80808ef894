import MagpieCore
import MagpieNeural

/// A learned stage's model against the scan's scanner, at the scan's start: a model trained for
/// other physics is refused with what differs, unless the stage's `allow_other_scanner = true`;
/// then the mismatch is returned for the file's provenance (`<stage>ScannerMismatch`).
enum ModelScannerCheck {
    static let key = "allow_other_scanner"

    static func check(_ model: LearnedModel, scanner: () throws -> MPIScanner, stage: String, allowed: Bool, scan: ScanDescription) throws -> String? {
        let mismatch: String?
        do {
            mismatch = model.scannerMismatch(try scanner())
        } catch {
            mismatch = "the scan does not describe its scanner (\(error))"
        }
        guard let mismatch else { return nil }
        guard allowed else {
            throw PlanError("[stage.\(stage)] model \(model.name) does not fit \(scan.name): \(mismatch). Train one for this scanner (models/README.md, \"Scanners\"), or set \(key) = true in [stage.\(stage)] to run it anyway; the file then records the mismatch")
        }
        return mismatch
    }
}
