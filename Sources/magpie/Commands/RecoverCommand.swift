import ArgumentParser
import Foundation
import MagpiePipeline
import MagpieWire

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Write whatever a scan journal holds as an MDF file, also from a quarantined journal.",
        discussion: """
            The daemon turns journals into files by itself at start; a journal it cannot turn into a
            file is moved to quarantine/ in the output directory with a .why.txt note. This command
            saves what such a journal holds: every readable frame of the scan's shape, the scan-start's
            metadata with cosmetic faults repaired (originals under /_magpie/repairs), and where the
            scan-start itself is unusable, a description from the first frame with the placeholders of
            docs/RELIABILITY.md (listed under /_magpie/recovery/defaults). Damaged records are left out
            and counted.

            Example:
              magpie recover /var/lib/magpie/quarantine/2f1c.journal -o 2f1c-recovered.mdf
            """
    )

    @Argument(help: "The journal (a .journal file from the output directory or its quarantine/ folder).")
    var journal: String

    @Option(name: .shortAndLong, help: "The MDF file to write (not overwritten if it exists).")
    var output: String

    func run() throws {
        do {
            let record = try ScanRecord(journal: journal, substituteDefaults: true)
            let missing = record.missing(expected: record.start.framesPlanned)
            let repairs = try record.write(to: output, missing: missing) { hdf in
                try hdf.write("recovered by magpie recover from \(journal)", to: "/_magpie/daemon/status")
                try hdf.write(scalar: Int8(0), to: "/_magpie/daemon/complete")
            }
            print("\(output): \(record.frames.count) frames of scan \(LogText.escaped(record.start.scanID)), "
                  + "\(MissingFrames.count(missing)) missing, \(record.unusable) unusable records left out")
            for repair in repairs { print("repaired: \(repair)") }
            for note in record.defaults { print("defaults: \(note)") }
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
