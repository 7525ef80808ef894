import Foundation
import TOMLKit

/// One TOML table decoded into a `Decodable` by TOMLKit's decoder, with what TOMLKit lacks: an
/// integer given where a number is expected is taken (`lambda = 1`), keys it does not know are
/// refused (a misspelt key must not be silently ignored), and errors name the table and key.
/// The daemon's config sections and the plan's `[stage.NAME]` tables are read through it.
public enum TOMLSection {
    /// `name`: how errors name the table, e.g. "[input]" or "[stage.kaczmarz]"; `keys`: those it allows.
    public static func decode<T: Decodable>(_ type: T.Type, from table: TOMLTable, name: String, keys: [String]) throws -> T {
        for key in table.keys.sorted() where !keys.contains(key) {
            throw PlanError("unknown key \(key) in \(name); known: \(keys.isEmpty ? "none" : keys.joined(separator: ", "))")
        }
        // TOMLKit takes a double only from a TOML float: an integer given for a number is widened.
        let table = copy(table)
        for _ in 0...table.keys.count {
            do {
                return try TOMLDecoder().decode(T.self, from: table)
            } catch let DecodingError.keyNotFound(key, _) where table[key.stringValue]?.int != nil && expectedType(of: key.stringValue, in: table, T.self) == "a number" {
                table[key.stringValue] = Double(table[key.stringValue]!.int!)
            } catch let error as DecodingError {
                // TOMLKit reports a value of the wrong type as a missing key, or names its own types: probe for what the key takes.
                if case .dataCorrupted = error {} else if let key = Self.key(of: error), table[key] != nil,
                                                          let expected = expectedType(of: key, in: table, T.self) {
                    throw PlanError("\(name) \(key) must be \(expected)")
                }
                throw PlanError("\(name) \(describe(error))")
            }
        }
        throw PlanError("\(name) cannot be read")
    }

    /// A table of the same keys and values (TOMLTable is a class: changing one given would change the caller's).
    private static func copy(_ table: TOMLTable) -> TOMLTable {
        TOMLTable(Dictionary(uniqueKeysWithValues: table.keys.map { ($0, table[$0]!) }))
    }

    /// The key a decoding error is about.
    private static func key(of error: DecodingError) -> String? {
        switch error {
        case let .keyNotFound(key, _): return key.stringValue
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): return context.codingPath.last?.stringValue
        @unknown default: return nil
        }
    }

    /// What `key` takes, found by decoding with a value of each kind in its place.
    private static func expectedType<T: Decodable>(of key: String, in table: TOMLTable, _ type: T.Type) -> String? {
        let candidates: [(any TOMLValueConvertible, String)] = [("", "a string"), (0, "an integer"), (0.5, "a number"), (false, "true or false"),
                                                               (TOMLArray(["x"]), "a list of strings")]
        for (value, words) in candidates {
            let probe = copy(table)
            probe[key] = value
            do {
                _ = try TOMLDecoder().decode(T.self, from: probe)
                return words
            } catch {
                if let failed = (error as? DecodingError).flatMap(Self.key(of:)), failed == key { continue }
                return words   // it failed elsewhere: this key took the value
            }
        }
        return nil
    }

    /// A decoding error in words: which key, what it must be.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String { context.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case let .typeMismatch(type, context): return "\(path(context)) must be \(describeType(type))"
        case let .keyNotFound(key, context): return "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing or of the wrong type"
        case let .valueNotFound(type, context): return "\(path(context)) must be \(describeType(type))"
        case let .dataCorrupted(context): return context.codingPath.isEmpty ? context.debugDescription : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func describeType(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "a number"
        case is Int.Type, is UInt64.Type, is Int64.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        default: return "\(type)"
        }
    }
}
