import Foundation

/// Which OpenBLAS kernel set a process runs on, and the fix for a CPU that is
/// newer than the OpenBLAS build.
///
/// A `DYNAMIC_ARCH` OpenBLAS (Debian's, Ubuntu's) picks its kernels once, when
/// the library loads, from the CPU's vendor, family and model. A model its
/// table does not know gets the generic `Prescott` kernels (SSE3, no FMA):
/// Debian 12's OpenBLAS 0.3.21 does that on Intel family 6 model 207 (Xeon
/// "Emerald Rapids", AVX-512 with BF16), where the census-income MMoE then
/// trains at 28k samples/s instead of 86k (BENCHMARKS.md, "OpenBLAS on a CPU
/// it does not know"). OpenBLAS reads `OPENBLAS_CORETYPE` when it loads, so
/// the only fix from inside a program is to run it again with the variable
/// set: `relaunchOnFittingKernels()` does that, first thing in `main`, in
/// every executable of the package.
///
/// The choice (`fittingCoreType`) is made from the CPU's instruction-set flags,
/// only when OpenBLAS fell back to `Prescott` and only when the user has not
/// set `OPENBLAS_CORETYPE` (any value, `Prescott` included, is theirs to
/// keep): AVX-512 F/BW/DQ/VL → `SkylakeX`, AVX2 with FMA → `Haswell`;
/// anything less keeps `Prescott`. (`Cooperlake`, OpenBLAS's name for
/// AVX-512 with BF16, has the same single-precision kernels as `SkylakeX`,
/// and 0.3.21 does not accept it in `OPENBLAS_CORETYPE`.)
///
/// The kernels decide the rounding of every product, so a run is bitwise
/// reproducible on the same kernel set; telemetry's run line records it
/// (`blas_kernels`).
public enum BLASKernelChoice {
    /// The kernel set OpenBLAS falls back to for a CPU it does not recognise.
    public static let genericCoreType = "Prescott"

    /// The `OPENBLAS_CORETYPE` a process should run with, or `nil` when
    /// OpenBLAS's own choice stands.
    ///
    /// - Parameters:
    ///   - selected: the kernel set OpenBLAS chose (`BLAS.coreName`).
    ///   - cpuFlags: the CPU's instruction-set flags as Linux names them in
    ///     `/proc/cpuinfo` (`avx2`, `fma`, `avx512f`, …).
    ///   - environment: the process environment; `OPENBLAS_CORETYPE` in it,
    ///     whatever its value, means no change.
    public static func fittingCoreType(selected: String, cpuFlags: Set<String>,
                                       environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil,
              selected.caseInsensitiveCompare(genericCoreType) == .orderedSame else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) {
            return "SkylakeX"
        }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The instruction-set flags of the first processor in `cpuinfo` (the
    /// text of `/proc/cpuinfo`): the words after `flags :`. Empty when there
    /// is no such line.
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// This machine's CPU flags (`/proc/cpuinfo`; empty where it cannot be read).
    public static var machineCPUFlags: Set<String> {
        cpuFlags(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
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
        guard let core = fittingCoreType(selected: BLAS.coreName, cpuFlags: machineCPUFlags,
                                         environment: ProcessInfo.processInfo.environment) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // execv failed: the generic kernels stay, and the environment says so
    }
}
