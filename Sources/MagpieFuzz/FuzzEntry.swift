import Foundation
import MagpieWire

#if FUZZING
/// libFuzzer's driver (scripts/fuzz.sh builds with -sanitize=fuzzer,address -DFUZZING).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// SwiftPM links an executable's entry as `<module>_main`; here it hands over to libFuzzer.
@_cdecl("magpie_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}
#else
/// Without the fuzzer: `magpie-fuzz FILE|DIR...` replays inputs (the committed corpus is the
/// regression suite of every defect found), `magpie-fuzz --seeds DIR` writes the seed corpus.
@main
struct FuzzReplay {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--seeds", arguments.count == 2 {
            let count = try FuzzSeeds.write(to: arguments[1])
            print("wrote \(count) seeds to \(arguments[1])")
            return
        }
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: magpie-fuzz FILE|DIR ... | --seeds DIR\n".utf8))
            exit(2)
        }
        var inputs = 0
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("magpie-fuzz: \(argument): no such file or directory\n".utf8))
                exit(2)
            }
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: argument).sorted().map { (argument as NSString).appendingPathComponent($0) }
                : [argument]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                FuzzTarget.run([UInt8](data))
                inputs += 1
            }
        }
        print("magpie-fuzz: \(inputs) inputs replayed, no invariant broken")
    }
}
#endif
