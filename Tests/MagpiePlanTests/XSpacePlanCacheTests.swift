import MagpieCore
import MagpieMDF
import MagpiePlan
import Testing

/// The daemon's x-space runner lives across scans: a plan is built once per scanner geometry.
@Suite struct XSpacePlanCacheTests {
    @Test func aPlanIsBuiltOncePerGeometryAndTheLeastRecentGoesFirst() throws {
        let runner = XSpaceStep.Runner()
        let oneD = MDFFile.simulated(scanner: ScannerPreset.openmpi1d.scanner, frames: 1, experiment: "e", description: "d", tracerConcentration: 0.1)
        let twoD = MDFFile.simulated(scanner: ScannerPreset.openmpi2d.scanner, frames: 1, experiment: "e", description: "d", tracerConcentration: 0.1)
        for file in [oneD, twoD, oneD, twoD, oneD] { try runner.begin(ScanDescription(metadata: file, name: "scan")) }
        #expect(runner.plansBuilt == 2)
        #expect(runner.geometry?.size == ScannerPreset.openmpi1d.scanner.imageSize)

        // Four other geometries push the 1D plan out (the 2D one was used after it, and goes too).
        for gradient in [1.1, 1.3, 1.7, 1.9] {
            var scanner = ScannerPreset.openmpi2d.scanner
            scanner.gradient = scanner.gradient.map { $0 * gradient / 2 }
            try runner.begin(ScanDescription(metadata: MDFFile.simulated(scanner: scanner, frames: 1, experiment: "e", description: "d",
                                                                        tracerConcentration: 0.1), name: "scan", recordedScanner: scanner))
        }
        #expect(runner.plansBuilt == 6)
        try runner.begin(ScanDescription(metadata: oneD, name: "scan"))
        #expect(runner.plansBuilt == 7)
    }
}
