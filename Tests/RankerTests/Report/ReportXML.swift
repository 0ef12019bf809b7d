import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// A parsed report: fails the test when the document is not well-formed XML,
/// then answers XPath questions by element `id` and attributes (namespace-free
/// via `local-name()`).
struct ReportXML {
    let document: XMLDocument

    init(html: String, file: StaticString = #filePath, line: UInt = #line) throws {
        do {
            document = try XMLDocument(data: Data(html.utf8), options: [])
        } catch {
            XCTFail("report is not well-formed XML: \(error)", file: file, line: line)
            throw error
        }
    }

    /// An attribute's value. (`XMLElement.attribute(forName:)` of
    /// swift-corelibs-foundation misses attributes of namespaced elements, so
    /// the attribute list is searched.)
    static func attribute(_ name: String, of node: XMLNode) -> String? {
        (node as? XMLElement)?.attributes?.first { $0.name == name }?.stringValue
    }

    func nodes(_ xpath: String) throws -> [XMLNode] { try document.nodes(forXPath: xpath) }

    func element(id: String) throws -> XMLElement? { try nodes("//*[@id='\(id)']").first as? XMLElement }

    /// `data-series` names inside the element with this id, in document order.
    func seriesNames(in id: String) throws -> [String] {
        try nodes("//*[@id='\(id)']//*[@data-series]").compactMap { Self.attribute("data-series", of: $0) }
    }

    func markerKinds(in id: String) throws -> [String] {
        try nodes("//*[@id='\(id)']//*[@data-marker]").compactMap { Self.attribute("data-marker", of: $0) }
    }

    /// All text inside the element with this id.
    func text(of id: String) throws -> String { try element(id: id)?.stringValue ?? "" }
}
