import Foundation
import MagpiePipeline
import MagpieWire
import Testing

@Suite struct MetadataRepairTests {
    @Test func cosmeticMetadataFaultsAreRepairedAndListed() {
        var metadata = StreamMessages.metadata
        metadata.study.uuid = "x"
        metadata.scanner.operator = " "
        metadata.tracer?.volume = []
        let (repaired, repairs) = MetadataRepair.repair(metadata)
        #expect(repairs.map(\.field) == ["/study/uuid", "/scanner/operator", "/tracer"])
        #expect(UUID(uuidString: repaired.study.uuid) != nil && repairs[0].original == "x")
        #expect(repaired.scanner.operator == MetadataRepair.placeholder && repaired.tracer == nil)
        #expect(MetadataRepair.repair(repaired).1.isEmpty)
    }
}
