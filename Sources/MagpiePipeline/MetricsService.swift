import Foundation
import Logging
import Prometheus
import ServiceLifecycle

/// The Prometheus endpoint on `[metrics] listen`: swift-prometheus's text exposition of the
/// daemon's registry, answered to every GET by a minimal HTTP/1.0 responder on a thread of its
/// own. A client that sends nothing is given up after 2 s. (The console's HTTP server is to
/// take this over.)
final class MetricsService: Service {
    let address: MetricsAddress
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let descriptor: Int32

    /// Binds at once, so that a taken port is a start-up error.
    init(address: MetricsAddress, registry: PrometheusCollectorRegistry, logger: Logger) throws {
        (self.address, self.registry, self.logger) = (address, registry, logger)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PipelineError.config("metrics socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = address.port.bigEndian
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw PipelineError.config("[metrics] listen: \(address.host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw PipelineError.config("[metrics] listen \(address.host):\(address.port): \(message)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    func run() async throws {
        logger.info("metrics on http://\(address.host):\(address.port)/metrics")
        try await withTaskCancellationOrGracefulShutdownHandler {
            _ = try await DedicatedThread.run(name: "magpie-metrics") { [self] in serve() }
        } onCancelOrGracefulShutdown: { [descriptor] in
            shutdown(descriptor, Int32(SHUT_RDWR))   // accept() returns
        }
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &request, request.count)
            var body: [UInt8] = []
            registry.emit(into: &body)
            let response = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
            _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            close(client)
        }
    }
}
