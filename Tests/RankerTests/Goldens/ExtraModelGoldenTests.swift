import Foundation
import XCTest

/// More `models.json` cases, generated with torch autograd in float64 by
/// `tools/goldens/models_reference.py` (seeds 2, 3, 6: PLE with 3 levels and
/// unequal expert counts, gates with and without bias, deeper towers), run
/// through the same checker as the shared golden file.
final class ExtraModelGoldenTests: XCTestCase {
    func testTorchGeneratedModelCases() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("GoldensExtra", isDirectory: true)
        let dirs = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("models-") }.sorted()
        XCTAssertGreaterThanOrEqual(dirs.count, 3)
        for dir in dirs {
            let data = try Data(contentsOf: root.appendingPathComponent(dir).appendingPathComponent("models.json"))
            let json = GoldenValue(try JSONSerialization.jsonObject(with: data), path: dir)
            let checker = GoldenChecker(file: dir)
            try checkModelsGolden(json, checker)
            XCTAssertGreaterThan(checker.checks, 500, dir)
            for f in checker.failures.prefix(10) { XCTFail("\(dir): \(f)") }
        }
    }
}
