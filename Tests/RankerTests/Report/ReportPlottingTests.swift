import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Ranker
@testable import RankerReport

/// The pieces under the report: downsampling, axes, the SVG chart, escaping.
final class ReportPlottingTests: XCTestCase {
    // MARK: BucketedSeries

    func testDownsamplingKeepsCountsMeansAndASingleSpike() {
        var series = BucketedSeries(capacity: 2000)
        let n = 100_000
        func value(_ step: Int) -> Double { step == 54_321 ? 1e6 : sin(Double(step) * 0.001) + Double(step % 7) * 0.01 }
        for step in 0..<n { series.add(step: step, value: value(step)) }

        // 100,000 / 32 = 3,125 buckets > 2,000, 100,000 / 64 = 1,563 <= 2,000: width 64
        XCTAssertEqual(series.width, 64)
        let points = series.points()
        XCTAssertEqual(points.count, (n + 63) / 64)
        XCTAssertEqual(points.reduce(0) { $0 + $1.count }, n)
        XCTAssertEqual(points.map(\.maximum).max(), 1e6, "the one-step spike survives in the envelope")
        // bucket k covers steps 64k ..< 64k + 64: compare with a direct computation
        for k in [0, 17, 848, 1562] {
            let steps = (64 * k)..<min(n, 64 * k + 64)
            let values = steps.map(value)
            XCTAssertEqual(points[k].mean, values.reduce(0, +) / Double(values.count), accuracy: 1e-9)
            XCTAssertEqual(points[k].minimum, values.min()!)
            XCTAssertEqual(points[k].maximum, values.max()!)
            XCTAssertEqual(points[k].step, Double(steps.reduce(0, +)) / Double(steps.count), accuracy: 1e-9)
        }

        let coarse = series.points(maxCount: 300)
        XCTAssertLessThanOrEqual(coarse.count, 300)
        XCTAssertEqual(coarse.reduce(0) { $0 + $1.count }, n)
        XCTAssertEqual(coarse.map(\.maximum).max(), 1e6)
    }

    func testReplayedStepsAfterARollbackJoinTheirBuckets() {
        var series = BucketedSeries(capacity: 1000)
        for step in 0..<100 { series.add(step: step, value: 1) }
        for step in 50..<100 { series.add(step: step, value: 3) }    // rollback to 50, replay
        series.add(step: 100, value: .nan)
        series.add(step: 101, value: .infinity)
        let points = series.points()
        XCTAssertEqual(points.count, 100)
        XCTAssertEqual(points[49].count, 1)
        XCTAssertEqual(points[60].count, 2)
        XCTAssertEqual(points[60].mean, 2)
        XCTAssertEqual(points[60].minimum, 1)
        XCTAssertEqual(points[60].maximum, 3)
        XCTAssertEqual(series.nonFiniteCount, 2)
        XCTAssertEqual(series.count, 150)
        XCTAssertEqual(points.map(\.step), (0..<100).map(Double.init), "points in step order")
    }

    func testSparseStepsStillFitTheCapacity() {
        var series = BucketedSeries(capacity: 10)
        for step in stride(from: 0, to: 10_000, by: 37) { series.add(step: step, value: Double(step)) }
        let points = series.points()
        XCTAssertLessThanOrEqual(points.count, 10)
        XCTAssertEqual(points.reduce(0) { $0 + $1.count }, (10_000 + 36) / 37)
        XCTAssertEqual(points.last!.maximum, Double(9990 - 9990 % 37))
        XCTAssertEqual(BucketedSeries.floorDivide(-1, 4), -1)
        XCTAssertEqual(BucketedSeries.floorDivide(-4, 4), -1)
        XCTAssertEqual(BucketedSeries.floorDivide(-5, 4), -2)
        XCTAssertEqual(BucketedSeries.floorDivide(7, 4), 1)
    }

    // MARK: ChartAxis

    func testLinearAxisUsesNiceTicks() {
        let axis = ChartAxis(linearFrom: 0.03, to: 0.97, targetTickCount: 5)
        XCTAssertEqual(axis.lower, 0)
        XCTAssertEqual(axis.upper, 1)
        XCTAssertEqual(axis.ticks.count, 6)
        for (tick, expected) in zip(axis.ticks, [0, 0.2, 0.4, 0.6, 0.8, 1.0]) { XCTAssertEqual(tick, expected, accuracy: 1e-12) }
        XCTAssertEqual(ChartAxis.niceStep(forRange: 3000, tickCount: 8), 500)
        XCTAssertEqual(ChartAxis.niceStep(forRange: 10, tickCount: 4), 2.5)
        let flat = ChartAxis(linearFrom: 2, to: 2)
        XCTAssertLessThan(flat.lower, 2)
        XCTAssertGreaterThan(flat.upper, 2)
        XCTAssertEqual(axis.fraction(0.25), 0.25, accuracy: 1e-12)
    }

    func testLogarithmicAxisCoversDecades() {
        let axis = ChartAxis(logarithmicFrom: 3e-7, to: 0.9)
        XCTAssertEqual(axis.lower, 1e-7, accuracy: 1e-20)
        XCTAssertEqual(axis.upper, 1)
        XCTAssertEqual(axis.ticks.count, 8)
        XCTAssertEqual(axis.ticks.map(axis.label), ["1e-7", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2", "1e-1", "1"])
        XCTAssertEqual(axis.fraction(1e-3), 4.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(axis.fraction(0), 0, "zero sits on the floor")
        let narrow = ChartAxis(logarithmicFrom: 0.3, to: 0.9)
        XCTAssertEqual(narrow.ticks, [0.1, 0.2, 0.5, 1])
        let wide = ChartAxis(logarithmicFrom: 1e-12, to: 1)
        XCTAssertEqual(wide.ticks.map(wide.label), ["1e-12", "1e-10", "1e-8", "1e-6", "1e-4", "1e-2", "1"])
        let sparse = ChartAxis(logarithmicFrom: 1e-8, to: 1, maximumTickCount: 5)
        XCTAssertEqual(sparse.ticks.map(sparse.label), ["1e-8", "1e-6", "1e-4", "1e-2", "1"])
        let uneven = ChartAxis(logarithmicFrom: 1e-7, to: 1, maximumTickCount: 5)
        XCTAssertEqual(uneven.lower, 1e-8, accuracy: 1e-20, "widened downwards so ticks stay on the top decade's grid")
    }

    func testNumberLabels() {
        XCTAssertEqual(ChartAxis.compact(1e-6), "1e-6")
        XCTAssertEqual(ChartAxis.compact(2.5e5), "2.5e5")
        XCTAssertEqual(ChartAxis.compact(60_000), "60000", "not 6e+04")
        XCTAssertEqual(ChartAxis.compact(1234), "1234")
        XCTAssertEqual(ChartAxis.compact(0.71234), "0.7123")
        XCTAssertEqual(ChartAxis.compact(.nan), "NaN")
        XCTAssertEqual(ChartAxis.stepLabel(2500), "2500")
        XCTAssertEqual(ChartAxis.stepLabel(12_500), "12.5k")
        XCTAssertEqual(ChartAxis.stepLabel(3_000_000), "3M")
    }

    // MARK: SVGLineChart

    func testChartMapsDomainCornersToPlotCorners() {
        var chart = SVGLineChart(id: "c", title: "t", yLabel: "y")
        chart.xDomain = 0...100
        chart.yDomain = 0...10
        chart.series = [.init(name: "s", color: "#000000", points: [
            .init(step: 0, mean: 0, minimum: 0, maximum: 0, count: 1),
            .init(step: 100, mean: 10, minimum: 10, maximum: 10, count: 1),
        ])]
        let svg = chart.render()
        let left = chart.marginLeft, right = chart.width - chart.marginRight
        let top = chart.marginTop, bottom = chart.height - chart.marginBottom
        XCTAssertTrue(svg.contains("d=\"M\(Int(left)) \(Int(bottom))L\(Int(right)) \(Int(top))\""), svg)
        XCTAssertFalse(svg.contains("data-envelope"), "single-value buckets draw no band")
    }

    func testLogChartPutsZeroOnTheFloorAndDrawsEnvelopes() throws {
        var chart = SVGLineChart(id: "c", title: "factors", yLabel: "factor")
        chart.yScale = .logarithmic
        chart.xDomain = 0...10
        chart.yDomain = 1e-6...1
        chart.series = [.init(name: "w", color: "#000000", points: [
            .init(step: 0, mean: 0.5, minimum: 0, maximum: 1, count: 4),
            .init(step: 10, mean: 1e-3, minimum: 1e-6, maximum: 1e-2, count: 4),
        ])]
        let figure = chart.render()
        let xml = try ReportXML(html: figure)
        let envelope = try XCTUnwrap(try xml.nodes("//*[@data-envelope]").first as? XMLElement, figure)
        let numbers = ReportXML.attribute("d", of: envelope)!.split(whereSeparator: { "MLZ ".contains($0) }).compactMap { Double($0) }
        // upper edge: (0, 1) and (10, 1e-2); lower edge back: (10, 1e-6), (0, 0 -> floor)
        let top = chart.marginTop, plot = chart.plotHeight
        XCTAssertEqual(numbers[1], top, accuracy: 0.05)
        XCTAssertEqual(numbers[3], top + plot * 2 / 6, accuracy: 0.05)
        XCTAssertEqual(numbers[5], top + plot, accuracy: 0.05)
        XCTAssertEqual(numbers[7], top + plot, accuracy: 0.05)
    }

    // MARK: XMLText

    func testEscapingCoversMarkupQuotesAndForbiddenCharacters() {
        XCTAssertEqual(XMLText.escape("<a href='x'>&\"\u{1}\u{FFFF}\tok é"),
                       "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\u{FFFD}\u{FFFD}\tok é")
    }
}
