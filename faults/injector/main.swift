// ranker-fault-inject: trains a run as `ranker train --config C --out DIR`
// does, with faults written into chosen steps (`InjectedFault`: a dense
// input, a task's loss or a gradient set to NaN or an infinity), so that
// `faults/nan_step.py` can check from the outside that the trainer catches
// each at its step under every stability policy. It is a separate test
// program on purpose: neither `ranker` nor a run configuration can inject a
// fault. Built with `swift build -c release --product ranker-fault-inject`
// (`make faults`, `make test`).
//
// Usage: ranker-fault-inject --config FILE --out DIR --fault SITE@STEP=VALUE [--fault …]
//   SITE: input | loss:TASK | gradient:PARAMETER; STEP counted from 0 (telemetry `step`);
//   VALUE: nan | inf | -inf | a number.
// Exit status: 0 when the run ended (completed, max_steps, early stopping),
// 2 when the stability policy stopped it (as `ranker train`), 1 on an error.
import Foundation
import Ranker

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ranker-fault-inject: \(message)\n".utf8))
    exit(1)
}

var configPath: String?
var outPath: String?
var faults: [InjectedFault] = []
// OpenBLAS's generic kernels on a CPU it does not know: run again on the fitting ones.
BLASKernelChoice.relaunchOnFittingKernels()
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--config": configPath = value
    case "--out": outPath = value
    case "--fault":
        do { faults.append(try InjectedFault(parsing: value)) } catch { fail("\(error)") }
    default: fail("unknown argument \(flag); usage: --config FILE --out DIR --fault SITE@STEP=VALUE …")
    }
}
guard let configPath, let outPath else { fail("--config and --out are required") }

/// Trains with the faults and returns the exit status. The trainer is gone
/// when this returns, so the process exits with nothing of it alive (an
/// `exit` inside its scope left it to LeakSanitizer as a leak).
func trainWithFaults(config: String, out: String, faults: [InjectedFault]) -> Int32 {
    do {
        let configuration = try RunConfiguration.load(path: config)
        let trainer = try Trainer(configuration: configuration, runDirectory: URL(fileURLWithPath: out))
        for fault in faults { try trainer.inject(fault) }
        let summary = try trainer.run()
        print("stopped: \(summary.stopReason.rawValue) after \(summary.steps) steps; events: "
              + summary.events.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return summary.stopReason == .unstable ? 2 : 0
    } catch {
        FileHandle.standardError.write(Data("ranker-fault-inject: \(error)\n".utf8))
        return 1
    }
}

exit(trainWithFaults(config: configPath, out: outPath, faults: faults))
