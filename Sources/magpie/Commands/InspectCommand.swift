import ArgumentParser
import Foundation
import MagpieMDF

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise MDF files and check them against MDF v2.1.0.",
        discussion: """
            Prints the kind of file (measurement, system matrix, reconstruction), its axes with the
            spec's letters, scanner, drive field, receiver, frames, the calibration or reconstruction
            grid, and every deviation from the spec with its field path. Data arrays are not loaded,
            so large system matrices inspect quickly.

            Exit status: 0 when every file could be read (and, with --validate, is valid MDF 2.1.0);
            1 otherwise.

            Examples:
              magpie inspect measurement.mdf
              magpie inspect --validate sm.mdf
              magpie inspect --json recon.mdf | jq .deviations
            """
    )

    @Argument(help: "MDF files to inspect.")
    var files: [String]

    @Flag(help: "Only list deviations from MDF v2.1.0; exit 1 when a file has any.")
    var validate = false

    @Flag(help: "Print JSON (one object per file) instead of text.")
    var json = false

    func run() throws {
        var failed = false
        for path in files {
            do {
                if validate {
                    let deviations = try MDFValidator.validate(path)
                    failed = failed || !deviations.isEmpty
                    if json {
                        try printJSON(ValidationReport(file: path, isValid: deviations.isEmpty, deviations: deviations))
                    } else {
                        print(InspectText.validation(path, deviations))
                    }
                } else {
                    let summary = try MDFSummary(path: path)
                    if json { try printJSON(summary) } else { print(InspectText.summary(summary)) }
                }
            } catch {
                printError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }

    private struct ValidationReport: Encodable {
        let file: String
        let isValid: Bool
        let deviations: [MDFDeviation]
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
