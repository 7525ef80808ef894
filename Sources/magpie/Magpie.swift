import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco
import MagpieWire

@main
struct Magpie: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "magpie",
        abstract: "Scanner-side acquisition and reconstruction for Magnetic Particle Imaging.",
        discussion: """
            Magpie reads and writes MDF v2 (HDF5) files, the format of MPIFiles.jl and OpenMPIData.

            Examples:
              magpie inspect scan.mdf             what a file holds
              magpie inspect --validate *.mdf     deviations from MDF 2.1.0
              magpie demo --output demo-output    write example files
            """,
        version: """
            magpie \(MagpieVersion.string) (HDF5 \(HDF5Library.version), ZeroMQ \(ZeroMQ.version), \
            \(NumericalLibraries.fftw), \(NumericalLibraries.openBLAS))
            """,
        subcommands: [InspectCommand.self, SimulateCommand.self, ReconstructCommand.self, PublishCommand.self, ReplayCommand.self, DaemonCommand.self, RecoverCommand.self, KeygenCommand.self, TrainDenoiserCommand.self, CompareCommand.self, DemoCommand.self, BenchCommand.self, UpscaleSMCommand.self, CompressSMCommand.self]
    )
}

/// Prints one line to standard error, the way every subcommand reports a failure.
func printError(_ message: String) {
    var standardError = StandardError()
    print("magpie: error: \(message)", to: &standardError)
}

/// Prints one line to standard error that the user should know but that is no failure.
func printNote(_ message: String) {
    var standardError = StandardError()
    print("magpie: note: \(message)", to: &standardError)
}

/// Runs a command's work; any failure becomes one `magpie: error:` line and exit status 1.
func reportingFailure(_ work: () throws -> Void) throws {
    do {
        try work()
    } catch {
        printError("\(error)")
        throw ExitCode.failure
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
