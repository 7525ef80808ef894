import MagpieCore

/// Kaczmarz or CGNR chosen by name, with MagpieReco's defaults for whatever the caller leaves
/// open: what `magpie reconstruct` and the daemon both configure.
public enum SystemMatrixSolver: Sendable {
    case kaczmarz(Kaczmarz)
    /// With the Gram matrix when it is computed once for many solves.
    case cgnr(CGNR, gram: CGNR.Gram?)

    /// `method` is kaczmarz or cgnr. `residuals: false` spares Kaczmarz its extra pass over S per
    /// sweep (CGNR's come free).
    public init(_ method: ReconstructionMethod, lambda: Double? = nil, iterations: Int? = nil, residuals: Bool = true) {
        precondition(method == .kaczmarz || method == .cgnr, "\(method) is not a system-matrix solver")
        if method == .cgnr {
            var solver = CGNR()
            solver.lambda = lambda ?? solver.lambda
            solver.iterations = iterations ?? solver.iterations
            self = .cgnr(solver, gram: nil)
        } else {
            var solver = Kaczmarz(computeResiduals: residuals)
            solver.lambda = lambda ?? solver.lambda
            solver.iterations = iterations ?? solver.iterations
            self = .kaczmarz(solver)
        }
    }

    public var lambda: Double {
        switch self {
        case let .kaczmarz(solver): return solver.lambda
        case let .cgnr(solver, _): return solver.lambda
        }
    }

    public var iterations: Int {
        switch self {
        case let .kaczmarz(solver): return solver.iterations
        case let .cgnr(solver, _): return solver.iterations
        }
    }

    /// The same solver ready for many solves with `matrix` (CGNR computes its Gram matrix now).
    public func reusable(with matrix: SystemMatrix) -> SystemMatrixSolver {
        if case let .cgnr(solver, nil) = self { return .cgnr(solver, gram: CGNR.Gram(matrix)) }
        return self
    }

    public func solve(_ matrix: SystemMatrix, _ u: NDArray<Complex<Float>>) throws -> SolverResult {
        switch self {
        case let .kaczmarz(solver): return try solver.solve(matrix, u)
        case let .cgnr(solver, gram): return try solver.solve(matrix, u, gram: gram)
        }
    }
}
