import Foundation
import MagpiePlan
import MagpieReco
import MagpieWire
import TOMLKit

/// `magpie daemon`'s configuration file (TOML; systemd/magpie.toml documents every key), read
/// section by section with TOMLKit's decoder (`TOMLSection`). Only `[input] endpoint` and
/// `[output] directory` are required. Unknown sections and keys are errors, so that a misspelt
/// key is not silently ignored; numbers are range-checked with the range in the error.
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
    /// After a scan whose live processing skipped frames: at most this many seconds to reconstruct
    /// the whole scan again from its journal, so its file holds an image of every block; nil: off.
    public var catchUpSeconds: Double? = 30
    /// LibTorch's intra-op threads for the learned stages: one core fewer than the machine has,
    /// so that intake always has a core of its own.
    public var torchThreads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    /// host:port of the console (page, JSON API, live streams, Prometheus metrics); "" for none.
    public var consoleListen = "127.0.0.1:9464"
    /// A file holding the token every console request presents; required when `consoleListen` is not a loopback address.
    public var consoleTokenFile: String?
    /// Most live updates a second to each browser (`/api/live`).
    public var consoleUpdateRate = 10.0
    /// What the daemon logs at start about the file (old key names it read).
    public var notes: [String] = []
    /// The file's own text, stored with every scan as provenance.
    public var text = ""
    /// The file it was read from (nil when parsed from text): what a reload (SIGHUP) reads again.
    public var path: String?

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
        var config = try parse(String(decoding: data, as: UTF8.self), source: path)
        config.path = path
        return config
    }

    /// What a reload applies: the plan, its models and matrices, and catch_up_seconds. The rest
    /// ([input], [output], [console], the queue's length) needs a restart: the names of what
    /// differs from `other` there.
    public func restartOnlyChanges(from other: DaemonConfig) -> [String] {
        var changed: [String] = []
        if (endpoint, socket, bind, highWaterMark, scanTimeout, maximumMessageBytes) != (other.endpoint, other.socket, other.bind, other.highWaterMark, other.scanTimeout, other.maximumMessageBytes)
            || curveSecretKeyFile != other.curveSecretKeyFile || curveAllowedClientsFile != other.curveAllowedClientsFile {
            changed.append("[input]")
        }
        if (directory, preview, minFreeBytes) != (other.directory, other.preview, other.minFreeBytes) || durability != other.durability
            || keepDays != other.keepDays || keepBytes != other.keepBytes {
            changed.append("[output]")
        }
        if queueLength != other.queueLength { changed.append("[pipeline] queue") }
        if torchThreads != other.torchThreads { changed.append("[pipeline] torch_threads") }
        if (consoleListen, consoleTokenFile, consoleUpdateRate) != (other.consoleListen, other.consoleTokenFile, other.consoleUpdateRate) {
            changed.append("[console]")
        }
        return changed
    }

    public static func parse(_ text: String, source: String = "config") throws -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw PipelineError.config("\(source): \(error.description) at line \(error.source.begin.line), column \(error.source.begin.column)")
        }
        let sections = ["input", "output", "pipeline", "stage", "console", "metrics"]
        for key in table.keys where !sections.contains(key) {
            throw PipelineError.config("\(source): unknown section [\(key)]; known: \(sections.map { "[\($0)]" }.joined(separator: ", "))")
        }
        func section<T: Decodable>(_ name: String, as type: T.Type, keys: [String]) throws -> T {
            let value = table[name] ?? TOMLTable()
            guard let inner = value.table else { throw PipelineError.config("\(source): \(name) must be a section ([\(name)])") }
            do {
                return try TOMLSection.decode(T.self, from: inner, name: "[\(name)]", keys: keys)
            } catch let error as PlanError {
                throw PipelineError.config("\(source): \(error.description)")
            }
        }
        func check<N: Comparable>(_ value: N?, _ range: ClosedRange<N>, _ name: String) throws -> N? {
            try checked(value, range, name, source: source)
        }
        guard table["input"]?.table?["endpoint"] != nil else { throw PipelineError.config("\(source): [input] endpoint is required") }
        guard table["output"]?.table?["directory"] != nil else { throw PipelineError.config("\(source): [output] directory is required") }
        let input = try section("input", as: InputSection.self, keys: InputSection.CodingKeys.allCases.map(\.rawValue))
        let output = try section("output", as: OutputSection.self, keys: OutputSection.CodingKeys.allCases.map(\.rawValue))
        let pipeline = try section("pipeline", as: PipelineSection.self, keys: PipelineSection.CodingKeys.allCases.map(\.rawValue) + Self.flatKeys)
        let console = try section("console", as: ConsoleSection.self, keys: ConsoleSection.CodingKeys.allCases.map(\.rawValue))
        // [metrics] listen: the console's address under its name before the console served more than metrics.
        let metrics = try section("metrics", as: MetricsSection.self, keys: MetricsSection.CodingKeys.allCases.map(\.rawValue))

        var config = DaemonConfig(endpoint: input.endpoint, directory: output.directory)
        config.text = text
        if let socket = input.socket {
            guard let kind = ZeroMQSocket.Kind(rawValue: socket), !kind.sends else {
                throw PipelineError.config("\(source): [input] socket must be \"sub\" or \"pull\", not \"\(socket)\"")
            }
            config.socket = kind
        }
        config.bind = input.bind ?? config.bind
        config.highWaterMark = try check(input.highWaterMark, 1...10_000_000, "[input] high_water_mark").map(Int32.init) ?? config.highWaterMark
        config.scanTimeout = try check(input.scanTimeout, 0.1...86_400, "[input] scan_timeout") ?? config.scanTimeout
        // A header part may be 1 MiB; a frame payload at most StreamLimits.maximumPayloadBytes.
        config.maximumMessageBytes = try check(input.maxMessageBytes, StreamCodec.maximumHeaderSize...StreamLimits.maximumPayloadBytes,
                                               "[input] max_message_bytes") ?? config.maximumMessageBytes
        config.curveSecretKeyFile = input.curveSecretKeyFile
        config.curveAllowedClientsFile = input.curveAllowedClientsFile
        guard (config.curveSecretKeyFile == nil) == (config.curveAllowedClientsFile == nil) else {
            throw PipelineError.config("\(source): [input] curve_secret_key_file and curve_allowed_clients_file go together (magpie keygen writes keys)")
        }
        config.preview = output.preview ?? config.preview
        let interval = try check(output.fsyncIntervalMs, 1...60_000, "[output] fsync_interval_ms")
        switch output.durability ?? "interval" {
        case "os": config.durability = .os
        case "interval": config.durability = .interval(milliseconds: interval ?? 200)
        case "frame": config.durability = .frame
        case let other:
            throw PipelineError.config("\(source): [output] durability must be \"os\", \"interval\" or \"frame\", not \"\(other)\"")
        }
        if interval != nil, config.durability != .interval(milliseconds: interval!) {
            throw PipelineError.config("\(source): [output] fsync_interval_ms applies only to durability = \"interval\"")
        }
        config.minFreeBytes = try check(output.minFreeBytes, 0...(1 << 50), "[output] min_free_bytes") ?? config.minFreeBytes
        config.keepDays = try check(output.keepDays, 0.001...36_500, "[output] keep_days")
        config.keepBytes = try check(output.keepBytes, 1...(1 << 60), "[output] keep_bytes")
        config.models = pipeline.models ?? config.models
        config.plan = try plan(pipeline, table: table, source: source)
        config.queueLength = try check(pipeline.queue, 1...1_000_000, "[pipeline] queue") ?? config.queueLength
        switch pipeline.catchUpSeconds {
        case .off?: config.catchUpSeconds = nil
        case let .seconds(seconds)?: config.catchUpSeconds = try check(seconds, 0.1...86_400, "[pipeline] catch_up_seconds")
        case nil: break
        }
        config.torchThreads = try check(pipeline.torchThreads, 1...1024, "[pipeline] torch_threads") ?? config.torchThreads
        if let old = metrics.listen {
            guard console.listen == nil else {
                throw PipelineError.config("\(source): [metrics] listen is the old name of [console] listen; give only [console] listen")
            }
            config.notes.append("\(source): [metrics] listen is read as [console] listen, its new name (the console serves /metrics and more)")
            config.consoleListen = old
        }
        config.consoleListen = console.listen ?? config.consoleListen
        if !config.consoleListen.isEmpty {
            guard let address = ListenAddress(config.consoleListen) else {
                throw PipelineError.config("\(source): [console] listen must be host:port, e.g. \"127.0.0.1:9464\", not \"\(config.consoleListen)\"")
            }
            if !address.isLoopback && console.tokenFile == nil {
                throw PipelineError.config("\(source): [console] listen = \"\(config.consoleListen)\" is reachable from other machines: "
                                           + "set [console] token_file (a file holding a token of 16 or more characters), or listen on 127.0.0.1")
            }
        }
        config.consoleTokenFile = console.tokenFile
        config.consoleUpdateRate = try check(console.updateRate, 0.5...60, "[console] update_rate") ?? config.consoleUpdateRate
        return config
    }

    /// `value` when it is in `range` (NaN never is), else an error naming the key and the range.
    private static func checked<N: Comparable>(_ value: N?, _ range: ClosedRange<N>, _ name: String, source: String) throws -> N? {
        guard let value else { return nil }
        guard range.contains(value) else {
            let allowed = N.self == Double.self ? "a finite number from \(range.lowerBound) to \(range.upperBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw PipelineError.config("\(source): \(name) = \(value) is out of range; allowed: \(allowed)")
        }
        return value
    }

    // The sections as TOMLKit's decoder reads them; CodingKeys are the keys each allows.

    private struct InputSection: Decodable {
        var endpoint: String
        var socket: String?
        var bind: Bool?
        var highWaterMark: Int?
        var scanTimeout: Double?
        var maxMessageBytes: Int?
        var curveSecretKeyFile: String?
        var curveAllowedClientsFile: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case endpoint, socket, bind, highWaterMark = "high_water_mark", scanTimeout = "scan_timeout", maxMessageBytes = "max_message_bytes"
            case curveSecretKeyFile = "curve_secret_key_file", curveAllowedClientsFile = "curve_allowed_clients_file"
        }
    }

    private struct OutputSection: Decodable {
        var directory: String
        var preview: String?
        var durability: String?
        var fsyncIntervalMs: Int?
        var minFreeBytes: Int64?
        var keepDays: Double?
        var keepBytes: Int64?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case directory, preview, durability, fsyncIntervalMs = "fsync_interval_ms", minFreeBytes = "min_free_bytes"
            case keepDays = "keep_days", keepBytes = "keep_bytes"
        }
    }

    /// `[pipeline]`: the stage chain (`stages`, read with the `[stage.NAME]` tables by the plan),
    /// or the flat keys of earlier versions.
    private struct PipelineSection: Decodable {
        var stages: [String]?
        var models: String?
        var queue: Int?
        var catchUpSeconds: SecondsOrOff?
        var torchThreads: Int?
        var background: String?
        var denoise: String?
        var denoiseModel: String?
        var reconstruct: String?
        var systemMatrix: String?
        var lambda: Double?
        var iterations: Int?
        var scoreModel: String?
        var deblur: String?
        var deblurModel: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case stages, models, queue, catchUpSeconds = "catch_up_seconds", torchThreads = "torch_threads"
            case background, denoise, denoiseModel = "denoise_model", reconstruct, systemMatrix = "system_matrix", lambda, iterations
            case scoreModel = "score_model", deblur, deblurModel = "deblur_model"
        }
    }

    /// A number of seconds, or "off".
    private enum SecondsOrOff: Decodable {
        case seconds(Double), off

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                self = .seconds(seconds)
            } else if let seconds = try? container.decode(Int.self) {
                self = .seconds(Double(seconds))
            } else if (try? container.decode(String.self)) == "off" {
                self = .off
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a number of seconds or \"off\"")
            }
        }
    }

    private struct ConsoleSection: Decodable {
        var listen: String?
        var tokenFile: String?
        var updateRate: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case listen, tokenFile = "token_file", updateRate = "update_rate" }
    }

    private struct MetricsSection: Decodable {
        var listen: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case listen }
    }

    /// The keys of `[pipeline]` before `stages`: still read, as the plan they mean.
    static let flatKeys = ["background", "denoise", "denoise_model", "reconstruct", "system_matrix", "lambda", "iterations",
                           "score_model", "deblur", "deblur_model"]

    /// The plan of `[pipeline] stages` and the `[stage.NAME]` tables, or of the flat keys.
    private static func plan(_ pipeline: PipelineSection, table: TOMLTable, source: String) throws -> ReconstructionPlan {
        let pipelineTable = table["pipeline"]?.table
        let flat = flatKeys.filter { pipelineTable?[$0] != nil }
        if let stages = pipeline.stages {
            guard flat.isEmpty else {
                throw PipelineError.config("\(source): [pipeline] stages and the flat keys (\(flat.joined(separator: ", "))) do not mix; "
                                           + "settings go in [stage.NAME] tables, e.g. [stage.kaczmarz] system_matrix = \"sm.mdf\"")
            }
            do {
                let plan = try ReconstructionPlan(stages: stages, tables: table["stage"]?.table, source: source)
                try BackgroundStep.checkLive(plan)
                return plan
            } catch let error as PlanError {
                throw PipelineError.config(error.description.hasPrefix(source) ? error.description : "\(source): \(error.description)")
            }
        }
        if table["stage"] != nil { throw PipelineError.config("\(source): [stage.NAME] tables need [pipeline] stages = [...] naming them") }
        var steps: [any PlanStep] = []
        let background = pipeline.background ?? "subtract"
        guard ["subtract", "off"].contains(background) else {
            throw PipelineError.config("\(source): [pipeline] background must be \"subtract\" or \"off\", not \"\(background)\"")
        }
        if background == "subtract" { steps.append(BackgroundStep(mode: .preceding)) }
        let denoise = pipeline.denoise ?? "off"
        // "ssd" is the signal denoiser's name in earlier versions, still read.
        guard ["signal-denoiser", "ssd", "off"].contains(denoise) else {
            throw PipelineError.config("\(source): [pipeline] denoise must be \"signal-denoiser\" or \"off\", not \"\(denoise)\"")
        }
        if denoise != "off" { steps.append(DenoiseStep(model: pipeline.denoiseModel)) }
        let method = pipeline.reconstruct ?? "xspace"
        let methods = ReconstructionMethod.allCases.map(\.rawValue) + ["off"]
        guard methods.contains(method) else {
            throw PipelineError.config("\(source): [pipeline] reconstruct must be one of \(methods.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(method)\"")
        }
        let matrix = SystemMatrixSettings(systemMatrices: pipeline.systemMatrix.map { [$0] } ?? [])
        let lambda = try checked(pipeline.lambda, 0...1e6, "[pipeline] lambda", source: source)
        let iterations = try checked(pipeline.iterations, 1...100_000, "[pipeline] iterations", source: source)
        if ReconstructionMethod(rawValue: method)?.usesSystemMatrix == true, (pipeline.systemMatrix ?? "").isEmpty {
            throw PipelineError.config("\(source): [pipeline] reconstruct = \"\(method)\" needs system_matrix = \"/path/to/sm.mdf\"")
        }
        switch ReconstructionMethod(rawValue: method) {
        case .xspace?: steps.append(XSpaceStep())
        case .kaczmarz?, .cgnr?: steps.append(SystemMatrixStep(ReconstructionMethod(rawValue: method)!, matrix: matrix, lambda: lambda, iterations: iterations))
        case .score?: steps.append(ScoreStep(matrix: matrix, lambda: lambda, iterations: iterations, model: pipeline.scoreModel))
        case nil: break
        }
        let deblur = pipeline.deblur ?? "off"
        if deblur != "off" {
            guard let choice = DeblurStep.Method(rawValue: deblur) else {
                throw PipelineError.config("\(source): [pipeline] deblur must be one of \((["off"] + DeblurStep.Method.allCases.map(\.rawValue)).map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(deblur)\"")
            }
            guard method == "xspace" else {
                throw PipelineError.config("\(source): [pipeline] deblur = \"\(deblur)\" deblurs x-space images and needs reconstruct = \"xspace\"")
            }
            steps.append(DeblurStep(method: choice, model: pipeline.deblurModel))
        }
        do {
            return try ReconstructionPlan(steps: steps)
        } catch let error as PlanError {
            throw PipelineError.config("\(source): \(error.description)")
        }
    }
}

/// host:port of a TCP listener (IPv4 or a name such as localhost).
public struct ListenAddress: Sendable, Equatable {
    public let host: String
    public let port: UInt16

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        host = String(text[..<colon])
        self.port = port
        guard !host.isEmpty else { return nil }
    }

    /// Reachable from this machine only.
    public var isLoopback: Bool { host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" }

    /// Binds and releases the address, so that a taken port or a foreign address is a start-up
    /// error rather than a failure after the rest of the daemon started.
    func checkBindable() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PipelineError.config("console socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            throw PipelineError.config("[console] listen: \(host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw PipelineError.config("[console] listen \(host):\(port): \(String(cString: strerror(errno)))") }
    }
}
