import Foundation
import MagpieCore
import MagpieNeural
import Testing

@Suite struct ImageDeblurrerTests {
    /// On its own grid and scale the deblurrer is the network (the check data the Python exporter
    /// recorded: the Swift/Python parity test); on another grid and scale it keeps the image's shape
    /// and scales the result with the input.
    @Test(arguments: ["msa-deblur", "dcgan-deblur", "msa-deblur-openmpi2d", "dcgan-deblur-openmpi2d"])
    func resamplesAndRescalesAroundTheNetwork(name: String) throws {
        let deblurrer = try ImageDeblurrer(named: name, manifestPath: committedManifest)
        let check = try #require(try deblurrer.model.checkData())
        // The check data is a batch of images: deblurred together (one call) and one by one, each is the network's.
        let size = deblurrer.rows * deblurrer.columns
        let images = (0..<(check.input.count / size)).map { k in
            NDArray(shape: [deblurrer.rows, deblurrer.columns], storage: check.input.storage[(k * size)..<((k + 1) * size)].map(Double.init))
        }
        #expect(images.count == 2 && deblurrer.takesBatches)
        let together = try deblurrer.deblur(images)
        for (k, image) in images.enumerated() {
            let expected = check.output.storage[(k * size)..<((k + 1) * size)].map { Double(max($0, 0)) }
            #expect(zip(together[k].storage, expected).allSatisfy { abs($0 - $1) <= 1e-4 })
            #expect(zip(try deblurrer.deblur(image).storage, expected).allSatisfy { abs($0 - $1) <= 1e-4 })
        }
        let image = images[0], direct = together[0]
        let doubled = try deblurrer.deblur(image.map { $0 * 2 })
        #expect(zip(doubled.storage, direct.storage).allSatisfy { abs($0 - 2 * $1) <= 1e-6 })
        let small = try deblurrer.deblur(image.resampled(rows: 64, columns: 64).reshaped([1, 64, 64]))
        #expect(small.shape == [1, 64, 64] && small.storage.allSatisfy { $0.isFinite && $0 >= 0 })
    }

    @Test func refusesOtherKindsAndShapes() throws {
        #expect(throws: NeuralError.self) { try ImageDeblurrer(named: "score-openmpi2d", manifestPath: committedManifest) }
        let deblurrer = try ImageDeblurrer(named: "msa-deblur", manifestPath: committedManifest)
        #expect(throws: NeuralError.self) { try deblurrer.deblur(NDArray(repeating: 1, shape: [2, 8, 8])) }
        #expect(throws: NeuralError.self) { try deblurrer.deblur(NDArray(repeating: 1, shape: [64])) }
    }
}
