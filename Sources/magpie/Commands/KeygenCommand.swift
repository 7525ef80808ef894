import ArgumentParser
import Foundation
import MagpieWire

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair for an authenticated, encrypted stream.",
        discussion: """
            Writes NAME.key (the secret key, readable by its owner only) and NAME.pub (the public
            key). The daemon's pair goes in [input] curve_secret_key_file; each scanner's NAME.pub
            line goes in the daemon's curve_allowed_clients_file, and the daemon's .pub to the
            scanner (magpie publish --curve-server-key). Existing files are never replaced.

            Example:
              magpie keygen -o /etc/magpie/curve/daemon
              magpie keygen -o scanner1 && cat scanner1.pub >> /etc/magpie/curve/allowed_clients
            """
    )

    @Option(name: .shortAndLong, help: "Path and name of the pair, without suffix.") var output: String

    func run() throws {
        do {
            let key = try CurveKey.generate()
            try key.write(to: output)
            print("\(output).key (secret) and \(output).pub: \(key.publicKey)")
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
