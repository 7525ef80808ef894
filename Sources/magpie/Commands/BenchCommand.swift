import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Magpie's own speed (build with -c release).",
        subcommands: [MDFBench.self, XSpaceBench.self, SystemMatrixBench.self, ReceiveBench.self, DenoiseBench.self, ScoreBench.self, DeblurBench.self, ModelsBench.self]
    )
}
