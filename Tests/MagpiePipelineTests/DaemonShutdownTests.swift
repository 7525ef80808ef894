import Foundation
import MagpieMDF
import MagpieWire
import ServiceLifecycle
import Synchronization
import Testing
@testable import MagpiePipeline

/// The daemon's services end to end in one process: a scan streamed over ZeroMQ, then a graceful
/// shutdown in the middle of it. Intake must stop first, processing drain the queue, and the
/// writer write the open scan's file, in that order, before the group returns.
@Suite(.serialized) struct DaemonShutdownTests {
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct TimedOut: Error { let what: String }

    /// Generous: `swift test` runs suites in parallel, and CPU-bound ones hold the cooperative pool's
    /// threads (two on a 2-core machine) for a minute or more, so the group's tasks may start late.
    static func waitFor(_ what: String, seconds: Double = 300, _ condition: () -> Bool) async throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !condition() {
            guard Date() < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func gracefulShutdownStopsIntakeThenDrainsThenWritesTheOpenScan() async throws {
        let directory = NSTemporaryDirectory() + "magpie-shutdown-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = DaemonConfig(endpoint: "tcp://127.0.0.1:\(Self.freePort())", directory: directory)
        (config.socket, config.bind, config.consoleListen, config.preview) = (.pull, true, "", "")
        let log = LogCapture()
        let written = Mutex<[String]>([])
        let daemon = try Daemon(config: config, logger: log.logger, notifier: SystemdNotifier(environment: [:])) { path in
            written.withLock { $0.append(path) }
        }
        let group = daemon.serviceGroup(signals: false)
        let running = Task { try await group.run() }
        try await Self.waitFor("the daemon to listen") { log.index(of: "listening on") != nil }

        let sender = try ZeroMQSocket(.push, endpoint: config.endpoint, bind: false)
        defer { sender.close() }
        try sender.send(StreamMessages.start("s1", planned: 40))
        try sender.send(StreamMessages.frame("s1", 0, sequence: 0, background: true))
        for index in 1..<25 { try sender.send(StreamMessages.frame("s1", index, sequence: UInt64(index))) }
        try await Self.waitFor("25 archived frames") { daemon.counters.total.archived == 25 }

        await group.triggerGracefulShutdown()
        try await running.value

        let files = written.withLock { $0 }
        #expect(files.count == 1)
        let stopped = try #require(log.index(of: "intake stopped"))
        let drained = try #require(log.index(of: "processing drained"))
        let file = try #require(log.index(of: " -> \(files.first ?? "?")"))
        #expect(stopped < drained && drained < file, "\(log.all)")
        let hdf = try HDF5File.open(try #require(files.first))
        #expect(try hdf.info("/measurement/data").shape[0] == 25)
        #expect(try hdf.readString("/_magpie/daemon/status") == "incomplete: the daemon stopped before scan-end")
        #expect(try hdf.read("/_magpie/stream/missingFrameRanges", as: Int64.self).storage == [25, 39])
        // Every frame was processed live or skipped for a newer one (a shutdown does not wait for catch-up).
        let processed = try hdf.readScalar("/_magpie/daemon/counters/processed", as: Int64.self)
        let skipped = try hdf.readScalar("/_magpie/daemon/counters/skipped", as: Int64.self)
        #expect(processed + skipped == 25)
        #expect((1...24).contains(try hdf.info("/reconstruction/data").shape[0]))
        #expect(daemon.counters.total.lost == 15)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aSocketThatCannotBindFailsTheGroupWithTheReason() async throws {
        let directory = NSTemporaryDirectory() + "magpie-shutdown-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = DaemonConfig(endpoint: "tcp://256.1.1.1:5", directory: directory)
        (config.socket, config.bind, config.consoleListen) = (.pull, true, "")
        let daemon = try Daemon(config: config, logger: LogCapture().logger, notifier: SystemdNotifier(environment: [:]))
        await #expect(throws: (any Error).self) { try await daemon.serviceGroup(signals: false).run() }
    }
}
