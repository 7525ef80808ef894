import Foundation
import MagpiePipeline
import MagpiePlan
import MagpieWire
import Testing

@Suite struct DaemonConfigTests {
    @Test func twoKeysAreEnough() throws {
        let config = try DaemonConfig.parse("[input]\nendpoint = \"tcp://10.0.0.2:5555\"\n[output]\ndirectory = \"/var/lib/magpie\"\n")
        #expect(config.endpoint == "tcp://10.0.0.2:5555")
        #expect(config.socket == .sub && !config.bind && config.models == "models/manifest.json")
        #expect(config.plan.steps.map(\.name) == ["background", "xspace"] && config.plan.step(BackgroundStep.self)?.mode == .preceding)
        #expect(config.previewPath == "/var/lib/magpie/latest.png")
        #expect(config.consoleListen == "127.0.0.1:9464" && config.consoleTokenFile == nil && config.consoleUpdateRate == 10)
        #expect(config.catchUpSeconds == 30)
    }

    @Test func catchUpTakesSecondsOrOff() throws {
        let base = "[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\n"
        #expect(try DaemonConfig.parse(base + "catch_up_seconds = \"off\"").catchUpSeconds == nil)
        #expect(try DaemonConfig.parse(base + "catch_up_seconds = 5").catchUpSeconds == 5)
        #expect(try DaemonConfig.parse(base + "catch_up_seconds = 2.5").catchUpSeconds == 2.5)
        for (value, words) in [("\"never\"", "must be a number of seconds or \"off\""), ("0", "catch_up_seconds = 0.0 is out of range")] {
            let error = try #require(throws: PipelineError.self) { try DaemonConfig.parse(base + "catch_up_seconds = \(value)") }
            #expect("\(error)".contains(words), "\(error)")
        }
    }

    @Test func torchThreadsLeaveIntakeACore() throws {
        let base = "[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\n"
        #expect(try DaemonConfig.parse(base).torchThreads == max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
        #expect(try DaemonConfig.parse(base + "torch_threads = 3").torchThreads == 3)
        let error = try #require(throws: PipelineError.self) { try DaemonConfig.parse(base + "torch_threads = 0") }
        #expect("\(error)".contains("torch_threads"), "\(error)")
        let reloaded = try DaemonConfig.parse(base + "torch_threads = 2")
        #expect(reloaded.restartOnlyChanges(from: try DaemonConfig.parse(base + "torch_threads = 1")) == ["[pipeline] torch_threads"])
    }

    @Test func everyKey() throws {
        let config = try DaemonConfig.parse("""
            [input]
            endpoint = "tcp://127.0.0.1:5556"
            socket = "pull"
            bind = true
            high_water_mark = 5000
            scan_timeout = 2.5
            max_message_bytes = 2000000
            curve_secret_key_file = "daemon.key"
            curve_allowed_clients_file = "allowed"
            [output]
            directory = "out"
            preview = ""
            durability = "interval"
            fsync_interval_ms = 50
            min_free_bytes = 1000
            keep_days = 30
            keep_bytes = 1000000
            [pipeline]
            background = "off"
            denoise = "ssd"
            denoise_model = "denoiser-lab"
            models = "/opt/magpie/models/manifest.json"
            reconstruct = "kaczmarz"
            system_matrix = "sm.mdf"
            lambda = 0.05
            iterations = 2
            queue = 8
            [console]
            listen = ""
            """)
        let console = try DaemonConfig.parse("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\nlisten = \"0.0.0.0:80\"\ntoken_file = \"t\"\nupdate_rate = 4\n")
        #expect(console.consoleListen == "0.0.0.0:80" && console.consoleTokenFile == "t" && console.consoleUpdateRate == 4 && console.notes.isEmpty)
        let old = try DaemonConfig.parse("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[metrics]\nlisten = \"127.0.0.1:9000\"\n")
        #expect(old.consoleListen == "127.0.0.1:9000" && old.notes.count == 1 && old.notes[0].contains("new name"))
        let deblur = try DaemonConfig.parse("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\ndeblur = \"msa\"\ndeblur_model = \"msa-lab\"\n")
        #expect(deblur.plan.step(DeblurStep.self)?.method == .msa && deblur.plan.step(DeblurStep.self)?.model == "msa-lab")
        let dcgan = try DaemonConfig.parse("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\ndeblur = \"dcgan\"\n")
        #expect(dcgan.plan.step(DeblurStep.self)?.resolved().model == "dcgan-deblur-openmpi2d")
        #expect(config.socket == .pull && config.bind && config.highWaterMark == 5000)
        #expect(config.previewPath == nil && config.plan.step(BackgroundStep.self) == nil)
        #expect(config.plan.steps.map(\.name) == ["denoise", "kaczmarz"] && config.plan.step(DenoiseStep.self)?.model == "denoiser-lab")
        let solver = try #require(config.plan.step(SystemMatrixStep.self))
        #expect(solver.matrix.systemMatrices == ["sm.mdf"] && solver.lambda == 0.05 && solver.iterations == 2)
        #expect(config.queueLength == 8 && config.consoleListen.isEmpty)
        #expect(config.scanTimeout == 2.5 && config.maximumMessageBytes == 2_000_000)
        #expect(config.curveSecretKeyFile == "daemon.key" && config.curveAllowedClientsFile == "allowed")
        #expect(config.durability == .interval(milliseconds: 50) && config.minFreeBytes == 1000 && config.keepDays == 30 && config.keepBytes == 1_000_000)
        let frame = try DaemonConfig.parse("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\ndurability = \"frame\"\n")
        #expect(frame.durability == .frame)
        #expect(config.models == "/opt/magpie/models/manifest.json")
    }

    @Test(arguments: [
        ("[output]\ndirectory = \"d\"", "[input] endpoint is required"),
        ("[input]\nendpoint = \"e\"", "[output] directory is required"),
        ("[input]\nendpoint = 5\n[output]\ndirectory = \"d\"", "[input] endpoint must be a string"),
        ("[input]\nendpoint = \"e\"\nsocket = \"pub\"\n[output]\ndirectory = \"d\"", "socket must be \"sub\" or \"pull\""),
        ("[input]\nendpoint = \"e\"\nendpiont = \"x\"\n[output]\ndirectory = \"d\"", "unknown key endpiont in [input]"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[extra]\n", "unknown section [extra]"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nreconstruct = \"cgnr\"", "needs system_matrix"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nqueue = 0", "queue = 0 is out of range; allowed: 1 to 1000000"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nlambda = inf", "lambda = inf is out of range; allowed: a finite number from 0.0"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nlambda = nan", "lambda = nan is out of range"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\niterations = 1000000000", "iterations = 1000000000 is out of range; allowed: 1 to 100000"),
        ("[input]\nendpoint = \"e\"\nscan_timeout = 0\n[output]\ndirectory = \"d\"", "scan_timeout = 0.0 is out of range"),
        ("[input]\nendpoint = \"e\"\nmax_message_bytes = 10\n[output]\ndirectory = \"d\"", "max_message_bytes = 10 is out of range; allowed: 1048576 to 268435456"),
        ("[input]\nendpoint = \"e\"\nhigh_water_mark = 99999999999\n[output]\ndirectory = \"d\"", "high_water_mark = 99999999999 is out of range"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\ndenoise = \"n2n\"", "denoise must be \"signal-denoiser\" or \"off\""),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\nlisten = \"9464\"", "listen must be host:port"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[metrics]\nlisten = \"9464\"", "listen must be host:port"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\nlisten = \"0.0.0.0:9464\"", "set [console] token_file"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\nlisten = \"127.0.0.1:1\"\n[metrics]\nlisten = \"127.0.0.1:2\"", "give only [console] listen"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\nupdate_rate = 1000", "update_rate = 1000.0 is out of range"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[console]\ntoken = \"x\"", "unknown key token in [console]"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\ndeblur = \"gan\"", "deblur must be one of \"off\", \"msa\", \"dcgan\", \"wiener\", \"rl\""),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\ndeblur = \"rl\"\nreconstruct = \"off\"", "needs reconstruct = \"xspace\""),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = [\"background\", \"xspase\"]", "unknown stage \"xspase\"; known: background"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = [\"xspace\", \"denoise\"]", "denoise works on signals; it must come before the reconstruction"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = [\"kaczmarz\"]\n[stage.kaczmarz]\nsystem_matrix = \"a\"\nlamda = 1", "unknown key lamda in [stage.kaczmarz]"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = [\"xspace\"]\nreconstruct = \"xspace\"", "do not mix"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = \"xspace\"", "stages must be a list"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\n[pipeline]\nstages = [\"background\", \"xspace\"]\n[stage.background]\nmode = \"interpolated\"", "a live scan uses \"preceding\""),
        ("[input\nendpoint = \"e\"", "line 1"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\ndurability = \"never\"", "durability must be \"os\", \"interval\" or \"frame\""),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\ndurability = \"os\"\nfsync_interval_ms = 5", "fsync_interval_ms applies only"),
        ("[input]\nendpoint = \"e\"\n[output]\ndirectory = \"d\"\nkeep_days = 0", "keep_days = 0.0 is out of range"),
        ("[input]\nendpoint = \"e\"\ncurve_secret_key_file = \"k\"\n[output]\ndirectory = \"d\"", "go together"),
    ])
    func badFilesNameTheKey(text: String, words: String) {
        do {
            _ = try DaemonConfig.parse(text, source: "magpie.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(words), "\(error)")
            #expect("\(error)".contains("magpie.toml"))
        }
    }
}

@Suite struct ExampleConfigTests {
    @Test func theShippedExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try DaemonConfig.load(root.appendingPathComponent("systemd/magpie.toml").path)
        #expect(config.directory == "/var/lib/magpie" && config.socket == .sub && config.plan.method == .xspace)
        #expect(config.plan.steps.map(\.name) == ["background", "xspace"])
    }

    /// Every stage and every key of its table is documented in the example.
    @Test func theExampleDocumentsEveryStageKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOfFile: root.appendingPathComponent("systemd/magpie.toml").path, encoding: .utf8)
        for name in PlanSteps.builtIn.flatMap({ $0.names }) where name != "xspace" {   // not the steps tests register
            #expect(text.contains("[stage.\(name)]"), "[stage.\(name)] is not in systemd/magpie.toml")
        }
        for key in ["mode", "frames", "model", "system_matrix", "lambda", "iterations", "snr_threshold", "min_frequency", "max_frequency",
                    "channels", "seed", "method", "allow_other_scanner"] {
            #expect(text.contains("\(key) = "), "\(key) is not documented in systemd/magpie.toml")
        }
    }
}
