import CRankerKernels
import Foundation

/// Which OpenBLAS kernel set a process runs on, and the fix for a CPU that is
/// newer than the OpenBLAS build.
///
/// A `DYNAMIC_ARCH` OpenBLAS (Debian's, Ubuntu's) picks its kernels once, when
/// the library loads, from the CPU's vendor, family and model. A model its
/// table does not know gets the generic `Prescott` kernels (SSE3, no FMA):
/// Debian 12's OpenBLAS 0.3.21 does that on Intel family 6 model 207 (Xeon
/// "Emerald Rapids", AVX-512), where the census-income MMoE then trains at
/// 28k samples/s instead of 86k (BENCHMARKS.md, "OpenBLAS on a CPU it does
/// not know"). OpenBLAS reads `OPENBLAS_CORETYPE` only when it loads, so the
/// only fix from inside a program is to run it again with the variable set:
/// `relaunchOnFittingKernels()` does that, first thing in `main`, in every
/// executable of the package (and a constructor does it for the test process,
/// `Tests/CTestBLASKernels`).
///
/// The choice (`fittingCoreType`, in C: `ranker_openblas_fitting_coretype`)
/// replaces only OpenBLAS's generic `Prescott`, and only when the user has not
/// set `OPENBLAS_CORETYPE` (any value, `Prescott` included, is theirs to
/// keep): AVX-512 F/BW/DQ/VL → `SkylakeX`, AVX2 with FMA → `Haswell`;
/// anything less keeps `Prescott`. (`Cooperlake`, OpenBLAS's name for AVX-512
/// with BF16, has the same single-precision kernels as `SkylakeX`, and 0.3.21
/// does not accept it in `OPENBLAS_CORETYPE`.)
///
/// The kernels decide the rounding of every product, so a run is bitwise
/// reproducible on the same kernel set; telemetry's run line records it
/// (`blas_kernels`).
public enum BLASKernelChoice {
    /// The instruction sets the choice looks at.
    public struct InstructionSets: Equatable, Sendable {
        /// AVX-512 F, BW, DQ and VL.
        public var avx512: Bool
        /// AVX2 and FMA.
        public var avx2FMA: Bool

        /// This machine's (CPUID, through the compiler's `__builtin_cpu_supports`).
        public static var machine: InstructionSets {
            InstructionSets(avx512: ranker_cpu_has_avx512() != 0, avx2FMA: ranker_cpu_has_avx2_fma() != 0)
        }
    }

    /// The `OPENBLAS_CORETYPE` a process should run with, or `nil` when
    /// OpenBLAS's own choice stands.
    ///
    /// - Parameters:
    ///   - selected: the kernel set OpenBLAS chose (`BLAS.coreName`).
    ///   - instructionSets: what the CPU has.
    ///   - userChose: `OPENBLAS_CORETYPE` is set in the environment (to anything).
    public static func fittingCoreType(selected: String, instructionSets: InstructionSets, userChose: Bool) -> String? {
        guard let core = ranker_openblas_fitting_coretype(selected, instructionSets.avx512 ? 1 : 0,
                                                          instructionSets.avx2FMA ? 1 : 0, userChose ? 1 : 0)
        else { return nil }
        return String(cString: core)
    }

    /// Runs this program again, same arguments, with `OPENBLAS_CORETYPE` set
    /// to the fitting kernel set when OpenBLAS fell back to its generic
    /// kernels on a CPU that has better ones (see the type's description).
    /// Returns without doing anything otherwise, and when the program cannot
    /// be executed again (then it goes on with the generic kernels).
    ///
    /// Call it first in `main`, before any thread or file is opened: the
    /// process image is replaced (`execv` of `/proc/self/exe`, same PID, same
    /// arguments and environment plus the one variable).
    public static func relaunchOnFittingKernels() {
        ranker_openblas_relaunch_on_fitting_kernels(CommandLine.unsafeArgv)
    }
}
