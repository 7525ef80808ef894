import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct XSpaceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xspace",
        abstract: "Time x-space reconstruction of every foreground frame of a measurement.",
        discussion: """
            Builds the reconstruction plan once (timed separately), then reconstructs each
            foreground frame minus the mean of the background frames, and compares the rate with
            the scanner's own frame rate (one frame per drive cycle).

            Example:
              magpie simulate measurement --preset openmpi-2d --frames 1000 -o m.mdf
              magpie bench xspace m.mdf --output first.h5
            """
    )

    @Argument(help: "A simulated time-domain measurement (magpie simulate measurement).") var measurement: String
    @Option(help: "Write the first frame's image to this HDF5 file (/image), to compare with a peer.") var output: String?

    func run() throws {
        let mdf = try MDFReader.read(measurement)
        guard let data = mdf.measurement, !data.isFourierTransformed, !data.isFastFrameAxis, case let .float32(frames) = data.data else {
            throw ValidationError("\(measurement): needs a Float32 time-domain measurement as magpie simulate writes it")
        }
        guard let recorded = ReconstructionInputs.recordedScanner(measurement) else {
            throw ValidationError("\(measurement): no /_magpie/scanner; bench xspace needs a file written by magpie simulate")
        }
        let scanner = try ReconstructionInputs.xSpaceScanner(mdf, recorded: recorded).scanner
        let (n, c, v) = (frames.shape[0], frames.shape[2], frames.shape[3])
        let frameSize = c * v
        var background = [Double](repeating: 0, count: frameSize)
        let backgroundCount = data.numBackgroundFrames
        for f in 0..<n where data.isBackgroundFrame[f] {
            for i in 0..<frameSize { background[i] += Double(frames.storage[f * frameSize + i]) / Double(backgroundCount) }
        }
        let reco = try XSpaceReconstruction(scanner: scanner)
        let planStart = DispatchTime.now()
        let plan = reco.plan()
        let planSeconds = seconds(planStart)
        let foreground = (0..<n).filter { !data.isBackgroundFrame[$0] }
        var first: NDArray<Double>?
        let start = DispatchTime.now()
        var period = [Double](repeating: 0, count: frameSize)
        for f in foreground {
            for i in 0..<frameSize { period[i] = Double(frames.storage[f * frameSize + i]) - background[i] }
            let image = try XSpaceReconstruction.apply(plan, to: period, shape: [c, v])
            if first == nil { first = image }
        }
        let elapsed = seconds(start)
        let rate = Double(foreground.count) / elapsed
        print(String(format: "magpie xspace: plan %.3f s (%d weights); %d frames in %.3f s = %.0f frames/s, %.2f x the scanner's %.0f frames/s",
                     planSeconds, plan.nonZeros, foreground.count, elapsed, rate, rate * scanner.period, 1 / scanner.period))
        if let output, let first {
            try HDF5File.create(output, overwrite: true).write(first, to: "/image")
        }
    }
}
