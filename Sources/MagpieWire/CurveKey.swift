import CZeroMQ
import Foundation

/// A ZeroMQ CURVE key pair, as Z85 text (40 characters each). `magpie keygen` writes NAME.key
/// (the secret key, mode 0600) and NAME.pub (the public key, to hand to the other side); the
/// daemon is the CURVE server and accepts only the public keys listed in its allowed-clients file.
public struct CurveKey: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String?

    /// A new key pair from libzmq (libsodium's random source).
    public static func generate() throws -> CurveKey {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZeroMQError("curve_keypair") }
        return CurveKey(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    public init(publicKey: String, secretKey: String?) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `text` is a Z85-encoded 32-byte key.
    public static func isKey(_ text: String) -> Bool {
        guard text.utf8.count == 40 else { return false }
        var decoded = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&decoded, text) != nil
    }

    /// The key pair of a secret key file (its first line that is not a comment).
    public static func load(secretKeyFile path: String) throws -> CurveKey {
        let secret = try firstKey(in: path, what: "secret key")
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else { throw WireError.key("\(path): not a CURVE secret key") }
        return CurveKey(publicKey: String(cString: publicKey), secretKey: secret)
    }

    /// A public key file's key.
    public static func load(publicKeyFile path: String) throws -> String { try firstKey(in: path, what: "public key") }

    /// Every key of a file of public keys, one per line (comments: lines starting with `#`, text after the key).
    public static func loadList(_ path: String) throws -> Set<String> {
        let lines = try lines(of: path)
        var keys = Set<String>()
        for (number, key) in lines.enumerated() where !key.isEmpty {
            guard isKey(key) else { throw WireError.key("\(path), line \(number + 1): not a Z85 CURVE public key (40 characters)") }
            keys.insert(key)
        }
        return keys
    }

    /// Each line's first word, "" for blank lines and comments. Z85 keys may hold `#`, so a comment
    /// is a line that starts with `#`, or whatever follows the key after whitespace.
    private static func lines(of path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw WireError.key("\(path): cannot be read") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let word = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first.map(String.init) ?? ""
            return word.hasPrefix("#") ? "" : word
        }
    }

    private static func firstKey(in path: String, what: String) throws -> String {
        guard let key = try lines(of: path).first(where: { !$0.isEmpty }), isKey(key) else {
            throw WireError.key("\(path): holds no \(what) (40 Z85 characters; magpie keygen writes one)")
        }
        return key
    }

    /// Writes NAME.key (secret, 0600) and NAME.pub; refuses to replace either.
    public func write(to base: String) throws {
        guard let secretKey else { throw WireError.key("a public key alone cannot be written as a key pair") }
        for (suffix, text, mode) in [(".key", "# magpie CURVE secret key: keep it private\n\(secretKey)\n", mode_t(0o600)),
                                     (".pub", "# magpie CURVE public key\n\(publicKey)\n", mode_t(0o644))] {
            let path = base + suffix
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard descriptor >= 0 else { throw WireError.key("\(path): \(String(cString: strerror(errno)))") }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
        }
    }
}

/// A key or authentication setting that cannot be used; the message names the file.
public enum WireError: Error, CustomStringConvertible, Equatable {
    case key(String)

    public var description: String {
        switch self {
        case let .key(message): return "CURVE: \(message)"
        }
    }
}
