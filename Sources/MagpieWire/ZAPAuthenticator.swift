import CZeroMQ
import Foundation
import Synchronization

/// Answers ZeroMQ's authentication requests (ZAP, RFC 27) for the process's CURVE server
/// sockets: a client whose public key is in `allowed` may connect, any other handshake is
/// refused and counted. Runs on its own thread until `stop()`; create it before the server socket.
public final class ZAPAuthenticator: Sendable {
    public let allowed: Set<String>
    private let counts = Mutex((accepted: 0, refused: 0))
    private let running = Mutex(true)
    private let finished = DispatchSemaphore(value: 0)

    public var accepted: Int { counts.withLock { $0.accepted } }
    public var refused: Int { counts.withLock { $0.refused } }

    /// `refusedKey` is called (on the authenticator's thread) with each refused client's public key.
    public init(allowed: Set<String>, refusedKey: @escaping @Sendable (String, String) -> Void = { _, _ in }) throws {
        self.allowed = allowed
        guard let socket = zmq_socket(ZeroMQContext.shared, ZMQ_REP) else { throw ZeroMQError("socket ZAP") }
        guard zmq_bind(socket, "inproc://zeromq.zap.01") == 0 else {
            let error = ZeroMQError("bind", endpoint: "inproc://zeromq.zap.01")
            zmq_close(socket)
            throw error
        }
        let handler = UnsafeSendable(socket)
        let thread = Thread { [self] in
            serve(handler.value, refusedKey: refusedKey)
            zmq_close(handler.value)
            finished.signal()
        }
        thread.name = "magpie-zap"
        thread.start()
    }

    /// Stops answering (within 100 ms); later handshakes fail.
    public func stop() {
        guard running.withLock({ let was = $0; $0 = false; return was }) else { return }
        finished.wait()
    }

    private func serve(_ socket: UnsafeMutableRawPointer, refusedKey: (String, String) -> Void) {
        while running.withLock({ $0 }) {
            var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            guard zmq_poll(&item, 1, 100) > 0, let parts = ZeroMQSocket.receiveMultipart(socket, keeping: 8) else { continue }
            // version, request id, domain, address, routing id, mechanism, credentials...
            guard parts.count >= 6 else { continue }
            let address = String(decoding: parts[3], as: UTF8.self)
            var key = ""
            if String(decoding: parts[5], as: UTF8.self) == "CURVE", parts.count >= 7, parts[6].count == 32 {
                var text = [CChar](repeating: 0, count: 41)
                parts[6].withUnsafeBytes { _ = zmq_z85_encode(&text, $0.bindMemory(to: UInt8.self).baseAddress, 32) }
                key = String(cString: text)
            }
            let ok = !key.isEmpty && allowed.contains(key)
            counts.withLock { ok ? ($0.accepted += 1) : ($0.refused += 1) }
            if !ok { refusedKey(key.isEmpty ? "(no CURVE key)" : key, address) }
            let reply = [Data("1.0".utf8), parts[1], Data((ok ? "200" : "400").utf8), Data((ok ? "OK" : "public key not allowed").utf8),
                         Data((ok ? key : "").utf8), Data()]
            for (index, part) in reply.enumerated() {
                _ = part.withUnsafeBytes { zmq_send(socket, $0.baseAddress, part.count, index + 1 < reply.count ? ZMQ_SNDMORE : 0) }
            }
        }
    }
}

/// A raw pointer handed to the one thread that uses it.
private struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
