import ArgumentParser
import Foundation
import MagpieWire

/// The daemon's peer in the ingest benchmark: reads the same ZeroMQ messages and discards them.
struct ReceiveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "A minimal receiver: pull one scan's messages, discard them, report the rate.",
        discussion: """
            Binds a PULL socket, takes messages until a scan-end arrives and reports frames and
            megabytes per second from the first frame to the last. It decodes nothing but the
            header's type: the floor any receiver on this machine has to pay.

            Example:
              magpie bench receive --endpoint tcp://127.0.0.1:5700 & magpie replay m.mdf --socket push --connect --endpoint tcp://127.0.0.1:5700 --rate max
            """
    )

    @Option(help: "ZeroMQ endpoint to bind.") var endpoint = "tcp://127.0.0.1:5700"

    func run() throws {
        let socket = try ZeroMQSocket(.pull, endpoint: endpoint, bind: true, highWaterMark: 100_000)
        var frames = 0, bytes = 0
        var first: UInt64 = 0, last: UInt64 = 0
        while true {
            guard let parts = try socket.receive(timeoutMilliseconds: 60_000) else { throw ValidationError("no scan-end within 60 s") }
            let type = StreamCodec.htype(of: parts[0])
            if type == FrameHeader.htype {
                last = DispatchTime.now().uptimeNanoseconds
                if frames == 0 { first = last }
                frames += 1
                bytes += parts.dropFirst().reduce(0) { $0 + $1.count }
            } else if type == ScanEnd.htype {
                break
            }
        }
        let seconds = Double(last - first) / 1e9
        print(String(format: "minimal receiver: %d frames in %.3f s (%.0f frames/s, %.1f MB/s)", frames, seconds,
                     Double(frames - 1) / seconds, Double(bytes) / seconds / 1e6))
    }
}
