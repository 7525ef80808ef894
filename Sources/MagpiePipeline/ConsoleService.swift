import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MagpieCore
import MagpieMDF
import MagpieNeural
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// The daemon's one HTTP server (Hummingbird), on `[console] listen`: the operator's page at `/`,
/// Prometheus metrics at `/metrics`, a read-only JSON API under `/api` (docs/console-api.yaml),
/// and two Server-Sent-Event streams: `/api/live` (newest image, signals, counters; at most
/// `[console] update_rate` updates a second) and `/api/events` (scans started, ended, written).
/// Every client has its own task: an idle connection is closed after `idleSeconds`, and a slow
/// reader of a stream only slows its own stream (it gets the newest state when it is ready,
/// never a backlog); the pipeline never waits for the console. Nothing here writes a file or runs
/// a command. With a token (`[console] token_file`, required off loopback) every request but the
/// page itself presents it. It is the first service started and the last stopped, so it answers
/// while the daemon drains.
final class ConsoleService: Service {
    struct Settings: Sendable {
        var address: ListenAddress
        var token: String?
        var updateRate: Double
        var idleSeconds: Int64 = 10
        /// Connections served at once; more wait in the listen backlog (idle ones are closed after
        /// `idleSeconds`), so a flood of connections cannot take the file descriptors the journal needs.
        var maximumConnections = 64
        /// Live and event streams open at once; more are answered 503.
        var maximumStreams = 16
    }

    /// What the console reads from the rest of the daemon.
    struct Sources: Sendable {
        var config: DaemonConfig
        var counters: Counters
        var live: LiveView
        var registry: PrometheusCollectorRegistry
        /// Frames waiting for processing.
        var queueFrames: @Sendable () -> Int
    }

    static let tokenCookie = "magpie_token"
    static let tokenHeader = HTTPField.Name("X-Magpie-Token")!
    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    private let settings: Settings
    private let sources: Sources
    private let scans: ScanDirectory
    private let logger: Logger
    private let started = Date()
    private let streams = Atomic<Int>(0)
    /// Counter rates per second over the last sampling second (`sample()`).
    private let rates = Mutex<(at: Double, totals: Counters.Values, perSecond: [String: Double])>((0, Counters.Values(), [:]))
    private let queueGauge: CoreMetrics.Gauge
    private let uptimeGauge: CoreMetrics.Gauge

    /// Checks that the address can be bound, so that a taken port is a start-up error.
    init(settings: Settings, sources: Sources, logger: Logger) throws {
        try settings.address.checkBindable()
        (self.settings, self.sources, self.logger) = (settings, sources, logger)
        scans = ScanDirectory(directory: sources.config.directory)
        let factory = PrometheusMetricsFactory(registry: sources.registry)
        queueGauge = CoreMetrics.Gauge(label: "magpie_queue_frames", factory: factory)
        uptimeGauge = CoreMetrics.Gauge(label: "magpie_uptime_seconds", factory: factory)
    }

    func run() async throws {
        let router = Router()
        if let token = settings.token { router.add(middleware: TokenMiddleware(token: token)) }
        router.add(middleware: HeadersMiddleware())
        routes(router)
        var quiet = logger
        quiet.logLevel = .warning   // Hummingbird's own start-up lines; ours says where to look
        let app = Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(settings.idleSeconds))),
                              configuration: .init(address: .hostname(settings.address.host, port: Int(settings.address.port)), serverName: "magpie",
                                                   availableConnectionsDelegate: MaximumAvailableConnections(settings.maximumConnections)),
                              onServerRunning: { [logger, settings] _ in
                                  logger.info("console on http://\(settings.address.host):\(settings.address.port)/ (metrics at /metrics)\(settings.token == nil ? "" : "; a token is required")")
                              },
                              logger: quiet)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                group.addTask { [self] in
                    while !sources.live.isClosed && !Task.isCancelled {   // cancelled: the server failed
                        sample()
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: { [live = sources.live] in
            live.close()   // the streams end, so the server's own graceful shutdown completes
        }
    }

    // MARK: - Routes

    private func routes(_ router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsolePage.html)))
        }
        router.get("/metrics") { [self] _, _ in
            refreshGauges()
            var body: [UInt8] = []
            sources.registry.emit(into: &body)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/api/status") { [self] _, _ in try await blocking { [self] in json(status()) } }
        router.get("/api/scans") { [self] request, _ in
            let offset = try Self.integer(request, "offset", default: 0, range: 0...1_000_000)
            let limit = try Self.integer(request, "limit", default: 50, range: 1...500)
            return try await blocking { [scans] in
                let files = scans.list()
                let page = files.dropFirst(offset).prefix(limit).map { scans.entry($0) }
                return try Self.json(ScanPage(total: files.count, offset: offset, limit: limit, scans: Array(page)))
            }
        }
        router.get("/api/scans/:name") { [self] _, context in
            let name = try context.parameters.require("name")
            return try await blocking { [self] in try Self.json(try lookup { try scans.entry(name) }) }
        }
        router.get("/api/scans/:name/file") { [self] _, context in
            let name = try context.parameters.require("name")
            let path = try await blocking { [self] in try lookup { try scans.resolve(name) } }
            // The body knows its length; Response sets Content-Length from it.
            return Response(status: .ok, headers: [.contentType: "application/x-hdf5", .contentDisposition: "attachment; filename=\"\(name)\""],
                            body: try await FileIO().loadFile(path: path, context: context))
        }
        router.get("/api/scans/:name/image/:image") { [self] request, context in
            let name = try context.parameters.require("name")
            let image = try context.parameters.require("image")
            guard image.hasSuffix(".png"), let index = Int(image.dropLast(4)), (-1_000_000_000...1_000_000_000).contains(index) else {
                throw HTTPError(.badRequest, message: "an image is named INDEX.png: 0 for the first, -1 for the last (\"\(image.prefix(40))\" is not)")
            }
            let size = try Self.integer(request, "size", default: 256, range: 16...2048)
            let bar = try Self.integer(request, "colourbar", default: 1, range: 0...1)
            let png = try await blocking { [self] in
                let found = try lookup { try scans.image(name, index: index) }
                return Preview.png(found.values[...], size: found.size, minimumSize: size, colourBar: bar == 1)
            }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        router.get("/api/live") { [self] _, _ in try stream { [self] writer in try await live(&writer) } }
        router.get("/api/events") { [self] request, _ in
            // A client that comes back names the last event it saw; by default it gets those still kept.
            let after = try request.headers[Self.lastEventID].map {
                guard let n = Int($0), n >= 0 else { throw HTTPError(.badRequest, message: "Last-Event-ID must be a sequence number") }
                return n
            } ?? Self.integer(request, "after", default: 0, range: 0...Int(Int32.max))
            return try stream { [self] writer in try await events(&writer, after: after) }
        }
    }

    /// File reads (HDF5, directory listings) on NIO's blocking-I/O pool, as Hummingbird's own file
    /// serving does: never on one of the cooperative pool's few threads.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    private struct ScanPage: Encodable {
        var total: Int
        var offset: Int
        var limit: Int
        var scans: [ScanDirectory.Entry]
    }

    /// A query parameter as an integer in `range` (400 otherwise, with the range).
    private static func integer(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard text.count <= 12, let number = Int(text), range.contains(number) else {
            throw HTTPError(.badRequest, message: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), not \"\(text.prefix(40))\"")
        }
        return number
    }

    /// Scan lookups as HTTP answers: 400 for a name no scan file can have, 404 for one that is not there.
    private func lookup<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ScanDirectory.Lookup {
            switch error {
            case let .badName(name):
                throw HTTPError(.badRequest, message: "\"\(name.prefix(80))\" is not a scan file's name (letters, digits, '-', '_' and '.', ending in .mdf)")
            case let .notFound(what):
                throw HTTPError(.notFound, message: what.hasSuffix(".mdf") ? "no scan \(what) in the output directory" : what)
            }
        }
    }

    private static func encoded<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    private static func json<T: Encodable>(_ value: T) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoded(value))))
    }

    private func json(_ object: [String: Any]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: LiveView.json(object))))
    }

    // MARK: - Status and counters

    private func refreshGauges() {
        queueGauge.record(sources.queueFrames())
        uptimeGauge.record(Date().timeIntervalSince(started))
    }

    /// Once a second: a sample of the counters for their rates, and the gauges Prometheus would otherwise see stale.
    private func sample() {
        refreshGauges()
        let now = Date().timeIntervalSince1970
        let totals = sources.counters.total
        rates.withLock { previous in
            if previous.at > 0 { previous.perSecond = Self.perSecond(from: previous.totals, to: totals, seconds: now - previous.at) }
            (previous.at, previous.totals) = (now, totals)
        }
    }

    /// Each counter's growth a second from the last sample to now, or over the last sampling
    /// second when that sample was only just taken.
    private func currentRates(_ totals: Counters.Values) -> [String: Double] {
        let now = Date().timeIntervalSince1970
        return rates.withLock { sample in
            guard sample.at > 0, now - sample.at >= 0.25 else { return sample.perSecond }
            return Self.perSecond(from: sample.totals, to: totals, seconds: now - sample.at)
        }
    }

    private static func perSecond(from earlier: Counters.Values, to later: Counters.Values, seconds: Double) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(Counters.Values.names, zip(later.all, earlier.all)).map { ($0, Double($1.0 - $1.1) / max(1e-3, seconds)) })
    }

    func status() -> [String: Any] {
        let config = sources.config
        let totals = sources.counters.total, scan = sources.counters.scan
        var object: [String: Any] = [
            "version": MagpieVersion.string,
            "started": MDF.timestamp(started),
            "uptimeSeconds": Date().timeIntervalSince(started),
            "config": [
                "file": config.path ?? "", "endpoint": config.endpoint, "socket": config.socket.rawValue, "bind": config.bind,
                "directory": config.directory, "durability": "\(config.durability)", "queue": config.queueLength,
                "catchUpSeconds": config.catchUpSeconds ?? 0, "console": "\(settings.address.host):\(settings.address.port)",
                "updateRate": settings.updateRate, "tokenRequired": settings.token != nil,
            ] as [String: Any],
            "chain": (try? JSONSerialization.jsonObject(with: Data(sources.live.chain.utf8))) ?? [],
            "counters": Dictionary(uniqueKeysWithValues: zip(Counters.Values.names, totals.all)),
            "rates": currentRates(totals),
            "queueFrames": sources.queueFrames(),
        ]
        if let open = sources.live.openScan {
            object["openScan"] = [
                "scanID": open.scanID, "name": open.name, "started": open.started, "framesPlanned": open.framesPlanned,
                "framesReceived": scan.received, "framesArchived": scan.archived, "receiveChannels": open.receiveChannels,
                "samplesPerPeriod": open.samplesPerPeriod, "driveFrequencies": open.driveFrequencies,
            ] as [String: Any]
        }
        if let last = scans.list().first {
            object["lastScan"] = ["file": last.name, "ageSeconds": Date().timeIntervalSince1970 - last.modified] as [String: Any]
        }
        return object
    }

    // MARK: - Streams

    /// A Server-Sent-Events response whose body `produce` writes; at most `maximumStreams` at once.
    private func stream(_ produce: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) throws -> Response {
        // Counted while its body runs (a client gone before then never holds a place).
        guard streams.load(ordering: .relaxed) < settings.maximumStreams else {
            throw HTTPError(.serviceUnavailable, message: "\(settings.maximumStreams) live streams are open; close one")
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                        body: ResponseBody { [self] writer in
                            streams.add(1, ordering: .relaxed)
                            defer { streams.subtract(1, ordering: .relaxed) }
                            try await produce(&writer)
                            try await writer.finish(nil)
                        })
    }

    /// `/api/live`: each tick (1 / update_rate s), what changed since this client's last write:
    /// the newest image and signals, the status twice a second, and scan events.
    private func live(_ writer: inout any ResponseBodyWriter) async throws {
        var sent = (image: -1, signal: -1, event: sources.live.lastSequence)
        var lastStatus = 0.0
        let interval = Duration.seconds(1 / settings.updateRate)
        var tick = ContinuousClock.now
        while !sources.live.isClosed {
            var out = ""
            let versions = sources.live.versions
            if versions.image != sent.image, let image = sources.live.imageJSON() {
                out += "event: image\ndata: \(image.text)\n\n"
                sent.image = image.version
            }
            if versions.signal != sent.signal, let signal = sources.live.signalJSON() {
                out += "event: signal\ndata: \(signal.text)\n\n"
                sent.signal = signal.version
            }
            for event in sources.live.events(after: sent.event).events {
                out += "event: scan\nid: \(event.sequence)\ndata: \(Self.encode(event))\n\n"
                sent.event = event.sequence
            }
            let now = Date().timeIntervalSince1970
            if now - lastStatus >= 0.5 {
                out += "event: status\ndata: \(LiveView.json(status()))\n\n"
                lastStatus = now
            }
            if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }   // waits while this client's socket is full
            // The next tick one interval after this one, not after this write: update_rate a second while the client
            // keeps up; one that fell behind starts again from now rather than catching up in a burst.
            tick = max(tick + interval, ContinuousClock.now)
            try await Task.sleep(until: tick, clock: .continuous)
        }
    }

    /// `/api/events`: scan events as they happen, each with its sequence number as the SSE id.
    private func events(_ writer: inout any ResponseBodyWriter, after first: Int) async throws {
        var last = first
        var quiet = 0
        while !sources.live.isClosed {
            let (events, gap) = sources.live.events(after: last)
            var out = gap ? "event: gap\ndata: {\"after\":\(last)}\n\n" : ""
            for event in events {
                out += "event: scan\nid: \(event.sequence)\ndata: \(Self.encode(event))\n\n"
                last = event.sequence
            }
            quiet = out.isEmpty ? quiet + 1 : 0
            if quiet >= 60 { out = ": still here\n\n"; quiet = 0 }   // every 15 s, so proxies keep the connection
            if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private static func encode(_ event: LiveView.ScanEvent) -> String {
        String(decoding: (try? encoded(event)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Every request but the page itself presents the token: `Authorization: Bearer TOKEN`, the
/// `X-Magpie-Token` header, or the cookie the page sets after asking for it once.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/" { return try await next(request, context) }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let presented = bearer ?? request.headers[ConsoleService.tokenHeader] ?? request.cookies[ConsoleService.tokenCookie]?.value
        guard let presented else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"magpie\""],
                            message: "this console needs its token: Authorization: Bearer TOKEN, X-Magpie-Token: TOKEN, or the page's cookie")
        }
        guard ConsoleService.sameToken(presented, token) else { throw HTTPError(.forbidden, message: "wrong token") }
        return try await next(request, context)
    }
}

extension ConsoleService {
    /// Compares in time that does not depend on where the two differ.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        var difference = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { difference |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return difference == 0
    }
}

/// Headers every answer carries: nothing is sniffed, framed by other sites, or fetched from elsewhere by the page.
struct HeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
