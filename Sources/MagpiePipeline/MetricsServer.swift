import Foundation

/// The counters as Prometheus text on a local HTTP port: a minimal HTTP/1.0 responder on its own
/// thread, answering every GET with the current counters (it serves nothing else).
public final class MetricsServer: @unchecked Sendable {  // the listening socket is used by its own thread only
    private let descriptor: Int32
    public let address: MetricsAddress

    public init(address: MetricsAddress, counters: Counters) throws {
        self.address = address
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
        let thread = Thread { [fd] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if errno == EINTR { continue } else { return } }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                let body = Self.text(counters.total, freeBytes: counters.outputFreeBytes)
                let response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                _ = response.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
        thread.name = "magpie-metrics"
        thread.start()
    }

    deinit { close(descriptor) }

    /// The Prometheus text exposition of `values`.
    public static func text(_ values: Counters.Values, freeBytes: Int64? = nil) -> String {
        zip(Counters.Values.metricNames, values.all).map { metric, value in "# TYPE \(metric) counter\n\(metric) \(value)\n" }.joined() + (freeBytes.map { "# TYPE magpie_output_free_bytes gauge\nmagpie_output_free_bytes \($0)\n" } ?? "")
    }
}
