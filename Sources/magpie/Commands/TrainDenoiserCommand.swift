import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct TrainDenoiserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-denoiser",
        abstract: "Fine-tune the signal denoiser on a lab's own recorded scans (no clean data needed).",
        discussion: """
            Pairs of consecutive foreground frames of each file (background subtracted as
            `magpie reconstruct` prepares frames) are two recordings of the same signal: each receive channel's periods make a
            pair for the model's self-supervised loss. Every tenth pair is held out; its loss is
            reported before and after. The new model goes to -o with its entry in manifest.json
            beside it (created or updated), ready for the daemon's [pipeline] models / denoise_model.

            Example:
              magpie train-denoiser --from scan1.mdf scan2.mdf --base signal-denoiser-openmpi2d -o lab/denoiser-lab.pt
            """
    )

    @Option(name: .customLong("from"), parsing: .upToNextOption, help: "Measurement MDF files, read as magpie reconstruct reads them (several periods a frame are averaged).")
    var files: [String]
    @Option(help: "The model to start from, by its name in --manifest.") var base = "signal-denoiser-openmpi2d"
    @Option(help: "Model manifest holding --base.") var manifest = "models/manifest.json"
    @Option(name: .shortAndLong, help: "The new TorchScript file.") var output: String
    @Option(help: "Name of the new model (default: the output's file name without .pt).") var name: String?
    @Option(help: "Adam steps.") var steps = 400
    @Option(help: "Period pairs per step.") var batch = 16
    @Option(help: "Initial learning rate (cosine decay to 0).") var learningRate = 3e-4
    @Option(help: "LibTorch threads.") var threads = 2
    @Option(help: "Seed of the batch order.") var seed: UInt64 = 0
    @Flag(help: "Replace the output file and its manifest entry if they exist.") var overwrite = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("--from needs at least one measurement file") }
        guard steps >= 1, batch >= 1, threads >= 1 else { throw ValidationError("--steps, --batch and --threads must be at least 1") }
        guard learningRate > 0 else { throw ValidationError("--learning-rate must be positive") }
        guard output.hasSuffix(".pt") else { throw ValidationError("--output must name a .pt file") }
    }

    func run() throws {
        try reportingFailure(fineTune)
    }

    private func fineTune() throws {
        TorchModule.threads = threads
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL
        let folder = outputURL.deletingLastPathComponent()
        let outManifest = folder.appendingPathComponent("manifest.json").path
        let newName = name ?? outputURL.deletingPathExtension().lastPathComponent
        if FileManager.default.fileExists(atPath: outputURL.path) && !overwrite {
            throw ValidationError("\(output) exists; --overwrite replaces it")
        }
        var target = FileManager.default.fileExists(atPath: outManifest) ? try ModelManifest.load(outManifest) : ModelManifest()
        if target.models.contains(where: { $0.name == newName }) && !overwrite {
            throw ValidationError("\(outManifest) already lists \(newName); --overwrite replaces it")
        }
        let model = try LearnedModel(named: base, manifestPath: manifest, kind: SignalDenoiser.kind)
        let tuning = try DenoiserFineTuning(model: model)
        let samples = tuning.samples
        var (train, heldOut) = (DenoiserFineTuning.Pairs(samples: samples), DenoiserFineTuning.Pairs(samples: samples))
        var sources: [JSONValue] = []
        for path in files {
            let frames = try ReconstructionInputs.measuredFrames(try MDFReader.read(path), path: path)
            guard frames.samples == samples else {
                throw ValidationError("\(path) has periods of \(frames.samples) samples; \(base) takes \(samples) (\(model.entry.scanner))")
            }
            let foreground = frames.foregroundFrames.count
            guard foreground >= 2 else { throw ValidationError("\(path) has fewer than two foreground frames") }
            let periods = try frames.prepared().storage  // foreground frames, in acquisition order
            let size = frames.channels * samples
            var pairs = 0
            for k in stride(from: 0, to: foreground - 1, by: 2) {
                let (a, b) = (k * size, (k + 1) * size)
                for c in 0..<frames.channels {
                    let (x, y) = (periods[(a + c * samples)..<(a + (c + 1) * samples)], periods[(b + c * samples)..<(b + (c + 1) * samples)])
                    if (k / 2) % 10 == 9 { heldOut.append(x, y) } else { train.append(x, y) }
                }
                pairs += 1
            }
            sources.append(.object(["file": .string(path), "frame_pairs": .number(Double(pairs)), "channels": .number(Double(frames.channels))]))
        }
        guard heldOut.count > 0 else { throw ValidationError("too few frames: the held-out tenth of the pairs is empty (20 or more foreground frames needed)") }
        print("fine-tuning \(base) on \(train.count / 2) period pairs (both directions), \(heldOut.count / 2) held out")

        let before = (train: try tuning.loss(train), heldOut: try tuning.loss(heldOut))
        print(String(format: "self-supervised loss before: held out %.5f, training %.5f", before.heldOut, before.train))
        let every = max(steps / 20, 1)
        try tuning.train(train, steps: steps, batch: batch, learningRate: learningRate, seed: seed) { step, loss in
            if step % every == 0 || step == steps { FileHandle.standardError.write(Data(String(format: "step %d/%d loss %.5f\n", step, steps, loss).utf8)) }
        }
        let after = (train: try tuning.loss(train), heldOut: try tuning.loss(heldOut))
        print(String(format: "self-supervised loss after:  held out %.5f, training %.5f", after.heldOut, after.train))

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let partial = outputURL.path + ".part"
        try model.module.save(to: partial)
        _ = try? FileManager.default.removeItem(at: outputURL)
        try FileManager.default.moveItem(atPath: partial, toPath: outputURL.path)

        // Check data: four held-out periods and the new model's output for them.
        let checkShape = [min(4, heldOut.count), 1, samples]
        let checkInput = NDArray(shape: checkShape, storage: Array(heldOut.input.prefix(NDArray<Float>.count(of: checkShape))))
        let check = try ModelManifest.Check.write(input: checkInput, output: try model.module.run(checkInput),
                                                  stem: outputURL.deletingPathExtension().lastPathComponent, in: folder)

        var entry = model.entry
        entry.name = newName
        entry.file = outputURL.lastPathComponent
        entry.sha256 = try ModelManifest.sha256(ofFile: outputURL.path)
        entry.version = model.entry.version + 1
        entry.training = .object([
            "fine_tuned_from": .string("\(base) sha256 \(model.entry.sha256)"), "files": .array(sources),
            "steps": .number(Double(steps)), "batch": .number(Double(batch)), "learning_rate": .number(learningRate),
            "optimizer": .string("Adam in LibTorch, cosine decay"), "seed": .number(Double(seed)),
            "command": .string(CommandLine.arguments.dropFirst().joined(separator: " ")), "base_training": model.entry.training,
        ])
        entry.metrics = .object([
            "self_supervised_loss_held_out_before": .number(before.heldOut), "self_supervised_loss_held_out_after": .number(after.heldOut),
            "self_supervised_loss_training_before": .number(before.train), "self_supervised_loss_training_after": .number(after.train),
            "held_out_pairs": .number(Double(heldOut.count / 2)),
        ])
        entry.check = check
        try target.upsert(entry, writingTo: outManifest)
        print("wrote \(outputURL.path) (\(newName), sha256 \(entry.sha256.prefix(12))...) and its entry in \(outManifest)")
    }
}
