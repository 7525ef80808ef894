import ArgumentParser
import Foundation
import MagpieMDF

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write example MDF files (measurement, spectrum, system matrix, reconstruction) and inspect them.",
        discussion: """
            Writes four MDF 2.1.0 files with the OpenMPIData 2D geometry and synthetic data, checks
            that each reads back equal to what was written and passes validation, and prints their
            summaries. The data are closed-form waveforms, not a physical simulation.

            Example:
              magpie demo --output demo-output && magpie inspect demo-output/*.mdf
            """
    )

    @Option(name: .shortAndLong, help: "Directory for the files (created if missing).")
    var output = "demo-output"

    @Flag(help: "Only print the paths written.")
    var quiet = false

    func run() throws {
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            printError("\(output): cannot create the output directory: \(error.localizedDescription)")
            throw ExitCode.failure
        }
        let measurement = DemoFiles.measurement()
        let files: [(String, MDFFile)] = [
            ("measurement.mdf", measurement),
            ("spectrum.mdf", DemoFiles.spectrum(of: measurement)),
            ("systemMatrix.mdf", DemoFiles.systemMatrix()),
            ("reconstruction.mdf", DemoFiles.reconstruction()),
        ]
        for (name, mdf) in files {
            let path = (output as NSString).appendingPathComponent(name)
            do {
                try MDFWriter.write(mdf, to: path, overwrite: true)
                guard try MDFReader.read(path) == mdf else {
                    throw ValidationError("\(path) does not read back equal to what was written")
                }
                if quiet {
                    print(path)
                } else {
                    print(InspectText.summary(try MDFSummary(path: path)))
                    print()
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
        }
    }
}
