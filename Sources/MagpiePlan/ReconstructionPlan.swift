import Foundation
import MagpieReco
import TOMLKit

/// One reconstruction plan for `magpie reconstruct` and the daemon: the ordered steps from a
/// frame's signals to its image (background, block averaging, denoising, one reconstruction,
/// deblurring), each with its settings. The daemon reads it from its config (`[pipeline] stages`
/// and one `[stage.NAME]` table each), the command from its options or a plan file, and every
/// output file stores it (JSON, `/_magpie/reconstruction/plan`), so `magpie reconstruct
/// --plan-from FILE` runs the same plan again.
public struct ReconstructionPlan: Sendable {
    public private(set) var steps: [any PlanStep]

    /// Checks the chain: known steps, each taking what the one before gives, one reconstruction.
    public init(steps: [any PlanStep]) throws {
        self.steps = steps
        var data = StepData.signals
        var seen = Set<String>()
        for (index, step) in steps.enumerated() {
            let kind = type(of: step)
            guard seen.insert(step.name).inserted else { throw PlanError("stages: \(step.name) appears twice") }
            if kind.input != data {
                let made = steps[..<index].first { type(of: $0).output == .images }
                throw PlanError(kind.input == .images
                    ? "stages: \(step.name) works on images; put it after a reconstruction (\(ReconstructionMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
                    : "stages: \(step.name) works on signals; it must come before the reconstruction \(made?.name ?? "")")
            }
            data = kind.output
            try step.check(in: self, at: index)
        }
    }

    /// The step of type `T`, if the plan has one.
    public func step<T: PlanStep>(_ type: T.Type) -> T? { steps.lazy.compactMap { $0 as? T }.first }

    /// The reconstruction method, if the plan makes images.
    public var method: ReconstructionMethod? {
        steps.lazy.compactMap { ($0 as? any ReconstructionStep)?.method }.first
    }

    /// Every step with its defaults filled in: what a file records, so that changed defaults
    /// cannot change what `--plan-from` reproduces.
    public func resolved() throws -> ReconstructionPlan { try ReconstructionPlan(steps: steps.map { $0.resolved() }) }

    // MARK: - JSON (the provenance form)

    /// `[{"stage": "background", "mode": "preceding"}, {"stage": "xspace"}, ...]`, keys sorted.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var objects: [[String: Any]] = []
        for step in steps {
            var object = try JSONSerialization.jsonObject(with: encoder.encode(step)) as? [String: Any] ?? [:]
            object["stage"] = step.name
            objects.append(object)
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]), as: UTF8.self)
    }

    public init(json: String) throws {
        guard let objects = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw PlanError("a plan in JSON is an array of objects, each with a \"stage\"")
        }
        var steps: [any PlanStep] = []
        for var object in objects {
            guard let name = object.removeValue(forKey: "stage") as? String else { throw PlanError("a plan step without \"stage\"") }
            let type = try Self.stepType(named: name)
            try Self.checkKeys(Array(object.keys), of: type, in: name)
            steps.append(try Self.decode(type, named: name, from: JSONSerialization.data(withJSONObject: object)))
        }
        try self.init(steps: steps)
    }

    private static func decode<T: PlanStep>(_ type: T.Type, named name: String, from data: Data) throws -> any PlanStep {
        do {
            var step = try JSONDecoder().decode(T.self, from: data)
            step.named(name)
            return step
        } catch let error as DecodingError {
            throw PlanError("[stage.\(name)] \(TOMLSection.describe(error))")
        }
    }

    // MARK: - TOML (the config and plan-file form)

    /// `stages` and the `[stage.NAME]` tables (`stage` is the TOML table holding them; a stage
    /// without a table takes its defaults). `source` names the file in errors.
    public init(stages: [String], tables: TOMLTable?, source: String) throws {
        for name in tables?.keys ?? [] where !stages.contains(name) {
            throw PlanError("\(source): [stage.\(name)] is not in stages = [\(stages.map { "\"\($0)\"" }.joined(separator: ", "))]")
        }
        var steps: [any PlanStep] = []
        for name in stages {
            let type: any PlanStep.Type
            do {
                type = try Self.stepType(named: name)
            } catch let error as PlanError {
                throw PlanError("\(source): \(error.description)")
            }
            let table: TOMLTable
            if let value = tables?[name] {
                guard let inner = value.table else { throw PlanError("\(source): stage.\(name) must be a table ([stage.\(name)])") }
                table = inner
            } else {
                table = TOMLTable()
            }
            do {
                steps.append(try Self.decode(type, named: name, from: table))
            } catch let error as PlanError {
                throw PlanError("\(source): \(error.description)")
            }
        }
        do {
            try self.init(steps: steps)
        } catch let error as PlanError {
            throw PlanError("\(source): \(error.description)")
        }
    }

    /// A plan file: `stages = [...]` and `[stage.NAME]` tables at the top level.
    public init(tomlFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlanError("\(path): cannot be read") }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: String(decoding: data, as: UTF8.self))
        } catch let error as TOMLParseError {
            throw PlanError("\(path): \(error.description) at line \(error.source.begin.line)")
        }
        for key in table.keys where key != "stages" && key != "stage" {
            throw PlanError("\(path): unknown key \(key); a plan file holds stages = [...] and [stage.NAME] tables")
        }
        guard let stages = table["stages"]?.array?.compactMap({ $0.string }), stages.count == table["stages"]?.array?.count else {
            throw PlanError("\(path): stages must be a list of stage names, e.g. stages = [\"background\", \"xspace\"]")
        }
        try self.init(stages: stages, tables: table["stage"]?.table, source: path)
    }

    private static func decode<T: PlanStep>(_ type: T.Type, named name: String, from table: TOMLTable) throws -> any PlanStep {
        var step = try TOMLSection.decode(T.self, from: table, name: "[stage.\(name)]", keys: T.keys)
        step.named(name)
        return step
    }

    // MARK: - Shared

    static func stepType(named name: String) throws -> any PlanStep.Type {
        guard let type = PlanSteps.type(named: name) else {
            throw PlanError("unknown stage \"\(name)\"; known: \(PlanSteps.names.joined(separator: ", "))")
        }
        return type
    }

    static func checkKeys(_ keys: [String], of type: any PlanStep.Type, in name: String) throws {
        for key in keys.sorted() where !type.keys.contains(key) {
            throw PlanError("unknown key \(key) in [stage.\(name)]; known: \(type.keys.isEmpty ? "none" : type.keys.joined(separator: ", "))")
        }
    }
}

extension PlanStep {
    public func check(in plan: ReconstructionPlan, at index: Int) throws {}
    public func resolved() -> Self { self }
}

/// A step that reconstructs images, naming its method.
public protocol ReconstructionStep: PlanStep {
    var method: ReconstructionMethod { get }
}
