import Foundation
import MagpieCore
import Testing

@Suite struct ScannerFingerprintTests {
    @Test func aScannerMatchesItselfThroughJSONAndFloatNoise() throws {
        let scanner = ScannerPreset.openmpi2d.scanner
        for aspect in [ScannerFingerprint.Aspect.signals, .images] {
            let print = ScannerFingerprint(scanner, aspect: aspect)
            let decoded = try JSONDecoder().decode(ScannerFingerprint.self, from: JSONEncoder().encode(print))
            #expect(decoded == print)
            var nudged = scanner
            nudged.drive[0].amplitude *= 1 + 1e-7  // as a Float32 round trip leaves it
            #expect(print.differences(ScannerFingerprint(nudged, aspect: aspect)).isEmpty)
        }
    }

    @Test func eachAspectNamesWhatDiffersAndIgnoresWhatItsInputDoesNotSee() {
        let base = ScannerPreset.openmpi2d.scanner
        let images = ScannerFingerprint(base, aspect: .images), signals = ScannerFingerprint(base, aspect: .signals)

        var steeper = base
        steeper.gradient = [-2, -2, 4]
        #expect(images.differences(ScannerFingerprint(steeper, aspect: .images)) == [
            "gradient 2, 2 T/m, the model's 1, 1 T/m", "field of view 12, 12 mm, the model's 24, 24 mm"])
        #expect(signals.differences(ScannerFingerprint(steeper, aspect: .signals)) == ["gradient -2, -2 T/m, the model's -1, -1 T/m"])

        // Images see neither the drive frequencies nor the gradient's sign; signals see no image grid.
        var other = base
        other.drive[1].divider = 98
        other.gradient = [1, 1, -2]
        #expect(images.differences(ScannerFingerprint(other, aspect: .images)).isEmpty)
        #expect(signals.differences(ScannerFingerprint(other, aspect: .signals)).count == 2)
        var grid = base
        grid.imageSize = [48, 48, 1]
        #expect(images.differences(ScannerFingerprint(grid, aspect: .images)) == ["image grid 48 x 48 x 1, the model's 64 x 64 x 1"])
        #expect(signals.differences(ScannerFingerprint(grid, aspect: .signals)).isEmpty)

        // A drive channel that is off is not there; the 3-channel file of the same sequence matches.
        #expect(images.differences(ScannerFingerprint(ScannerPreset.openmpi2d3ch.scanner, aspect: .images)).isEmpty)
        #expect(signals.differences(ScannerFingerprint(ScannerPreset.openmpi2d3ch.scanner, aspect: .signals)) == ["receive axes 0, 1, 2, the model's 0, 1"])

        // Other drive channels: the axes say it, without per-channel values that cannot be compared.
        #expect(signals.differences(ScannerFingerprint(ScannerPreset.openmpi1d.scanner, aspect: .signals)) == [
            "drive axes 0, the model's 0, 1", "samples per period 102, the model's 1632", "receive axes 0, the model's 0, 1"])

        var particle = base
        particle.particle.coreDiameter = 30e-9
        #expect(images.differences(ScannerFingerprint(particle, aspect: .images)) == ["particle core diameter 30 nm, the model's 25 nm"])
    }
}
