import MagpieCore
import Testing

@Suite struct LeastCommonMultipleTests {
    @Test func overflowAndNonPositiveValuesGiveNil() {
        #expect(leastCommonMultiple([102, 96, 99]) == 53_856)
        #expect(leastCommonMultiple([Int64]()) == 1)
        #expect(leastCommonMultiple([Int64(1) << 40 - 1, Int64(1) << 40 - 3]) == nil)
        #expect(leastCommonMultiple([4, 0]) == nil)
        #expect(leastCommonMultiple([Int64.max, 2]) == nil)
    }
}
