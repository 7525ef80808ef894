import CZeroMQ
import Foundation
import LinuxSystem

/// A failed ZeroMQ call, with the library's message and the endpoint involved.
public struct ZeroMQError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let endpoint: String?
    public let code: Int32
    public let message: String

    init(_ operation: String, endpoint: String? = nil) {
        self.operation = operation
        self.endpoint = endpoint
        code = zmq_errno()
        message = String(cString: zmq_strerror(code))
    }

    public var description: String {
        "ZeroMQ \(operation)\(endpoint.map { " \($0)" } ?? ""): \(message)"
    }
}

/// One ZeroMQ context per process, created on first use (ZeroMQ's own advice).
enum ZeroMQContext {
    nonisolated(unsafe) static let shared: UnsafeMutableRawPointer = {
        // ZeroMQ allocates each received message afresh. By default glibc maps blocks over
        // 128 KiB anew, and later gives back free heap beyond twice the largest block freed so
        // far, so each 646 kB 3D frame faulted its pages in and zeroed them: a third of the
        // daemon's ZeroMQ thread (docs/BENCHMARKS.md). Here the heap starts where glibc's own
        // adjustment would end: blocks up to 32 MiB come from it, and up to 64 MiB of it is kept free.
        linux_keep_freed_memory(32 << 20, 64 << 20)
        return zmq_ctx_new()
    }()
}

extension ZeroMQ {
    /// Delivers what closed sockets still queue (each within its linger time), then ends
    /// ZeroMQ for this process. A sender calls it before exiting: without it, messages still
    /// queued when the process exits are lost. Close every socket first.
    public static func shutdown() {
        while zmq_ctx_term(ZeroMQContext.shared) != 0 && zmq_errno() == EINTR {}
    }
}

/// A ZeroMQ socket for magpie-stream: PUB or PUSH to send, SUB (subscribed to everything) or
/// PULL to receive, with explicit high-water marks. ZeroMQ sockets are not thread-safe: one
/// thread uses a socket at a time, which is what makes the `@unchecked Sendable` sound.
public final class ZeroMQSocket: @unchecked Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case pub, push, sub, pull

        var code: Int32 {
            switch self {
            case .pub: return ZMQ_PUB
            case .push: return ZMQ_PUSH
            case .sub: return ZMQ_SUB
            case .pull: return ZMQ_PULL
            }
        }

        public var sends: Bool { self == .pub || self == .push }
    }

    /// CURVE encryption and authentication (ZeroMQ's, RFC 26): the daemon is the server whichever
    /// side binds; a `ZAPAuthenticator` must run for the server's handshakes to be accepted.
    public enum Curve: Sendable, Equatable {
        case server(secretKey: String)
        case client(serverKey: String, key: CurveKey)
    }

    public let kind: Kind
    public let endpoint: String
    private let socket: UnsafeMutableRawPointer
    private var closed = false

    /// Opens the socket and binds (`bind: true`) or connects it. `highWaterMark` is in messages
    /// (the send queue for senders, the receive queue for receivers); `lingerMilliseconds` is how
    /// long close waits to deliver what is queued. `maximumMessageBytes` (receivers): ZeroMQ
    /// disconnects a peer that sends a larger message part, before its bytes are buffered.
    public init(_ kind: Kind, endpoint: String, bind: Bool, highWaterMark: Int32 = 1000, lingerMilliseconds: Int32 = 2000,
                maximumMessageBytes: Int? = nil, curve: Curve? = nil) throws {
        guard let socket = zmq_socket(ZeroMQContext.shared, kind.code) else { throw ZeroMQError("socket") }
        self.socket = socket
        self.kind = kind
        self.endpoint = endpoint
        do {
            try set(kind.sends ? ZMQ_SNDHWM : ZMQ_RCVHWM, highWaterMark)
            try set(ZMQ_LINGER, lingerMilliseconds)
            if let maximumMessageBytes {
                var value = Int64(maximumMessageBytes)
                guard zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
                    throw ZeroMQError("setsockopt ZMQ_MAXMSGSIZE", endpoint: endpoint)
                }
            }
            switch curve {
            case let .server(secretKey)?:
                try set(ZMQ_CURVE_SERVER, 1)
                try set(ZMQ_CURVE_SECRETKEY, text: secretKey)
                try set(ZMQ_ZAP_DOMAIN, text: "magpie")
            case let .client(serverKey, key)?:
                try set(ZMQ_CURVE_SERVERKEY, text: serverKey)
                try set(ZMQ_CURVE_PUBLICKEY, text: key.publicKey)
                try set(ZMQ_CURVE_SECRETKEY, text: key.secretKey ?? "")
            case nil:
                break
            }
            if kind == .sub {
                guard zmq_setsockopt(socket, ZMQ_SUBSCRIBE, nil, 0) == 0 else { throw ZeroMQError("subscribe", endpoint: endpoint) }
            }
            if bind {
                guard zmq_bind(socket, endpoint) == 0 else { throw ZeroMQError("bind", endpoint: endpoint) }
            } else {
                guard zmq_connect(socket, endpoint) == 0 else { throw ZeroMQError("connect", endpoint: endpoint) }
            }
        } catch {
            zmq_close(socket)
            throw error
        }
    }

    deinit { close() }

    /// Closes the socket; queued outgoing messages are still delivered within the linger time
    /// as long as the process lives (see `ZeroMQ.shutdown`).
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(socket)
    }

    private func set(_ option: Int32, text: String) throws {
        guard text.withCString({ zmq_setsockopt(socket, option, $0, strlen($0)) }) == 0 else {
            throw ZeroMQError("setsockopt \(option)", endpoint: endpoint)
        }
    }

    private func set(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZeroMQError("setsockopt \(option)", endpoint: endpoint)
        }
    }

    /// Sends one multipart message; blocks while a PUSH socket's peer is full (a PUB socket drops instead).
    public func send(_ parts: [Data]) throws {
        for (index, part) in parts.enumerated() {
            let flags = index + 1 < parts.count ? ZMQ_SNDMORE : 0
            let sent = part.withUnsafeBytes { zmq_send(socket, $0.baseAddress, part.count, flags) }
            guard sent >= 0 else { throw ZeroMQError("send", endpoint: endpoint) }
        }
    }

    /// The next multipart message, or nil when none arrives within `timeoutMilliseconds`
    /// (-1: wait for ever) or the wait was interrupted by a signal. Parts beyond
    /// `StreamLimits.maximumParts` come back empty: counted, but their bytes are not kept.
    public func receive(timeoutMilliseconds: Int32) throws -> [Data]? {
        var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let ready = zmq_poll(&item, 1, Int(timeoutMilliseconds))
        if ready < 0 {
            if zmq_errno() == EINTR { return nil }
            throw ZeroMQError("poll", endpoint: endpoint)
        }
        guard ready > 0 else { return nil }
        guard let parts = Self.receiveMultipart(socket, keeping: StreamLimits.maximumParts) else { throw ZeroMQError("receive", endpoint: endpoint) }
        return parts
    }

    /// Parts at least this long are handed on where ZeroMQ received them, not copied: the copy
    /// was 14 % of intake's own time with 646 kB 3D frames (docs/BENCHMARKS.md).
    static let sharedPartBytes = 64 << 10

    /// The parts of the message waiting on `socket`; parts beyond `keeping` come back empty
    /// (counted, their bytes not kept). Nil when receiving fails.
    static func receiveMultipart(_ socket: UnsafeMutableRawPointer, keeping: Int) -> [Data]? {
        var parts: [Data] = []
        var more = true
        while more {
            let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
            zmq_msg_init(message)
            var shared = false
            defer {
                if !shared {
                    zmq_msg_close(message)
                    message.deallocate()
                }
            }
            guard zmq_msg_recv(message, socket, 0) >= 0 else { return nil }
            let size = zmq_msg_size(message)
            if parts.count >= keeping {
                parts.append(Data())
            } else if size >= sharedPartBytes, let bytes = zmq_msg_data(message) {
                // The message lives as long as the Data (it owns ZeroMQ's buffer from here on).
                shared = true
                parts.append(Data(bytesNoCopy: bytes, count: size, deallocator: .custom { _, _ in
                    zmq_msg_close(message)
                    message.deallocate()
                }))
            } else {
                parts.append(Data(bytes: zmq_msg_data(message), count: size))
            }
            more = zmq_msg_more(message) != 0
        }
        return parts
    }
}
