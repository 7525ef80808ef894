import ArgumentParser
import Foundation
import MagpieNeural

/// Each committed model's forward pass as exported (as the plan loads it) and frozen and optimised
/// for inference by LibTorch, interleaved in the same run.
struct ModelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Time every model's forward pass, as loaded and optimised for inference.",
        discussion: """
            For each model of the manifest (or --model), runs forward on its check input (the \\
            exporter's stored input) --repeats times after 3 warm-up runs, alternating the module as \\
            loaded with the one frozen and optimised by torch.jit.optimize_for_inference, and prints \\
            the median milliseconds of each and their ratio. Both must give the exporter's output \\
            (CommittedModelTests checks it).

            Example:
              magpie bench models --repeats 30
            """
    )

    @Option(help: "The model manifest.") var manifest = "models/manifest.json"
    @Option(help: "Only this model (repeatable).") var model: [String] = []
    @Option(help: "Timed runs of each.") var repeats = 20
    @Option(help: "LibTorch threads (0: its default).") var threads = 0

    func run() throws {
        if threads > 0 { TorchModule.threads = threads }
        let entries = try ModelManifest.load(manifest).models.filter { model.isEmpty || model.contains($0.name) }
        guard !entries.isEmpty else { throw ValidationError("no model named \(model.joined(separator: ", ")) in \(manifest)") }
        print("LibTorch threads \(TorchModule.threads); medians of \(repeats) runs on each model's check input")
        print("model                          input              as loaded   optimised   ratio")
        for entry in entries {
            let plain = try LearnedModel(entry: entry, manifestPath: manifest, kind: entry.kind)
            let optimised = try LearnedModel(entry: entry, manifestPath: manifest, kind: entry.kind, optimized: true)
            guard let input = try plain.checkData()?.input else { continue }
            for _ in 0..<3 { _ = try plain.run(input); _ = try optimised.run(input) }
            var times: (plain: [Double], optimised: [Double]) = ([], [])
            for _ in 0..<repeats {
                var start = DispatchTime.now()
                _ = try plain.run(input)
                times.plain.append(seconds(start) * 1000)
                start = DispatchTime.now()
                _ = try optimised.run(input)
                times.optimised.append(seconds(start) * 1000)
            }
            let (a, b) = (median(times.plain), median(times.optimised))
            let note = (try? optimised.optimization.get()) == nil ? "  (not optimised: LibTorch refused)" : ""
            print(String(format: "%-30@ %-18@ %8.2f ms %8.2f ms %7.2f", entry.name, "\(input.shape)", a, b, b / a) + note)
        }
    }
}
