import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieReco

struct CompressSMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress-sm",
        abstract: "Compress a system matrix (DCT-IV over the calibration grid, a fixed fraction of each row kept) into an MDF v2.1 file.",
        discussion: """
            The rows of the frequencies the selection keeps (for any channel; every channel is stored
            at those frequencies) are background corrected, transformed by the orthonormal DCT-IV
            over the grid and cut to their largest --keep fraction of coefficients (MPIReco's matrix
            compression). The file stores them as MDF v2.1 does (isSparsityTransformed,
            sparsityTransformation "DCT-IV", subsamplingIndices); the daemon and `magpie reconstruct`
            load it directly for Kaczmarz, so a large 3D calibration starts in seconds and takes a
            fraction of the memory. The calibration SNR is kept for the selection at load.

            Example:
              magpie compress-sm sm.mdf -o sm-dct01.mdf --keep 0.01
              magpie reconstruct m.mdf --sm sm-dct01.mdf -o image.mdf
            """
    )

    @Argument(help: "The system-matrix MDF.") var input: String
    @Option(name: .shortAndLong, help: "The compressed system-matrix MDF.") var output: String
    @Option(help: "Fraction of each row's coefficients kept, above 0 and up to 1.") var keep: Double
    @Option(help: "Keep frequencies whose calibration SNR is at least this (default 2).") var snrThreshold = 2.0
    @Option(help: "Lowest frequency kept, Hz.") var minFreq = 80e3
    @Option(help: "Highest frequency kept, Hz (default: the receive bandwidth).") var maxFreq: Double?
    @Flag(help: "Replace the output file if it exists.") var overwrite = false

    func validate() throws {
        guard keep.isFinite, keep > 0, keep <= 1 else { throw ValidationError("--keep must be above 0 and up to 1, got \(keep)") }
        guard snrThreshold >= 0, minFreq >= 0 else { throw ValidationError("--snr-threshold and --min-freq must not be negative") }
    }

    func run() throws {
        try reportingFailure {
            if !overwrite && FileManager.default.fileExists(atPath: output) {
                throw ValidationError("\(output) exists (use --overwrite to replace it)")
            }
            let start = DispatchTime.now()
            let mdf = try MDFReader.read(input)
            let recorded = try ReconstructionInputs.recordedSystemMatrix(mdf, path: input)
            let selection = FrequencySelection(minFrequency: minFreq, maxFrequency: maxFreq, snrThreshold: snrThreshold)
            let (file, matrix) = try CompressedSystemMatrix.file(compressing: mdf, recorded: recorded, selection: selection, keep: keep)
            try MDFWriter.write(file, to: output, overwrite: overwrite) { out in
                try out.write(input, to: "/_magpie/compression/input")
                try out.write(mdf.uuid, to: "/_magpie/compression/inputUUID")
                try out.write(scalar: keep, to: "/_magpie/compression/keep")
                try out.write("magpie \(MagpieVersion.string)", to: "/_magpie/compression/software")
            }
            let dense = Double(matrix.rows.count * matrix.columns * 8)
            print(String(format: "%@: %d rows (%d channels x %d frequencies) of %d coefficients each (of %d), %.1f MB of values and indices, %.1f %% of the dense rows; %.1f s",
                         output, matrix.rows.count, recorded.channels, matrix.rows.count / max(recorded.channels, 1), matrix.kept, matrix.columns,
                         Double(matrix.bytes) / 1e6, 100 * Double(matrix.bytes) / dense, seconds(start)))
        }
    }
}
