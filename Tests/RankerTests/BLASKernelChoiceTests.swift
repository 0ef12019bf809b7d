import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `BLASKernelChoice`: the kernel set chosen for a CPU that OpenBLAS does not
/// know (a table of cases), and the executables running themselves again on
/// it (the `blas_kernels` of a `ranker train` run's telemetry).
final class BLASKernelChoiceTests: TemporaryDirectoryTestCase {
    static let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
                                      "avx512_bf16"]

    func testFittingCoreTypeOnlyReplacesTheGenericKernels() {
        func choice(_ selected: String, _ flags: Set<String>, _ environment: [String: String] = [:]) -> String? {
            BLASKernelChoice.fittingCoreType(selected: selected, cpuFlags: flags, environment: environment)
        }
        XCTAssertEqual(choice("Prescott", Self.avx512), "SkylakeX")
        XCTAssertEqual(choice("Prescott", Self.avx512.subtracting(["avx512_bf16"])), "SkylakeX")
        XCTAssertEqual(choice("Prescott", Self.avx512.subtracting(["avx512bw"])), "Haswell",
                       "AVX-512 without BW (Knights Landing) is not SkylakeX")
        XCTAssertEqual(choice("Prescott", ["sse2", "avx", "avx2", "fma"]), "Haswell")
        XCTAssertNil(choice("Prescott", ["sse2", "avx", "avx2"]), "AVX2 without FMA keeps the generic kernels")
        XCTAssertNil(choice("Prescott", ["sse2", "sse3"]))
        XCTAssertNil(choice("Prescott", []), "no /proc/cpuinfo: no change")
        XCTAssertNil(choice("SkylakeX", Self.avx512), "OpenBLAS's own choice stands")
        XCTAssertNil(choice("Zen", ["avx2", "fma"]))
        XCTAssertNil(choice("Prescott", Self.avx512, ["OPENBLAS_CORETYPE": "Prescott"]), "the user's choice stands")
        XCTAssertNil(choice("Prescott", Self.avx512, ["OPENBLAS_CORETYPE": ""]))
    }

    func testCPUFlagsAreTheFirstProcessorsFlagsLine() {
        let cpuinfo = """
            processor\t: 0
            model name\t: Intel(R) Xeon(R) Processor
            flags\t\t: fpu sse2 avx2 fma avx512f
            bugs\t\t: spectre_v1

            processor\t: 1
            flags\t\t: fpu sse2

            """
        XCTAssertEqual(BLASKernelChoice.cpuFlags(cpuinfo: cpuinfo), ["fpu", "sse2", "avx2", "fma", "avx512f"])
        XCTAssertEqual(BLASKernelChoice.cpuFlags(cpuinfo: "processor : 0\n"), [])
    }

    /// `ranker train` started without `OPENBLAS_CORETYPE` runs on the kernels
    /// the choice names for this machine (this test process, which cannot run
    /// itself again, shows what OpenBLAS picked on its own), and records them
    /// in its telemetry; with the variable set it keeps the user's kernels.
    func testRankerRunsOnTheFittingKernelsAndRecordsThem() throws {
        let inherited = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let expected = inherited != nil ? BLAS.coreName
            : BLASKernelChoice.fittingCoreType(selected: BLAS.coreName, cpuFlags: BLASKernelChoice.machineCPUFlags,
                                               environment: [:]) ?? BLAS.coreName
        XCTAssertEqual(try kernelsOfATrainingRun(environment: [:]), expected)
        XCTAssertEqual(try kernelsOfATrainingRun(environment: ["OPENBLAS_CORETYPE": "Prescott"]), "Prescott",
                       "OPENBLAS_CORETYPE set by the user is kept")
    }

    /// The `blas_kernels` of the run line of a two-step `ranker train`.
    private func kernelsOfATrainingRun(environment: [String: String]) throws -> String? {
        let out = temporary.appendingPathComponent("run-\(UUID().uuidString)")
        let config = BuiltExecutable.repositoryRoot.appendingPathComponent("configs/mmoe-synthetic.json")
        let result = try BuiltExecutable(name: "ranker").run(
            ["train", "--config", config.path, "--out", out.path, "--max-steps", "2", "--eval-every", "100000",
             "--progress", "none"],
            environment: environment, temporary: temporary)
        XCTAssertEqual(result.status, 0, result.standardError)
        let telemetry = try String(contentsOf: out.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        let runLine = try XCTUnwrap(telemetry.split(separator: "\n").first)
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(runLine.utf8)) as? [String: Any])
        XCTAssertEqual(record["type"] as? String, "run")
        return record["blas_kernels"] as? String
    }
}
