import CRankerKernels
import XCTest
@testable import Ranker

/// The C kernels (`Sources/CRankerKernels`) give bit-for-bit the same numbers
/// at every instruction-set level this CPU has (baseline x86-64, AVX2,
/// AVX-512), and BatchNorm with its ReLU fused in gives those of BatchNorm
/// followed by `ReLU`: widths with vector tails, column views of wider
/// matrices, stacked gradients, both modes.
final class KernelInstructionSetTests: XCTestCase {
    override func tearDown() {
        XCTAssertEqual(ranker_kernels_set_simd_level(ranker_kernels_cpu_simd_level()), 1)
        super.tearDown()
    }

    /// Every output of BatchNorm forward and backward (training then evaluation, fused ReLU or not)
    /// and of the bias column sums, as bit patterns.
    private func outputs(fused: Bool) -> [UInt32] {
        let rows = 19, width = 37, stack = 2
        let bn = BatchNormGradientTests.layer(width: width, group: .shared, seed: 5)
        var result: [UInt32] = []
        for mode in [BatchNormGradientTests.training(), ForwardMode.evaluation] {
            // z: a column view (ld > cols) of a wider matrix, one column far from zero.
            let wide = BatchNormGradientTests.input(rows: rows, cols: width + 5, seed: 7)
            let z = wide.view.cols(2 ..< 2 + width)
            if fused {
                bn.forward(z, mode: mode, relu: true)
            } else {
                bn.forward(z, mode: mode)
                ReLU.forward(z)
            }
            let upstream = StackedUpstream(tasks: stack, rows: rows, cols: width, seed: 9).stacked
            if fused {
                bn.backward(upstream.view, reluOutput: z)
            } else {
                ReLU.backward(gradient: upstream.view, output: z)
                bn.backward(upstream.view)
            }
            let sums = Matrix(rows: 1, cols: width)
            columnSums(of: upstream.view.rows(0 ..< rows), into: sums.data)
            for array in [wide.toArray(), upstream.toArray(), sums.toArray(), bn.runningMean.toArray(),
                          bn.runningVariance.toArray(), bn.gamma.grad.toArray(), bn.beta.grad.toArray()] {
                result += array.map(\.bitPattern)
            }
        }
        return result
    }

    func testEveryInstructionSetLevelGivesTheSameBits() {
        let cpu = ranker_kernels_cpu_simd_level()
        XCTAssertEqual(ranker_kernels_simd_level(), cpu, "the kernels run at the CPU's widest level")
        var reference: [UInt32]?
        for level in 0...cpu {
            XCTAssertEqual(ranker_kernels_set_simd_level(level), 1)
            let bits = outputs(fused: true)
            if let reference {
                XCTAssertEqual(bits, reference, "level \(level) against level 0")
            } else {
                reference = bits
            }
        }
        XCTAssertEqual(ranker_kernels_set_simd_level(cpu + 1), 0, "a level the CPU lacks is refused")
        if BLASKernelChoice.InstructionSets.machine.avx512 { XCTAssertEqual(cpu, 2, "AVX-512 is used where it exists") }
    }

    func testBatchNormWithItsReLUFusedGivesTheSameBitsAsBatchNormThenReLU() {
        XCTAssertEqual(outputs(fused: true), outputs(fused: false))
    }
}
