import Foundation
@testable import MagpieWire
import Testing

@Suite struct ZeroMQSocketTests {
    @Test func pushPullCarriesEveryMessageInOrder() throws {
        let endpoint = "inproc://push-pull-\(UUID().uuidString)"
        let sender = try ZeroMQSocket(.push, endpoint: endpoint, bind: true)
        let receiver = try ZeroMQSocket(.pull, endpoint: endpoint, bind: false)
        for sequence in 0..<50 { try sender.send(StreamCodec.encode(StreamCodecTests.frame(sequence: UInt64(sequence)))) }
        for sequence in 0..<50 {
            let parts = try #require(try receiver.receive(timeoutMilliseconds: 2000))
            guard case let .frame(header, payload) = try StreamCodec.decode(parts) else { Issue.record("not a frame"); return }
            #expect(header.sequence == UInt64(sequence))
            #expect(payload.count == 16)
        }
        #expect(try receiver.receive(timeoutMilliseconds: 10) == nil)
    }

    /// Large parts are handed on in ZeroMQ's own buffer: they keep their bytes after the socket,
    /// and later messages, are gone; small ones are copied. Sizes around the threshold, over TCP.
    @Test func largePartsOutliveTheSocketThatReceivedThem() throws {
        let endpoint = "tcp://127.0.0.1:\(Int.random(in: 30000...40000))"
        let sizes = [0, 1, 33, ZeroMQSocket.sharedPartBytes - 1, ZeroMQSocket.sharedPartBytes, 646_000, 3 << 20]
        let messages = sizes.map { size in [Data("head \(size)".utf8), Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ size) })] }
        var received: [[Data]] = []
        do {
            let receiver = try ZeroMQSocket(.pull, endpoint: endpoint, bind: true)
            let sender = try ZeroMQSocket(.push, endpoint: endpoint, bind: false)
            for message in messages { try sender.send(message) }
            for _ in messages { received.append(try #require(try receiver.receive(timeoutMilliseconds: 5000))) }
        }
        var churn: [Data] = []   // reuse of freed memory would show in the received parts
        for size in sizes { churn.append(Data(repeating: 0xAB, count: size)) }
        #expect(received == messages)
        #expect(churn.count == sizes.count)
    }

    @Test func subscriberGetsWhatIsPublishedAfterItJoined() throws {
        let endpoint = "tcp://127.0.0.1:\(Int.random(in: 30000...40000))"
        let publisher = try ZeroMQSocket(.pub, endpoint: endpoint, bind: true)
        let subscriber = try ZeroMQSocket(.sub, endpoint: endpoint, bind: false)
        // PUB drops what it sends before the subscription arrives; keep sending until one lands.
        var received: [Data]?
        for _ in 0..<100 where received == nil {
            try publisher.send(StreamCodec.encode(.scanStart(StreamCodecTests.start)))
            received = try subscriber.receive(timeoutMilliseconds: 20)
        }
        let parts = try #require(received)
        #expect(try StreamCodec.decode(parts) == .scanStart(StreamCodecTests.start))
    }

    @Test func bindErrorsNameTheEndpoint() throws {
        let endpoint = "inproc://twice-\(UUID().uuidString)"
        let first = try ZeroMQSocket(.pub, endpoint: endpoint, bind: true)
        #expect(throws: ZeroMQError.self) { try ZeroMQSocket(.pub, endpoint: endpoint, bind: true) }
        do {
            _ = try ZeroMQSocket(.pull, endpoint: "nonsense://x", bind: false)
        } catch let error as ZeroMQError {
            #expect(error.description.contains("nonsense://x"))
        }
        _ = first
    }
}
