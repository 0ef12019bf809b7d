import Foundation
import XCTest
@testable import Ranker
import RankerTestSupport

/// `BLASKernelChoice`: the kernel set chosen for a CPU that OpenBLAS does not
/// know (a table of cases), the test process and the executables running
/// themselves again on it (the `blas_kernels` of a `ranker train` run's telemetry).
final class BLASKernelChoiceTests: TemporaryDirectoryTestCase {
    func testFittingCoreTypeOnlyReplacesTheGenericKernels() {
        typealias Sets = BLASKernelChoice.InstructionSets
        let avx512 = Sets(avx512: true, avx2FMA: true), avx2 = Sets(avx512: false, avx2FMA: true)
        let neither = Sets(avx512: false, avx2FMA: false)
        func choice(_ selected: String, _ sets: Sets, userChose: Bool = false) -> String? {
            BLASKernelChoice.fittingCoreType(selected: selected, instructionSets: sets, userChose: userChose)
        }
        XCTAssertEqual(choice("Prescott", avx512), "SkylakeX")
        XCTAssertEqual(choice("PRESCOTT", avx512), "SkylakeX", "OpenBLAS's names are case-insensitive")
        XCTAssertEqual(choice("Prescott", avx2), "Haswell")
        XCTAssertNil(choice("Prescott", neither), "a CPU without AVX2 and FMA keeps the generic kernels")
        XCTAssertNil(choice("SkylakeX", avx512), "OpenBLAS's own choice stands")
        XCTAssertNil(choice("Zen", avx2))
        XCTAssertNil(choice("Haswell", avx512))
        XCTAssertNil(choice("Prescott", avx512, userChose: true), "the user's choice stands")
    }

    /// The test process itself runs on the fitting kernels (the constructor of
    /// `Tests/CTestBLASKernels`, which sets `OPENBLAS_CORETYPE` when it runs the
    /// process again): never on the generic ones where the CPU has AVX2 and FMA,
    /// unless the user asked for them.
    func testThisProcessIsNotOnTheGenericKernelsOfACapableCPU() {
        let asked = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        if BLASKernelChoice.InstructionSets.machine.avx2FMA && asked?.lowercased() != "prescott" {
            XCTAssertNotEqual(BLAS.coreName.lowercased(), "prescott", "OPENBLAS_CORETYPE: \(asked ?? "(not set)")")
        }
    }

    /// `ranker train` started without `OPENBLAS_CORETYPE` runs on kernels
    /// OpenBLAS or the choice picked, never on the generic ones where the CPU
    /// has AVX2 and FMA, and records them in its telemetry; with the variable
    /// set it keeps the user's kernels.
    func testRankerRunsOnTheFittingKernelsAndRecordsThem() throws {
        let kernels = try XCTUnwrap(try kernelsOfATrainingRun(environment: [:], removing: "OPENBLAS_CORETYPE"))
        if BLASKernelChoice.InstructionSets.machine.avx2FMA {
            XCTAssertNotEqual(kernels.lowercased(), "prescott")
        }
        XCTAssertNil(BLASKernelChoice.fittingCoreType(selected: kernels, instructionSets: .machine, userChose: false))
        XCTAssertEqual(try kernelsOfATrainingRun(environment: ["OPENBLAS_CORETYPE": "Prescott"]), "Prescott",
                       "OPENBLAS_CORETYPE set by the user is kept")
    }

    /// The `blas_kernels` of the run line of a two-step `ranker train`.
    private func kernelsOfATrainingRun(environment: [String: String], removing: String? = nil) throws -> String? {
        let out = temporary.appendingPathComponent("run-\(UUID().uuidString)")
        let config = BuiltExecutable.repositoryRoot.appendingPathComponent("configs/mmoe-synthetic.json")
        let result = try BuiltExecutable(name: "ranker").run(
            ["train", "--config", config.path, "--out", out.path, "--max-steps", "2", "--eval-every", "100000",
             "--progress", "none"],
            environment: environment, removing: removing.map { [$0] } ?? [], temporary: temporary)
        XCTAssertEqual(result.status, 0, result.standardError)
        let telemetry = try String(contentsOf: out.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
        let runLine = try XCTUnwrap(telemetry.split(separator: "\n").first)
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(runLine.utf8)) as? [String: Any])
        XCTAssertEqual(record["type"] as? String, "run")
        return record["blas_kernels"] as? String
    }
}
