import Foundation
import MagpiePlan
import MagpieReco
import MagpieWire
import TOMLKit

/// `magpie daemon`'s configuration file (TOML; systemd/magpie.toml documents every key). Only
/// `[input] endpoint` and `[output] directory` are required. Unknown sections and keys are
/// errors, so that a misspelt key is not silently ignored.
public struct DaemonConfig: Sendable {
    /// ZeroMQ endpoint of the scanner (or `magpie publish`).
    public var endpoint: String
    /// sub (default, as the product was specified) or pull (back-pressures the sender).
    public var socket: ZeroMQSocket.Kind = .sub
    /// Connect (default: the scanner binds) or bind.
    public var bind = false
    /// Receive high-water mark, messages.
    public var highWaterMark: Int32 = 100_000
    /// Seconds without a message for the open scan after which it is closed as incomplete (its scan-end was lost).
    public var scanTimeout: Double = 10
    /// ZeroMQ's maximum message (part) size: a peer sending more is disconnected before its bytes are buffered.
    public var maximumMessageBytes = StreamLimits.maximumPayloadBytes
    /// CURVE: the daemon's secret key file and the scanners' public keys (both or neither).
    public var curveSecretKeyFile: String?
    public var curveAllowedClientsFile: String?
    /// Where scans are written (and journals kept while they stream).
    public var directory: String
    /// PNG of the newest image, relative to `directory` unless absolute; "" for none.
    public var preview = "latest.png"
    /// When journal records are forced to the disk (docs/RELIABILITY.md says what each setting survives).
    public var durability: ScanJournal.Durability = .interval(milliseconds: 200)
    /// A scan-start warns (log line, metric) when less is free than this or than the scan plans to need.
    public var minFreeBytes: Int64 = 1 << 30
    /// Retention of finished scan files: delete those older than this many days ...
    public var keepDays: Double?
    /// ... and the oldest while all of them together hold more bytes than this.
    public var keepBytes: Int64?
    /// The reconstruction plan the frames go through: `[pipeline] stages` with a `[stage.NAME]`
    /// table each, or the flat keys of earlier versions translated into the same plan.
    public var plan: ReconstructionPlan
    /// The model manifest (models/manifest.json of the installation).
    public var models = "models/manifest.json"
    /// Frames waiting for processing; beyond it the oldest waiting foreground frame is skipped (and counted).
    public var queueLength = 64
    /// host:port of the Prometheus text endpoint; "" for none.
    public var metricsListen = "127.0.0.1:9464"
    /// The file's own text, stored with every scan as provenance.
    public var text = ""

    public init(endpoint: String, directory: String, plan: ReconstructionPlan? = nil) {
        self.endpoint = endpoint
        self.directory = directory
        self.plan = plan ?? Self.defaultPlan
    }

    /// Background correction from the preceding background frames, then x-space.
    public static let defaultPlan = try! ReconstructionPlan(steps: [BackgroundStep(mode: .preceding), XSpaceStep()])

    public var previewPath: String? {
        guard !preview.isEmpty else { return nil }
        return preview.hasPrefix("/") ? preview : (directory as NSString).appendingPathComponent(preview)
    }

    public static func load(_ path: String) throws -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.config("cannot read \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    public static func parse(_ text: String, source: String = "config") throws -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw PipelineError.config("\(source): \(error.description) at line \(error.source.begin.line), column \(error.source.begin.column)")
        }
        let reader = Reader(table: table, source: source)
        try reader.allow(sections: ["input", "output", "pipeline", "stage", "metrics"])
        try reader.allow(keys: ["endpoint", "socket", "bind", "high_water_mark", "scan_timeout", "max_message_bytes",
                                "curve_secret_key_file", "curve_allowed_clients_file"], in: "input")
        try reader.allow(keys: ["directory", "preview", "durability", "fsync_interval_ms", "min_free_bytes", "keep_days", "keep_bytes"], in: "output")
        try reader.allow(keys: ["stages", "models", "queue"] + Self.flatKeys, in: "pipeline")
        try reader.allow(keys: ["listen"], in: "metrics")

        var config = DaemonConfig(endpoint: try reader.string("input", "endpoint", required: true)!,
                                  directory: try reader.string("output", "directory", required: true)!)
        config.text = text
        if let socket = try reader.string("input", "socket") {
            guard let kind = ZeroMQSocket.Kind(rawValue: socket), !kind.sends else {
                throw PipelineError.config("\(source): [input] socket must be \"sub\" or \"pull\", not \"\(socket)\"")
            }
            config.socket = kind
        }
        config.bind = try reader.bool("input", "bind") ?? config.bind
        if let mark = try reader.int("input", "high_water_mark", 1...10_000_000) { config.highWaterMark = Int32(mark) }
        config.scanTimeout = try reader.double("input", "scan_timeout", 0.1...86_400) ?? config.scanTimeout
        // A header part may be 1 MiB; a frame payload at most StreamLimits.maximumPayloadBytes.
        config.maximumMessageBytes = try reader.int("input", "max_message_bytes", StreamCodec.maximumHeaderSize...StreamLimits.maximumPayloadBytes)
            ?? config.maximumMessageBytes
        config.curveSecretKeyFile = try reader.string("input", "curve_secret_key_file")
        config.curveAllowedClientsFile = try reader.string("input", "curve_allowed_clients_file")
        guard (config.curveSecretKeyFile == nil) == (config.curveAllowedClientsFile == nil) else {
            throw PipelineError.config("\(source): [input] curve_secret_key_file and curve_allowed_clients_file go together (magpie keygen writes keys)")
        }
        config.preview = try reader.string("output", "preview") ?? config.preview
        let interval = try reader.int("output", "fsync_interval_ms", 1...60_000)
        switch try reader.string("output", "durability") ?? "interval" {
        case "os": config.durability = .os
        case "interval": config.durability = .interval(milliseconds: interval ?? 200)
        case "frame": config.durability = .frame
        case let other:
            throw PipelineError.config("\(source): [output] durability must be \"os\", \"interval\" or \"frame\", not \"\(other)\"")
        }
        if interval != nil, config.durability != .interval(milliseconds: interval!) {
            throw PipelineError.config("\(source): [output] fsync_interval_ms applies only to durability = \"interval\"")
        }
        config.minFreeBytes = Int64(try reader.int("output", "min_free_bytes", 0...(1 << 50)) ?? Int(config.minFreeBytes))
        config.keepDays = try reader.double("output", "keep_days", 0.001...36_500)
        config.keepBytes = try reader.int("output", "keep_bytes", 1...(1 << 60)).map(Int64.init)
        config.models = try reader.string("pipeline", "models") ?? config.models
        config.plan = try plan(reader, source: source)
        config.queueLength = try reader.int("pipeline", "queue", 1...1_000_000) ?? config.queueLength
        config.metricsListen = try reader.string("metrics", "listen") ?? config.metricsListen
        if !config.metricsListen.isEmpty, MetricsAddress(config.metricsListen) == nil {
            throw PipelineError.config("\(source): [metrics] listen must be host:port, e.g. \"127.0.0.1:9464\", not \"\(config.metricsListen)\"")
        }
        return config
    }

    /// The keys of `[pipeline]` before `stages`: still read, as the plan they mean.
    static let flatKeys = ["background", "denoise", "denoise_model", "reconstruct", "system_matrix", "lambda", "iterations",
                           "score_model", "deblur", "deblur_model"]

    /// The plan of `[pipeline] stages` and the `[stage.NAME]` tables, or of the flat keys.
    private static func plan(_ reader: Reader, source: String) throws -> ReconstructionPlan {
        let flat = flatKeys.filter { reader.value("pipeline", $0) != nil }
        if let stages = reader.value("pipeline", "stages") {
            guard flat.isEmpty else {
                throw PipelineError.config("\(source): [pipeline] stages and the flat keys (\(flat.joined(separator: ", "))) do not mix; "
                                           + "settings go in [stage.NAME] tables, e.g. [stage.kaczmarz] system_matrix = \"sm.mdf\"")
            }
            guard let names = stages.array?.compactMap({ $0.string }), names.count == stages.array?.count else {
                throw PipelineError.config("\(source): [pipeline] stages must be a list of stage names, e.g. [\"background\", \"xspace\"]; known: \(PlanSteps.names.joined(separator: ", "))")
            }
            do {
                let plan = try ReconstructionPlan(stages: names, tables: reader.table["stage"]?.table, source: source)
                try BackgroundStep.checkLive(plan)
                return plan
            } catch let error as PlanError {
                throw PipelineError.config(error.description.hasPrefix(source) ? error.description : "\(source): \(error.description)")
            }
        }
        if reader.table["stage"] != nil { throw PipelineError.config("\(source): [stage.NAME] tables need [pipeline] stages = [...] naming them") }
        var steps: [any PlanStep] = []
        let background = try reader.string("pipeline", "background") ?? "subtract"
        guard ["subtract", "off"].contains(background) else {
            throw PipelineError.config("\(source): [pipeline] background must be \"subtract\" or \"off\", not \"\(background)\"")
        }
        if background == "subtract" { steps.append(BackgroundStep(mode: .preceding)) }
        let denoise = try reader.string("pipeline", "denoise") ?? "off"
        guard ["ssd", "off"].contains(denoise) else { throw PipelineError.config("\(source): [pipeline] denoise must be \"ssd\" or \"off\", not \"\(denoise)\"") }
        if denoise == "ssd" { steps.append(DenoiseStep(model: try reader.string("pipeline", "denoise_model"))) }
        let method = try reader.string("pipeline", "reconstruct") ?? "xspace"
        let methods = ReconstructionMethod.allCases.map(\.rawValue) + ["off"]
        guard methods.contains(method) else {
            throw PipelineError.config("\(source): [pipeline] reconstruct must be one of \(methods.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(method)\"")
        }
        let matrix = SystemMatrixSettings(systemMatrix: try reader.string("pipeline", "system_matrix"))
        let lambda = try reader.double("pipeline", "lambda", 0...1e6), iterations = try reader.int("pipeline", "iterations", 1...100_000)
        if ReconstructionMethod(rawValue: method)?.usesSystemMatrix == true, (matrix.systemMatrix ?? "").isEmpty {
            throw PipelineError.config("\(source): [pipeline] reconstruct = \"\(method)\" needs system_matrix = \"/path/to/sm.mdf\"")
        }
        switch ReconstructionMethod(rawValue: method) {
        case .xspace?: steps.append(XSpaceStep())
        case .kaczmarz?, .cgnr?: steps.append(SystemMatrixStep(ReconstructionMethod(rawValue: method)!, matrix: matrix, lambda: lambda, iterations: iterations))
        case .score?: steps.append(ScoreStep(matrix: matrix, lambda: lambda, iterations: iterations, model: try reader.string("pipeline", "score_model")))
        case nil: break
        }
        let deblur = try reader.string("pipeline", "deblur") ?? "off"
        if deblur != "off" {
            guard let choice = DeblurStep.Method(rawValue: deblur) else {
                throw PipelineError.config("\(source): [pipeline] deblur must be one of \((["off"] + DeblurStep.Method.allCases.map(\.rawValue)).map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(deblur)\"")
            }
            guard method == "xspace" else {
                throw PipelineError.config("\(source): [pipeline] deblur = \"\(deblur)\" deblurs x-space images and needs reconstruct = \"xspace\"")
            }
            steps.append(DeblurStep(method: choice, model: try reader.string("pipeline", "deblur_model")))
        }
        do {
            return try ReconstructionPlan(steps: steps)
        } catch let error as PlanError {
            throw PipelineError.config("\(source): \(error.description)")
        }
    }

    /// Typed access with errors that name the key.
    private struct Reader {
        let table: TOMLTable
        let source: String

        func allow(sections: [String]) throws {
            for key in table.keys where !sections.contains(key) {
                throw PipelineError.config("\(source): unknown section [\(key)]; known: \(sections.map { "[\($0)]" }.joined(separator: ", "))")
            }
        }

        func allow(keys: [String], in section: String) throws {
            guard let value = table[section] else { return }
            guard let inner = value.table else { throw PipelineError.config("\(source): \(section) must be a section ([\(section)])") }
            for key in inner.keys where !keys.contains(key) {
                throw PipelineError.config("\(source): unknown key \(key) in [\(section)]; known: \(keys.joined(separator: ", "))")
            }
        }

        func value(_ section: String, _ key: String) -> TOMLValueConvertible? { table[section]?.table?[key] }

        func string(_ section: String, _ key: String, required: Bool = false) throws -> String? {
            guard let value = value(section, key) else {
                if required { throw PipelineError.config("\(source): [\(section)] \(key) is required") }
                return nil
            }
            guard let string = value.string else { throw wrongType(section, key, "a string") }
            return string
        }

        func bool(_ section: String, _ key: String) throws -> Bool? {
            guard let value = value(section, key) else { return nil }
            guard let bool = value.bool else { throw wrongType(section, key, "true or false") }
            return bool
        }

        func int(_ section: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = value(section, key) else { return nil }
            guard let int = value.int else { throw wrongType(section, key, "an integer") }
            guard range.contains(int) else { throw outOfRange(section, key, "\(int)", "\(range.lowerBound) to \(range.upperBound)") }
            return int
        }

        func double(_ section: String, _ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let value = value(section, key) else { return nil }
            guard let double = value.double ?? value.int.map(Double.init) else { throw wrongType(section, key, "a number") }
            guard double.isFinite, range.contains(double) else { throw outOfRange(section, key, "\(double)", "a finite number from \(range.lowerBound) to \(range.upperBound)") }
            return double
        }

        func outOfRange(_ section: String, _ key: String, _ value: String, _ allowed: String) -> PipelineError {
            PipelineError.config("\(source): [\(section)] \(key) = \(value) is out of range; allowed: \(allowed)")
        }

        func wrongType(_ section: String, _ key: String, _ expected: String) -> PipelineError {
            PipelineError.config("\(source): [\(section)] \(key) must be \(expected)")
        }
    }
}

/// host:port of a TCP listener.
public struct MetricsAddress: Sendable, Equatable {
    public let host: String
    public let port: UInt16

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        host = String(text[..<colon])
        self.port = port
        guard !host.isEmpty else { return nil }
    }
}
