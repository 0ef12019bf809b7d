import ArgumentParser
import Foundation
import MallocInterposerSwift
import Ranker
import RankerDistributed
import RankerExperiments

/// `ranker bench`: the machine's SGEMM peak and training throughput of the
/// fixed workloads W1–W3, measured in one run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure SGEMM peak and training throughput (W1, W2, W3) in one run.",
        discussion: """
            Measures, in this order: the SGEMM peak of the linked BLAS (square sizes 512, 1024, 2048, \
            best of 5 repeats) with 1 thread and with --threads; then each workload's training \
            throughput (forward + backward + Adagrad update on in-memory batches, after warm-up) \
            with 1 thread and with --threads. Each workload runs in a child process of this \
            command, so its peak resident memory and its heap allocations per step (counted by \
            an interposed malloc) are its own. Training GFLOP/s are counted from the layer \
            shapes (6·B·Σ in·out per step) and reported as a fraction of the SGEMM peak measured \
            at the same thread count.

            With --ranks N it also measures each workload data parallel: N processes under mpirun, \
            1 OpenBLAS thread each, every rank training its slice of each batch and the gradients \
            summed over the ranks as `ranker train --ranks N` does (the batch size stays the \
            workload's). It runs 1 rank with N threads as well, and prints the speed-up over \
            1 rank × 1 thread, the scaling efficiency (speed-up / N), the speed-up over 1 rank × \
            N threads, and rank 0's time and bytes per step in each kind of collective.

            With --balancers it measures instead the cost of gradient combination: W2 (MMoE 8 experts \
            [256, 128], batch 1024, Adagrad lr 0.05) with T tasks (--balancer-tasks, default 2 and 6), \
            trained with Fixed weights, GradCraft and PCGrad (library defaults) in interleaved blocks \
            (--repeats blocks of a few steps per method, order rotated), in this process with --threads \
            OpenBLAS threads. It prints the median ms/step per method, its ratio to Fixed, the time per \
            phase (forward, losses, backward — one weighted pass or the multi-gradient pass over T·B \
            stacked rows —, combination, update) and the combination's parts (Gram matrix, T × T \
            projection, writing the combined gradient).
            """
    )

    @Option(help: "OpenBLAS threads for the multi-threaded measurements (1 measures single-threaded only).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Also measure N ranks × 1 thread (data parallel, under mpirun) beside 1 rank × 1 "
                               + "and × N threads, with the scaling efficiency.", valueName: "N"))
    var ranks: Int = 1

    @Option(help: "Comma-separated workloads to run (W1, W2, W3).")
    var workloads: String = "W1,W2,W3"

    @Flag(help: "Print one JSON object with every result as the last line.")
    var json = false

    @Flag(help: "Shorter measurements (for a smoke test; numbers are noisier).")
    var quick = false

    @Option(help: ArgumentHelp(
        "Python with torch: also run the PyTorch reference (torch_mmoe.py) on each workload, 1 thread, side by side.",
        valueName: "python"))
    var torchPython: String?

    @Option(help: "The PyTorch reference script (default: ../shared/bench/torch_mmoe.py beside the repository).")
    var torchScript: String?

    @Flag(help: "Measure the step-time cost of GradCraft and PCGrad against Fixed weights instead (see the discussion).")
    var balancers = false

    @Option(help: "With --balancers: comma-separated task counts (each at least 2).")
    var balancerTasks: String = "2,6"

    @Option(help: "With --balancers: interleaved blocks per method.")
    var repeats: Int = 5

    @Option(help: .hidden)
    var worker: String?

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if ranks < 1 { throw ValidationError("--ranks must be at least 1, got \(ranks)") }
        if balancers {
            if ranks > 1 { throw ValidationError("--ranks applies to the workload throughput, not to --balancers") }
            if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
            guard let counts = balancerTaskCounts, !counts.isEmpty, counts.allSatisfy({ $0 >= 2 && $0 <= 32 }) else {
                throw ValidationError("--balancer-tasks must be comma-separated task counts from 2 to 32, got '\(balancerTasks)'")
            }
            return
        }
        for name in selectedNames where !BenchmarkWorkload.standard.contains(where: { $0.name == name }) {
            throw ValidationError("unknown workload '\(name)'; known: W1, W2, W3")
        }
    }

    var balancerTaskCounts: [Int]? {
        let parts = balancerTasks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.map { $0! }
    }

    var selectedNames: [String] {
        workloads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
    }

    func workload(_ name: String) -> BenchmarkWorkload {
        var w = BenchmarkWorkload.standard.first { $0.name == name }!
        if quick {
            w.minimumSteps = max(3, w.minimumSteps / 10)
            w.minimumSeconds = 0.3
            w.warmupSteps = min(w.warmupSteps, 2)
        }
        return w
    }

    func run() throws {
        if let name = worker {
            // Child: one workload, one JSON line on stdout (rank 0's, under mpirun).
            let communicator = try Communicator.launchedByMPIRun ? Communicator.world() : nil
            do {
                let result = try ThroughputBenchmark.run(workload(name), threads: threads, group: communicator,
                                                         allocationCounter: InterposedAllocationCounter())
                if (communicator?.rank ?? 0) == 0 {
                    print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
                }
            } catch let error where (communicator?.size ?? 1) > 1 {
                // The other ranks may wait in a collective: stop the whole job.
                FileHandle.standardError.write(Data("rank \(communicator!.rank): error: \(error)\n".utf8))
                communicator!.abort(code: 1)
            }
            try communicator?.finalize()
            return
        }
        if balancers {
            try runBalancerCost()
            return
        }
        let threadCounts = Set([1, threads, ranks]).sorted()
        print("Ranker \(RankerVersion.string) bench — OpenBLAS \(BLAS.coreName) kernels, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("BLAS: \(BLAS.configuration)")
        var peaks: [Int: Double] = [:]
        var measurements: [GEMMMeasurement] = []
        for t in threadCounts {
            let m = GEMMPeak.measure(threads: t, repeats: quick ? 2 : 5, secondsPerRepeat: quick ? 0.1 : 0.25)
            measurements += m
            peaks[t] = m.map(\.gflops).max()!
            print("SGEMM \(t) thread\(t == 1 ? " " : "s"): " + m.map { "n=\($0.size) \(format($0.gflops, 1)) GFLOP/s" }.joined(separator: ", ")
                  + "  → peak \(format(peaks[t]!, 1))")
        }
        var results: [WorkloadResult] = []
        for name in selectedNames {
            for t in threadCounts {
                results.append(try runChild(name, threads: t))
            }
            if ranks > 1 { results.append(try runChild(name, threads: 1, ranks: ranks)) }
        }
        var torch: [String: Double] = [:]
        if let python = torchPython {
            for name in selectedNames {
                if let rate = try runTorch(name, python: python) { torch[name] = rate }
            }
        }
        print("")
        // N ranks × 1 thread against the SGEMM peak of N threads (as many cores).
        func peak(_ r: WorkloadResult) -> Double { peaks[r.threads * r.ranks] ?? peaks[r.threads]! * Double(r.ranks) }
        print(row(["workload", "ranks", "threads", "samples/s", "ms/step", "GFLOP/s", "of peak", "max RSS MiB",
                   "allocs/step"]))
        for r in results {
            print(row([r.name, "\(r.ranks)", "\(r.threads)", format(r.samplesPerSecond, 0), format(r.msPerStep, 2),
                       format(r.trainGFLOPS, 1), format(r.trainGFLOPS / peak(r), 3),
                       format(r.maxRSSMiB, 0), r.allocationsPerStep.map { format($0, 1) } ?? "n/a"]))
        }
        if !torch.isEmpty {
            print("")
            print(row(["workload", "Ranker 1t", "PyTorch 1t", "ratio"]))
            for name in selectedNames {
                guard let t = torch[name],
                      let r = results.first(where: { $0.name == name && $0.threads == 1 && $0.ranks == 1 }) else { continue }
                print(row([name, format(r.samplesPerSecond, 0), format(t, 0), format(r.samplesPerSecond / t, 2) + "x"]))
            }
        }
        print("")
        print("Step breakdown (ms): " + results.map { r in
            "\(r.name)/\(r.ranks > 1 ? "\(r.ranks)r×" : "")\(r.threads)t " + ["forward", "losses", "backward", "update"]
                .map { "\($0) \(format(r.phaseMilliseconds[$0] ?? 0, 2))" }.joined(separator: " ")
        }.joined(separator: "; "))
        if ranks > 1 { printScaling(results) }
        if json {
            let configured = results.filter { $0.threads == threads && $0.ranks == 1 }
            let single = results.filter { $0.threads == 1 && $0.ranks == 1 }
            func entry(_ r: WorkloadResult) -> [String: Any] {
                [
                    "name": r.name, "ranks": r.ranks, "threads": r.threads, "batch": r.batchSize,
                    "samples_per_s": round1(r.samplesPerSecond), "ms_per_step": round3(r.msPerStep),
                    "train_gflops": round1(r.trainGFLOPS), "fraction_of_peak": round3(r.trainGFLOPS / peak(r)),
                    "max_rss_mb": round1(r.maxRSSMiB),
                    "allocs_per_step": r.allocationsPerStep.map { round3($0) as Any } ?? NSNull(),
                    "phase_ms": r.phaseMilliseconds.mapValues(round3),
                ]
            }
            var object: [String: Any] = [
                "sgemm_peak_gflops": round1(peaks[threads]!),
                "sgemm_peak_gflops_single_thread": round1(peaks[1]!),
                "threads": threads,
                "sgemm": measurements.map { ["size": $0.size, "threads": $0.threads, "gflops": round1($0.gflops)] },
                "workloads": configured.map(entry),
                "workloads_single_thread": single.map(entry),
                "pytorch_single_thread_samples_per_s": torch.mapValues(round1),
            ]
            if ranks > 1 {
                object["ranks"] = ranks
                object["workloads_ranks"] = results.filter { $0.ranks > 1 }.map { r in
                    entry(r).merging(scalingJSON(r, among: results)) { $1 }
                }
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// `--balancers`: the cost of gradient combination (`BalancerCostBenchmark`).
    func runBalancerCost() throws {
        var options = BalancerCostBenchmark.Options(taskCounts: balancerTaskCounts ?? [2, 6], threads: threads,
                                                    repeats: repeats)
        if quick {
            options.stepsPerRepeat = 2
            options.warmupSteps = 1
            options.breakdownRepeats = 2
        }
        print("Ranker \(RankerVersion.string) bench --balancers — OpenBLAS \(BLAS.coreName) kernels, \(threads) thread\(threads == 1 ? "" : "s"), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("W2: MMoE 8 experts [256, 128], towers [64], 26 sparse × 16 + 13 dense, batch 1024, Adagrad lr 0.05; "
              + "\(options.repeats) interleaved blocks of \(options.stepsPerRepeat) steps per method")
        let report = try BalancerCostBenchmark.run(options) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let phases = TrainingStepPhaseTimes.Phase.allCases.map(\.rawValue)
        print("")
        print(costRow(["T", "method", "ms/step", "× Fixed", "d shared", "bwd rows"] + phases))
        for r in report.results {
            print(costRow(["\(r.taskCount)", r.method.rawValue, format(r.msPerStep, 1), r.ratioToFixed.map { format($0, 2) } ?? "n/a",
                           "\(r.sharedGradientCount)", "\(r.backwardRows)"]
                          + phases.map { format(r.phaseMilliseconds[$0] ?? 0, 1) }))
        }
        print("")
        print("Combination parts (median ms per call): " + report.results.compactMap { r in
            r.combination.map { c in
                "T=\(r.taskCount) \(r.method.rawValue): Gram \(format(c.gramMilliseconds, 2)), projection "
                    + "\(format(c.projectionMilliseconds, 3)), mixing \(format(c.mixingMilliseconds, 2))"
            }
        }.joined(separator: "; "))
        print("Blocks (ms/step, run order): " + report.results.map { r in
            "T=\(r.taskCount) \(r.method.rawValue) " + r.blockMsPerStep.map { format($0, 1) }.joined(separator: " ")
        }.joined(separator: "; "))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }

    /// Runs one workload in a child process of this executable.
    /// With `ranks > 1`, under `mpirun -np ranks` (`MPIRelaunch`'s flags); rank 0 prints the result.
    func runChild(_ name: String, threads: Int, ranks: Int = 1) throws -> WorkloadResult {
        let process = Process()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let arguments = ["bench", "--worker", name, "--threads", "\(threads)"] + (quick ? ["--quick"] : [])
        if ranks > 1 {
            guard let mpirun = MPIRelaunch.findInPath("mpirun") else {
                throw ValidationError("--ranks \(ranks) needs mpirun (Open MPI) on the PATH; `make deps` installs it")
            }
            process.executableURL = URL(fileURLWithPath: mpirun)
            process.arguments = MPIRelaunch.mpirunArguments(ranks: ranks, executable: executable.path, arguments: arguments)
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "\(threads)"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else {
            throw ValidationError("bench worker for \(name) (\(ranks) rank\(ranks == 1 ? "" : "s")) failed "
                                  + "(status \(process.terminationStatus))")
        }
        return try JSONDecoder().decode(WorkloadResult.self, from: Data(line.utf8))
    }
}

extension BenchCommand {
    /// Runs the PyTorch reference for a workload (same shapes, Adagrad, 1 thread)
    /// and returns its samples/s, or nil (with a message) when it cannot run.
    func runTorch(_ name: String, python: String) throws -> Double? {
        let w = workload(name)
        let script = torchScript ?? DataLocation.repositoryRoot(from: FileManager.default.currentDirectoryPath)
            .map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("shared/bench/torch_mmoe.py").path }
            ?? "torch_mmoe.py"
        guard FileManager.default.fileExists(atPath: script) else {
            print("PyTorch reference not run: \(script) not found (--torch-script)")
            return nil
        }
        let experts = w.model.experts
        let dims = w.model.expertHidden.map(String.init).joined(separator: ",")
        let steps = quick ? 5 : max(20, w.minimumSteps / 2)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--threads", "1", "--experts", "\(experts)", "--expert-dims", dims,
                             "--batch", "\(w.batchSize)", "--steps", "\(steps)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let rate = object["samples_per_s"] as? Double else {
            print("PyTorch reference for \(name) failed (status \(process.terminationStatus))")
            return nil
        }
        print("PyTorch \(object["torch"] ?? "?") \(name): \(format(rate, 0)) samples/s (1 thread)")
        return rate
    }
}

/// Counts allocations with ordo-one's malloc interposer (linked into this executable).
struct InterposedAllocationCounter: AllocationCounter {
    init() { MallocInterposerSwift.initialize() }

    func start() {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
    }

    func stop() -> Int {
        MallocInterposerSwift.unhook()
        return Int(MallocInterposerSwift.getStatistics().mallocCount)
    }
}

private func format(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }
private func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
private func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
private func costRow(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
        if i == 1 { return "  " + c.padding(toLength: 10, withPad: " ", startingAt: 0) }
        let width = i == 0 ? 2 : 12
        return String(repeating: " ", count: max(0, width - c.count)) + c
    }.joined()
}
private func row(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: 9, withPad: " ", startingAt: 0)
        : String(repeating: " ", count: max(0, 12 - c.count)) + c }.joined()
}
